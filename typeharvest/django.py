"""The short import path for Django's ``MIDDLEWARE`` setting: ``typeharvest.django.TypeHarvestMiddleware``."""

from typeharvest.integrations.django import TypeHarvestMiddleware

__all__ = ["TypeHarvestMiddleware"]
