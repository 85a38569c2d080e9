"""Traffic for the demo: a few hundred requests through the shop's whole middleware chain.

Each visitor is a test client with its own session (cookies): it browses, searches, reviews, fills a
cart and checks out, with some mistakes on the way (invalid forms, unknown coupons, missing pages), the
way real traffic does. The async stats view is called through ``AsyncClient``, so it runs on an event
loop as under an ASGI server. ``TypeHarvestMiddleware`` (see shopsite/settings.py) traces every request.

    python drive.py --requests 300 [--report requests.json]
"""

import argparse
import asyncio
import json
import os
import random
import sys
import time
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import AsyncClient, Client  # noqa: E402
from django.utils.text import slugify  # noqa: E402

from catalog.models import Author, Book, Review  # noqa: E402

AUTHORS = [
    ("Ursula K. Le Guin", 1929, "US"),
    ("Terry Pratchett", 1948, "GB"),
    ("Carl Sagan", 1934, "US"),
    ("Mary Beard", 1955, "GB"),
    ("Donald Knuth", 1938, "US"),
    ("Barbara Liskov", 1939, "US"),
    ("Yuval Noah Harari", 1976, "IL"),
    ("Chimamanda Ngozi Adichie", 1977, "NG"),
]
BOOKS = [
    ("The Left Hand of Darkness", 0, "fiction", "11.90", 12),
    ("The Dispossessed", 0, "fiction", "12.50", 3),
    ("A Wizard of Earthsea", 0, "fiction", "9.99", 0),
    ("Guards! Guards!", 1, "fiction", "10.99", 25),
    ("Small Gods", 1, "fiction", "10.99", 8),
    ("Going Postal", 1, "fiction", "11.49", 2),
    ("Cosmos", 2, "science", "18.00", 14),
    ("Pale Blue Dot", 2, "science", "16.50", 6),
    ("The Demon-Haunted World", 2, "science", "15.00", 1),
    ("SPQR", 3, "history", "24.00", 9),
    ("Women & Power", 3, "history", "12.00", 4),
    ("The Art of Computer Programming", 4, "computing", "189.00", 2),
    ("Concrete Mathematics", 4, "computing", "64.95", 5),
    ("Program Development in Java", 5, "computing", "58.00", 3),
    ("Sapiens", 6, "history", "22.00", 30),
    ("Homo Deus", 6, "history", "21.00", 0),
    ("Americanah", 7, "fiction", "14.99", 11),
    ("Half of a Yellow Sun", 7, "fiction", "13.99", 7),
]
READERS = ["ada", "grace", "alan", "edsger", "margaret", "linus", "guido", "barbara"]
REVIEW_TEXTS = [
    "Loved it.",
    "A slow start,   but the second half is wonderful and I could not put it down.",
    "Not for me: too long, too many characters, and an ending that left me cold after so many pages.",
    "",
]


def seed(rng):
    """A fresh database: migrated, emptied, and stocked with authors, books and reviews."""
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    authors = Author.objects.bulk_create(
        Author(name=name, born=born, country=country) for name, born, country in AUTHORS
    )
    books = Book.objects.bulk_create(
        Book(
            title=title,
            slug=slugify(title),
            author=authors[author],
            genre=genre,
            price=Decimal(price),
            stock=stock,
            published=date(1960, 1, 1) + timedelta(days=rng.randrange(20000)),
        )
        for title, author, genre, price, stock in BOOKS
    )
    Review.objects.bulk_create(
        Review(book=book, reader=rng.choice(READERS), rating=rng.randint(2, 5), text=rng.choice(REVIEW_TEXTS))
        for book in books
        for _ in range(rng.randrange(4))
    )
    return [book.slug for book in books]


