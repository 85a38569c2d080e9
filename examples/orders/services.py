"""Carts, totals with tax and shipping, and placing orders."""

from dataclasses import asdict, dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from catalog.models import Book
from catalog.services import apply_discount, discount_rate, format_price
from orders.models import Cart, CartItem, Order, OrderLine

# Reduced VAT rates on books.
TAX_RATES = {"DE": Decimal("0.07"), "FR": Decimal("0.055"), "NL": Decimal("0.09"), "US": Decimal("0")}
SHIPPING = {"DE": Decimal("3.50"), "FR": Decimal("4.90"), "NL": Decimal("4.50"), "US": Decimal("12.00")}
EXPRESS_SURCHARGE = Decimal("6.00")


class CheckoutError(Exception):
    pass


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    shipping: Decimal
    total: Decimal


def cart_for(session):
    if not session.session_key:
        session.save()
    cart, _ = Cart.objects.get_or_create(session_key=session.session_key)
    return cart


def add_to_cart(cart, book, quantity=1):
    item, created = CartItem.objects.get_or_create(cart=cart, book=book, defaults={"quantity": quantity})
    if not created:
        item.quantity = F("quantity") + quantity
        item.save(update_fields=["quantity"])
        item.refresh_from_db()
    return item


def cart_lines(cart):
    for item in cart.items.select_related("book").order_by("book__title"):
        yield item.book, item.quantity, item.line_total()


def shipping_for(subtotal, country, express=False):
    if subtotal >= Decimal(settings.SHOP["FREE_SHIPPING_ABOVE"]) and country != "US":
        cost = Decimal("0")
    else:
        cost = SHIPPING.get(country, SHIPPING["US"])
    return cost + EXPRESS_SURCHARGE if express else cost


def compute_totals(cart, country="DE", tier="standard", coupon=None, express=False):
    rate = discount_rate(tier, coupon)
    subtotal = sum((line_total for _, _, line_total in cart_lines(cart)), Decimal("0"))
    discounted = apply_discount(subtotal, rate)
    tax = (discounted * TAX_RATES.get(country, Decimal("0"))).quantize(Decimal("0.01"), ROUND_HALF_UP)
    shipping = shipping_for(discounted, country, express)
    return Totals(subtotal, subtotal - discounted, tax, shipping, discounted + tax + shipping)


@transaction.atomic
def place_order(cart, email, country, coupon=None, express=False):
    lines = list(cart_lines(cart))
    if not lines:
        raise CheckoutError("Your cart is empty.")
    for book, quantity, _ in lines:
        if not book.is_available(quantity):
            raise CheckoutError(f"Only {book.stock} of {book.title!r} left.")
    totals = compute_totals(cart, country, coupon=coupon, express=express)
    order = Order.objects.create(email=email, country=country, **asdict(totals))
    OrderLine.objects.bulk_create(
        OrderLine(order=order, book=book, quantity=quantity, unit_price=book.price)
        for book, quantity, _ in lines
    )
    for book, quantity, _ in lines:
        Book.objects.filter(pk=book.pk).update(stock=F("stock") - quantity)
    cart.items.all().delete()
    return order


class InvoiceFormatter:
    def __init__(self, order, width=48):
        self.order = order
        self.width = width

    def row(self, label, amount):
        text = format_price(amount)
        return f"{label[: self.width - len(text) - 1]:<{self.width - len(text)}}{text}"

    def lines(self):
        yield f"Invoice {self.order.reference}".center(self.width)
        for line in self.order.lines.select_related("book"):
            yield self.row(f"{line.quantity} x {line.book.title}", line.unit_price * line.quantity)
        yield "-" * self.width
        for label in ("subtotal", "discount", "tax", "shipping", "total"):
            yield self.row(label.capitalize(), getattr(self.order, label))

    def render(self):
        return "\n".join(self.lines())


class Bestsellers:
    """The books most ordered over the last ``days`` days."""

    def __init__(self, days=30):
        self.days = days

    def since(self):
        return timezone.now() - timedelta(days=self.days)

    def top(self, count=5):
        rows = (
            Book.objects.filter(orderline__order__created__gte=self.since())
            .annotate(sold=Sum("orderline__quantity"))
            .order_by("-sold", "title")[:count]
        )
        return [(book.title, book.sold) for book in rows]
