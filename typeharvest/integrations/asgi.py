"""ASGI: wrap any ASGI application (Starlette, FastAPI, Django's ASGI handler) to trace sampled requests.

An ASGI request is one coroutine call: the unit of work is marked in the request task's context, so it
follows the request across its awaits, and into the tasks it creates, while the other requests the same
event loop serves meanwhile are not traced.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from typeharvest.integrations.options import parse_settings
from typeharvest.integrations.runtime import shared_tracer
from typeharvest.tracer import Tracer

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApplication = Callable[[Scope, Receive, Send], Awaitable[None]]


class TypeHarvestASGIMiddleware:
    """``app = TypeHarvestASGIMiddleware(app, sample_rate=0.05)``; the sampler receives the scope.

    HTTP requests and WebSocket sessions are units of work; lifespan events pass through untraced.
    Settings are the WSGI middleware's (keyword arguments, checked here).
    """

    def __init__(self, app: ASGIApplication, **settings: object) -> None:
        self.app = app
        harvest = parse_settings(settings)
        self.tracer: Tracer | None = shared_tracer(harvest, source="asgi") if harvest.enabled else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Await the application as one unit of work when the request is sampled."""
        tracer = self.tracer
        if tracer is None or scope.get("type") not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        token = tracer.begin(scope)
        try:
            await self.app(scope, receive, send)
        finally:
            tracer.end(token)