class Traffic:
    """Sends requests, counts them by status, and fails loudly on a server error."""

    def __init__(self, rng, slugs):
        self.rng = rng
        self.slugs = slugs
        self.statuses = Counter()
        self.orders = []

    def record(self, method, path, response, expected):
        self.statuses[response.status_code] += 1
        if response.status_code != expected:
            raise SystemExit(f"{method} {path}: status {response.status_code}, expected {expected}")
        return response

    def get(self, client, path, expected=200, **params):
        return self.record("GET", path, client.get(path, params), expected)

    def post(self, client, path, data, expected=302):
        return self.record("POST", path, client.post(path, data), expected)

    async def aget(self, client, path, expected=200, **params):
        return self.record("GET", path, await client.get(path, params), expected)

    @property
    def count(self):
        return self.statuses.total()

    def visitor(self):
        """One visitor's session: browse, search, review, buy."""
        rng, client = self.rng, Client()
        slug = rng.choice(self.slugs)
        self.get(client, "/", expected=302)
        self.get(client, "/books/", page=rng.randint(1, 3))
        self.get(client, "/books/", genre=rng.choice(["fiction", "science", "history", "computing"]))
        self.get(client, f"/books/{slug}/", **rng.choice([{}, {"tier": "member"}, {"coupon": "spring10"}]))
        self.get(client, f"/books/{slug}/", coupon="NOPE")  # an unknown coupon falls back to the list price
        self.get(client, "/books/search/", **rng.choice([{"q": "the"}, {"q": "sagan"}, {"genre": "history"}]))
        self.get(client, "/books/search/", price=rng.choice(["10-20", "30-5", " - 15"]), in_stock="on")
        self.get(client, "/books/search/", price="cheap")  # invalid: stays on the form
        self.get(client, "/books/search/")
        self.get(client, f"/books/api/{slug}/", **rng.choice([{}, {"tier": "staff"}, {"coupon": "BOOKWORM"}]))
        self.get(client, f"/books/api/{slug}/", expected=400, coupon="FREE")
        self.get(client, f"/books/api/authors/{rng.randint(1, len(AUTHORS))}/")
        self.get(client, "/books/no-such-book/", expected=404)
        if rng.random() < 0.5:
            review = {"reader": rng.choice(READERS), "rating": rng.randint(1, 5), "text": rng.choice(REVIEW_TEXTS)}
            self.post(client, f"/books/{slug}/reviews/", review)
        else:
            self.post(client, f"/books/{slug}/reviews/", {"reader": "admin", "rating": 9}, expected=400)
        self.shop(client)

    def shop(self, client):
        rng = self.rng
        self.get(client, "/orders/cart/")
        if rng.random() < 0.15:  # checking out an empty cart
            self.post(client, "/orders/checkout/", {"email": "x@example.com", "country": "DE"}, expected=400)
            return
        for slug in rng.sample(self.slugs, rng.randint(1, 3)):
            self.post(client, f"/orders/cart/add/{slug}/", {"quantity": rng.randint(1, 3)})
        self.post(client, f"/orders/cart/add/{self.slugs[0]}/", {"quantity": 0}, expected=400)
        self.get(client, "/orders/cart/")
        self.post(client, "/orders/checkout/", {"email": "not-an-email", "country": "FR"}, expected=400)
        checkout = {
            "email": f"{rng.choice(READERS)}@example.com",
            "country": rng.choice(["DE", "FR", "NL", "US"]),
            "coupon": rng.choice(["", "", "spring10"]),
            "express": rng.choice(["", "on"]),
        }
        response = client.post("/orders/checkout/", checkout)
        if response.status_code == 302:
            self.record("POST", "/orders/checkout/", response, 302)
            order = response.url.rstrip("/").rsplit("/", 1)[1]
            self.get(client, f"/orders/{order}/")
            self.get(client, f"/orders/{order}/api/")
        else:  # sold out meanwhile: the form says so
            self.record("POST", "/orders/checkout/", response, 400)
        self.get(client, "/orders/bestsellers/", **rng.choice([{}, {"days": 7, "count": 3}]))

    async def stats(self, rounds):
        """The async view, on an event loop (as under uvicorn) through AsyncClient."""
        client = AsyncClient()
        for index in range(rounds):
            genre = ["", "fiction", "science", "computing"][index % 4]
            await self.aget(client, "/books/stats/", **({"genre": genre} if genre else {}))
        await self.aget(client, "/books/stats/", expected=404, genre="poetry")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="about how many requests to send")
    parser.add_argument("--report", help="write the counts to this JSON file")
    parser.add_argument("--seed", type=int, default=2024)
    options = parser.parse_args()
    rng = random.Random(options.seed)
    started = time.perf_counter()
    traffic = Traffic(rng, seed(rng))
    asyncio.run(traffic.stats(max(4, options.requests // 20)))
    while traffic.count < options.requests:
        traffic.visitor()
    traffic.get(Client(), "/books/stats/")  # the async view from a sync (WSGI) handler too
    seconds = time.perf_counter() - started
    by_status = ", ".join(f"{count} × {status}" for status, count in sorted(traffic.statuses.items()))
    print(f"sent {traffic.count} requests in {seconds:.1f} s ({by_status})")
    if options.report:
        with open(options.report, "w", encoding="utf-8") as report:
            json.dump({"requests": traffic.count, "statuses": traffic.statuses, "seconds": seconds}, report)


if __name__ == "__main__":
    sys.exit(main())
