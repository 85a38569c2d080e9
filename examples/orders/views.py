from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View
from django.views.decorators.http import require_POST

from catalog.models import Book
from orders.forms import AddToCartForm, CheckoutForm
from orders.models import Order
from orders.services import (
    Bestsellers,
    CheckoutError,
    InvoiceFormatter,
    add_to_cart,
    cart_for,
    cart_lines,
    compute_totals,
    place_order,
)


def cart_detail(request):
    cart = cart_for(request.session)
    context = {
        "cart": cart,
        "lines": list(cart_lines(cart)),
        "totals": compute_totals(cart),
        "form": CheckoutForm(initial={"country": "DE"}),
    }
    return render(request, "orders/cart.html", context)


@require_POST
def add_item(request, slug):
    book = get_object_or_404(Book, slug=slug)
    form = AddToCartForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    add_to_cart(cart_for(request.session), book, form.cleaned_data["quantity"])
    return redirect("orders:cart")


class CheckoutView(View):
    template_name = "orders/cart.html"

    def post(self, request):
        cart = cart_for(request.session)
        form = CheckoutForm(request.POST)
        if form.is_valid():
            try:
                order = place_order(cart, **form.cleaned_data)
            except CheckoutError as error:
                form.add_error(None, str(error))
            else:
                return redirect("orders:order-detail", pk=order.pk)
        return self.render_cart(request, cart, form, status=400)

    def render_cart(self, request, cart, form, status=200):
        data = form.cleaned_data if form.is_bound and hasattr(form, "cleaned_data") else {}
        totals = compute_totals(cart, data.get("country", "DE"), express=data.get("express", False))
        context = {"lines": list(cart_lines(cart)), "totals": totals, "form": form}
        return render(request, self.template_name, context, status=status)


def order_detail(request, pk):
    order = get_object_or_404(Order, pk=pk)
    return render(request, "orders/order_detail.html", {"order": order, "invoice": InvoiceFormatter(order)})


def order_api(request, pk):
    order = get_object_or_404(Order.objects.prefetch_related("lines__book"), pk=pk)
    lines = [{"book": line.book.slug, "quantity": line.quantity} for line in order.lines.all()]
    totals = {field: str(getattr(order, field)) for field in ("subtotal", "tax", "shipping", "total")}
    return JsonResponse({"reference": order.reference, "status": order.status, "lines": lines, **totals})


def bestsellers(request):
    days = int(request.GET.get("days", 30))
    return JsonResponse({"days": days, "top": Bestsellers(days).top(int(request.GET.get("count", 5)))})
