"""The shop's business rules, kept out of the views: prices, discounts, recommendations, formatting."""

import difflib
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Avg, Count

from catalog.models import Book, Review

CENTS = Decimal("0.01")
TIER_DISCOUNTS = {"standard": Decimal("0"), "member": Decimal("0.05"), "staff": Decimal("0.20")}
COUPONS = {"SPRING10": Decimal("0.10"), "BOOKWORM": Decimal("0.15")}


class UnknownCoupon(ValueError):
    pass


def discount_rate(tier, coupon=None):
    rate = TIER_DISCOUNTS.get(tier, Decimal("0"))
    if coupon:
        code = coupon.strip().upper()
        if code not in COUPONS:
            raise UnknownCoupon(code)
        rate = max(rate, COUPONS[code])
    return rate


def apply_discount(price, rate):
    return (price * (1 - rate)).quantize(CENTS, rounding=ROUND_HALF_UP)


def format_price(amount, currency=None):
    currency = currency or settings.SHOP["CURRENCY"]
    symbol = {"EUR": "€", "USD": "$", "GBP": "£"}.get(currency, currency + " ")
    return f"{symbol}{amount:,.2f}"


def star_rating(value, out_of=5):
    if value is None:
        return "not rated yet"
    full = int(round(value))
    return "★" * full + "☆" * (out_of - full)


@dataclass
class PriceQuote:
    book: Book
    base: Decimal
    discount: Decimal
    final: Decimal
    currency: str = "EUR"

    @classmethod
    def for_book(cls, book, tier="standard", coupon=None):
        rate = discount_rate(tier, coupon)
        final = apply_discount(book.price, rate)
        return cls(book, book.price, book.price - final, final, settings.SHOP["CURRENCY"])

    def as_dict(self):
        return {
            "price": str(self.base),
            "final": str(self.final),
            "discount": str(self.discount),
            "currency": self.currency,
        }


def book_summary(book, quote=None):
    rating = book.average_rating()
    summary = {
        "title": book.title,
        "slug": book.slug,
        "author": book.author.name,
        "genre": book.get_genre_display(),
        "price": format_price(book.price),
        "rating": rating,
        "stars": star_rating(rating),
        "in_stock": book.is_available(),
        "url": book.get_absolute_url(),
    }
    if quote is not None:
        summary["quote"] = quote.as_dict()
    return summary


def parse_price_range(text):
    """'10-25' → (Decimal('10'), Decimal('25')); '' or nonsense → None."""
    low, sep, high = (text or "").partition("-")
    if not sep:
        return None
    try:
        bounds = Decimal(low.strip() or "0"), Decimal(high.strip())
    except ArithmeticError:
        return None
    return (bounds[1], bounds[0]) if bounds[0] > bounds[1] else bounds


def similar_titles(title, candidates, cutoff=0.3):
    for candidate in candidates:
        score = difflib.SequenceMatcher(None, title.lower(), candidate.title.lower()).ratio()
        if score >= cutoff and candidate.title != title:
            yield candidate, round(score, 2)


def recommend(book, limit=3):
    same_author = list(Book.objects.filter(author=book.author).exclude(pk=book.pk).in_stock()[:limit])
    if len(same_author) >= limit:
        return same_author
    others = Book.objects.of_genre(book.genre).exclude(pk=book.pk).exclude(author=book.author)
    ranked = sorted(similar_titles(book.title, others, cutoff=0.0), key=lambda pair: -pair[1])
    return same_author + [candidate for candidate, _ in ranked[: limit - len(same_author)]]


def rating_histogram(reviews):
    histogram = dict.fromkeys(range(1, 6), 0)
    for review in reviews:
        histogram[review.rating] += 1
    return histogram


async def catalog_stats(genre=None):
    books = Book.objects.of_genre(genre)
    total = await books.acount()
    in_stock = await books.in_stock().acount()
    reviews = await Review.objects.filter(book__in=books).aaggregate(average=Avg("rating"), count=Count("id"))
    by_genre = {}
    async for book in books.select_related("author"):
        by_genre.setdefault(book.get_genre_display(), []).append(book.author.initials())
    average = reviews["average"]
    return {
        "books": total,
        "in_stock": in_stock,
        "reviews": reviews["count"],
        "average_rating": round(average, 2) if average is not None else None,
        "authors_by_genre": by_genre,
    }
