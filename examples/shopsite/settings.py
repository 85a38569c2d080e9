"""Settings of the demo bookshop: a small Django site traced by typeharvest at every request."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "demo-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "catalog",
    "orders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records the types the project's own functions see, in every request it samples.
    "typeharvest.django.TypeHarvestMiddleware",
]

# The demo traces every request; in production keep the default rate (1 request in 100).
# The traces go to $TYPEHARVEST_DB, else to typeharvest.sqlite3 beside manage.py.
TYPEHARVEST = {"SAMPLE_RATE": 1.0}

ROOT_URLCONF = "shopsite.urls"
WSGI_APPLICATION = "shopsite.wsgi.application"
ASGI_APPLICATION = "shopsite.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "shopsite" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SHOPSITE_DB", BASE_DIR / "shopsite.sqlite3"),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"

SHOP = {
    "CURRENCY": "EUR",
    "FREE_SHIPPING_ABOVE": "50.00",
}
BOOKS_PER_PAGE = 5
