"""Drive the shop: a few hundred calls with real values, as production traffic would."""

from bookshop.catalog import Book, Catalog
from bookshop.orders import Cart, checkout, receipt_lines, shipping_cost, summarise

ROWS = [
    ("978-0-13-110362-7", "The C Programming Language", "Brian Kernighan", 45.5),
    ("978-0-262-03384-8", "Introduction to Algorithms", "Thomas Cormen", 89.0),
    ("978-1-59327-599-0", "Automate the Boring Stuff", "Al Sweigart", 29.95),
    ("978-0-596-51774-8", "JavaScript: The Good Parts", "Douglas Crockford", 25.0),
]


def main():
    catalog = Catalog()
    for row in ROWS:
        catalog.add(Book.from_row(row))
    for round_number in range(50):
        for word in ("the", "language", "stuff"):
            catalog.search(word, limit=3)
        catalog.search("the", author=None)
        book = catalog.get(ROWS[round_number % len(ROWS)][0])
        cart = Cart(f"customer-{round_number}")
        cart.add(book, quantity=1 + round_number % 3)
        cart.add(book.with_discount(10))
        list(receipt_lines(cart))
        shipping_cost(cart.total(), express=round_number % 2 == 0)
        checkout(cart, "4111111111111111")
    summarise(cart)
    print(f"{len(catalog)} books, {sum(catalog.prices()):.2f} in stock, by author: {catalog.by_author()}")
    print(book.author.initials())


main()
