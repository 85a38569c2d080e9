from django import template

from catalog.services import format_price, star_rating

register = template.Library()


@register.filter
def money(amount, currency=None):
    return format_price(amount, currency)


@register.filter
def stars(value):
    return star_rating(value)


@register.simple_tag
def stock_label(book, low=3):
    if book.stock == 0:
        return "sold out"
    if book.stock <= low:
        return f"only {book.stock} left"
    return "in stock"
