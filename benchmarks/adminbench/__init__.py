"""A small Django project for the admin benchmark (``benchmarks/django_admin.py``); importing does nothing.

``harness`` prepares its SQLite database and drives django.contrib.admin through ``django.test.Client``.
"""
