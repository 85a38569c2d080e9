from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="catalog:book-list", permanent=False)),
    path("books/", include("catalog.urls")),
    path("orders/", include("orders.urls")),
]
