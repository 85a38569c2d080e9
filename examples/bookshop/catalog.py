"""Books, authors and a catalog to search them: plain, untyped Python."""


class Author:
    def __init__(self, name, born=None):
        self.name = name
        self.born = born

    def initials(self):
        return "".join(part[0] for part in self.name.split())


class Book:
    def __init__(self, isbn, title, author, price, tags=()):
        self.isbn = isbn
        self.title = title
        self.author = author
        self.price = price
        self.tags = set(tags)

    def with_discount(self, percent):
        return Book(self.isbn, self.title, self.author, round(self.price * (100 - percent) / 100, 2), self.tags)

    @classmethod
    def from_row(cls, row):
        isbn, title, author_name, price = row
        return cls(isbn, title, Author(author_name), price)

    @staticmethod
    def normalise_isbn(text):
        return text.replace("-", "").strip()


class Catalog:
    def __init__(self):
        self._books = {}

    def add(self, book):
        self._books[Book.normalise_isbn(book.isbn)] = book
        return self

    def get(self, isbn):
        return self._books.get(Book.normalise_isbn(isbn))

    def search(self, *words, limit=10, **filters):
        found = []
        for book in self._books.values():
            if all(w.lower() in book.title.lower() for w in words) and all(
                getattr(book, k) == v for k, v in filters.items()
            ):
                found.append(book)
        return found[:limit]

    def by_author(self):
        grouped = {}
        for book in self._books.values():
            grouped.setdefault(book.author.name, []).append(book.isbn)
        return grouped

    def prices(self):
        for book in self._books.values():
            yield book.price

    def __len__(self):
        return len(self._books)
