"""One model with the usual kinds of fields, enough for a changelist of 100 rows and a change form."""

from django.db import models

CATEGORIES = [("tools", "Tools"), ("garden", "Garden"), ("kitchen", "Kitchen"), ("toys", "Toys")]


class Product(models.Model):
    name = models.CharField(max_length=100)
    sku = models.CharField(max_length=20, unique=True)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    stock = models.IntegerField(default=0)
    active = models.BooleanField(default=True)
    category = models.CharField(max_length=20, choices=CATEGORIES)
    description = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return self.name
