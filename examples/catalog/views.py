from django.conf import settings
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import DetailView, ListView

from catalog.forms import ReviewForm, SearchForm
from catalog.models import Author, Book
from catalog.services import (
    PriceQuote,
    UnknownCoupon,
    book_summary,
    catalog_stats,
    rating_histogram,
    recommend,
)


class BookListView(ListView):
    model = Book
    paginate_by = settings.BOOKS_PER_PAGE

    def get_queryset(self):
        books = Book.objects.with_ratings().select_related("author").order_by("title")
        return books.of_genre(self.request.GET.get("genre"))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["genres"] = Book.Genre.choices
        context["genre"] = self.request.GET.get("genre", "")
        return context


class BookDetailView(DetailView):
    model = Book

    def get_queryset(self):
        return Book.objects.select_related("author").prefetch_related("reviews")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        book = self.object
        context["quote"] = quote_for(book, self.request.GET)
        context["recommended"] = recommend(book)
        context["histogram"] = rating_histogram(book.reviews.all())
        context.setdefault("form", ReviewForm())
        return context


def quote_for(book, params):
    try:
        return PriceQuote.for_book(book, params.get("tier", "standard"), params.get("coupon"))
    except UnknownCoupon:
        return PriceQuote.for_book(book)


@require_GET
def search(request):
    form = SearchForm(request.GET or None)
    books = []
    if form.is_valid():
        books = form.filter(Book.objects.select_related("author"))
    return render(request, "catalog/search.html", {"form": form, "books": books})


@require_POST
def add_review(request, slug):
    book = get_object_or_404(Book, slug=slug)
    form = ReviewForm(request.POST)
    if form.is_valid():
        review = form.save(commit=False)
        review.book = book
        review.save()
        return redirect(book)
    context = {"book": book, "object": book, "form": form, "quote": quote_for(book, {})}
    return render(request, "catalog/book_detail.html", context, status=400)


@require_GET
def book_api(request, slug):
    book = get_object_or_404(Book.objects.select_related("author"), slug=slug)
    try:
        quote = PriceQuote.for_book(book, request.GET.get("tier", "standard"), request.GET.get("coupon"))
    except UnknownCoupon as error:
        return JsonResponse({"error": f"unknown coupon {error}"}, status=400)
    return JsonResponse(book_summary(book, quote))


@require_GET
def author_api(request, pk):
    author = get_object_or_404(Author, pk=pk)
    books = [book_summary(book) for book in author.books.all()]
    return JsonResponse({"name": author.name, "initials": author.initials(), "books": books})


async def stats(request):
    genre = request.GET.get("genre")
    if genre and genre not in Book.Genre.values:
        raise Http404(f"no genre {genre!r}")
    return JsonResponse(await catalog_stats(genre))
