"""Switching tracing on where programs live: Django, WSGI/ASGI, pytest (not implemented yet)."""
