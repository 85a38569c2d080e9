"""ASGI entry point: ``uvicorn shopsite.asgi:application`` (the stats view is async)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")

application = get_asgi_application()
