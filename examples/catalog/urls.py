from django.urls import path

from catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.BookListView.as_view(), name="book-list"),
    path("search/", views.search, name="search"),
    path("stats/", views.stats, name="stats"),
    path("api/authors/<int:pk>/", views.author_api, name="author-api"),
    path("api/<slug:slug>/", views.book_api, name="book-api"),
    path("<slug:slug>/", views.BookDetailView.as_view(), name="book-detail"),
    path("<slug:slug>/reviews/", views.add_review, name="add-review"),
]
