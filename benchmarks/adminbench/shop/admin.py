from django.contrib import admin

from adminbench.shop.models import Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "sku", "price", "stock", "active", "category", "created")
    list_filter = ("active", "category")
    search_fields = ("name", "sku")
    list_per_page = 100
