from django.urls import path

from orders import views

app_name = "orders"
urlpatterns = [
    path("cart/", views.cart_detail, name="cart"),
    path("cart/add/<slug:slug>/", views.add_item, name="add-item"),
    path("checkout/", views.CheckoutView.as_view(), name="checkout"),
    path("bestsellers/", views.bestsellers, name="bestsellers"),
    path("<int:pk>/", views.order_detail, name="order-detail"),
    path("<int:pk>/api/", views.order_api, name="order-api"),
]
