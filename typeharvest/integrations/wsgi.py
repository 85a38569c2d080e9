"""WSGI: wrap any WSGI application (Flask, Bottle, Pyramid, a bare callable) to trace sampled requests.

A WSGI application returns its body as an iterable the server consumes after the call returns, often in
the same thread but outside the call: the body's production is resumed as part of the request's unit of
work, chunk by chunk, and so is ``close()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from typeharvest.integrations.options import parse_settings
from typeharvest.integrations.runtime import in_unit, shared_tracer, steps_in_unit
from typeharvest.tracer import Tracer

WSGIApplication = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class TypeHarvestWSGIMiddleware:
    """``app = TypeHarvestWSGIMiddleware(app, sample_rate=0.05)``; the sampler receives the environ.

    Settings (keyword arguments): ``db``, ``sample_rate``, ``sampler``, ``include``, ``exclude``,
    ``enabled``, ``budget``, ``flush_interval``, ``seed``; see the README. Wrong ones raise ``ValueError``
    (``InvalidSettings``) here, at start-up.
    """

    def __init__(self, app: WSGIApplication, **settings: object) -> None:
        self.app = app
        harvest = parse_settings(settings)
        self.tracer: Tracer | None = shared_tracer(harvest, source="wsgi") if harvest.enabled else None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Call the application as one unit of work, and resume that unit while its body is produced."""
        tracer = self.tracer
        token = tracer.begin(environ) if tracer is not None else None
        if tracer is None or token is None:
            return self.app(environ, start_response)
        try:
            body = self.app(environ, start_response)
        finally:
            tracer.end(token)
        if type(body) in (list, tuple):
            # Already produced, nothing to close: no application code runs while the server sends it, and
            # the server may use its len() (wsgiref, waitress set Content-Length for a one-chunk body).
            return body
        file_wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(file_wrapper, type) and isinstance(body, file_wrapper):
            return body  # the server sends the file itself; no application code runs
        return TracedBody(body, tracer)


class TracedBody:
    """The application's response iterable, each step of it run inside the sampled unit of work."""

    def __init__(self, body: Iterable[bytes], tracer: Tracer) -> None:
        self._body = body
        self._tracer = tracer

    def __iter__(self) -> Iterator[bytes]:
        return steps_in_unit(self._tracer, in_unit(self._tracer, lambda: iter(self._body)))

    def close(self) -> None:
        """PEP 3333: the server calls ``close`` when it is done; pass it on, traced."""
        close = getattr(self._body, "close", None)
        if close is not None:
            in_unit(self._tracer, close)
