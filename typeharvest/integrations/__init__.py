"""Switching tracing on where programs live.

``django`` (a middleware), ``wsgi`` and ``asgi`` (middleware for any framework) trace sampled requests with
one tracer per process (``runtime``), configured by the same checked settings (``options``);
``pytest_plugin`` traces a test run. Each imports its framework, so import the one you use.
"""
