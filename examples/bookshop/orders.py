"""Carts, orders and an async payment step."""

import asyncio


class Cart:
    def __init__(self, customer):
        self.customer = customer
        self.lines = []

    def add(self, book, quantity=1):
        self.lines.append((book, quantity))

    def total(self):
        return sum(book.price * quantity for book, quantity in self.lines)

    def is_empty(self):
        return not self.lines


def summarise(cart):
    print(f"{cart.customer}: {len(cart.lines)} lines, {cart.total():.2f}")


def receipt_lines(cart):
    for book, quantity in cart.lines:
        yield f"{quantity} x {book.title}"
    return len(cart.lines)


def shipping_cost(total, express=False):
    if total > 50:
        return 0
    return 7.5 if express else 3.0


async def charge(cart, card_number):
    await asyncio.sleep(0)
    return {"customer": cart.customer, "amount": cart.total(), "ok": len(card_number) == 16}


def checkout(cart, card_number):
    if cart.is_empty():
        return None
    payment = asyncio.run(charge(cart, card_number))
    return payment if payment["ok"] else None
