from django import forms

from catalog.models import Book, Review
from catalog.services import parse_price_range


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)
    genre = forms.ChoiceField(required=False, choices=[("", "Any genre"), *Book.Genre.choices])
    price = forms.CharField(required=False, help_text="a range like 10-25")
    in_stock = forms.BooleanField(required=False)

    def clean_price(self):
        text = self.cleaned_data["price"]
        if text and parse_price_range(text) is None:
            raise forms.ValidationError("Write a price range like 10-25.")
        return parse_price_range(text)

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(name) for name in ("q", "genre", "price", "in_stock")):
            raise forms.ValidationError("Give at least one search criterion.")
        return cleaned

    def filter(self, books):
        data = self.cleaned_data
        if data["q"]:
            books = books.matching(data["q"])
        books = books.of_genre(data["genre"])
        if data["price"]:
            low, high = data["price"]
            books = books.filter(price__gte=low).cheaper_than(high)
        if data["in_stock"]:
            books = books.in_stock()
        return books


class ReviewForm(forms.ModelForm):
    class Meta:
        model = Review
        fields = ["reader", "rating", "text"]

    def clean_reader(self):
        reader = self.cleaned_data["reader"].strip()
        if reader.lower() in {"admin", "anonymous"}:
            raise forms.ValidationError("Please sign with your own name.")
        return reader.title()

    def clean_text(self):
        return " ".join(self.cleaned_data["text"].split())
