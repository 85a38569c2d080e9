"""Django: one line in ``MIDDLEWARE`` traces a sample of the project's requests.

The middleware is sync and async capable, so Django never wraps it in a thread hop: under ASGI an async
view stays on the event loop. Settings come from ``settings.TYPEHARVEST`` and are checked when Django
builds the middleware chain, at start-up; a mistake raises ``ImproperlyConfigured``. ``ENABLED: False``
removes the middleware from the chain (``MiddlewareNotUsed``), so it then costs nothing at all.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.apps import apps
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed

from typeharvest.integrations.options import HarvestSettings, InvalidSettings, parse_settings
from typeharvest.integrations.runtime import in_unit, shared_tracer, steps_in_unit
from typeharvest.store import DEFAULT_DB
from typeharvest.tracer import Tracer, UnitToken
from typeharvest.tracer.selection import is_library_path

GetResponse = Callable[[Any], Any]


class TypeHarvestMiddleware:
    """Traces the requests the sampler picks: the project's functions they call, nothing else."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)
        harvest = read_settings()
        if not harvest.enabled:
            raise MiddlewareNotUsed("typeharvest is disabled (TYPEHARVEST['ENABLED'] is False)")
        try:
            tracer = shared_tracer(harvest, source="django")
        except InvalidSettings as exc:
            raise ImproperlyConfigured(f"TYPEHARVEST: {exc}") from None
        if tracer is None:
            raise MiddlewareNotUsed("typeharvest is already tracing this process")
        self.tracer: Tracer = tracer

    def __call__(self, request: Any) -> Any:
        """Run the rest of the chain as one unit of work, traced if the request is sampled."""
        if self.is_async:
            return self._acall(request)
        tracer = self.tracer
        token = tracer.begin(request)
        if token is None:
            return self.get_response(request)
        try:
            response = self.get_response(request)
        finally:
            tracer.end(token)
        return _trace_streaming(response, tracer)

    async def _acall(self, request: Any) -> Any:
        tracer = self.tracer
        token = tracer.begin(request)
        if token is None:
            return await self.get_response(request)
        try:
            response = await self.get_response(request)
        finally:
            tracer.end(token)
        return _trace_streaming(response, tracer)


def read_settings() -> HarvestSettings:
    """``settings.TYPEHARVEST`` checked, with the defaults that fit a Django project filled in."""
    given = getattr(django_settings, "TYPEHARVEST", {})
    if not isinstance(given, dict):
        raise ImproperlyConfigured(f"TYPEHARVEST must be a dict of settings, not {given!r}")
    try:
        return parse_settings(given, spell=str.upper, db=str(default_db()), include=tuple(project_modules()))
    except InvalidSettings as exc:
        raise ImproperlyConfigured(f"TYPEHARVEST: {exc}") from None


def project_modules() -> list[str]:
    """The installed apps whose code is the project's (not in site-packages), and the settings package."""
    modules = [
        config.name
        for config in apps.get_app_configs()
        if not is_library_path(config.path) and not config.name.startswith("typeharvest")
    ]
    settings_module = getattr(django_settings, "SETTINGS_MODULE", None) or ""
    package = settings_module.partition(".")[0] if "." in settings_module else ""
    if package and package not in modules:
        modules.append(package)
    return modules


def default_db() -> Path:
    """``typeharvest.sqlite3`` beside ``manage.py``: the project's directory, whatever the server's cwd.

    ``$TYPEHARVEST_DB`` wins, as it does for every command. ``manage.py`` is looked for where the running
    script is, then upwards from the settings module; failing both, the working directory.
    """
    if os.environ.get("TYPEHARVEST_DB"):
        return Path(os.environ["TYPEHARVEST_DB"]).expanduser().absolute()
    for directory in _project_dir_candidates():
        if (directory / "manage.py").is_file():
            return directory / DEFAULT_DB
    return Path.cwd() / DEFAULT_DB


def _project_dir_candidates() -> Iterator[Path]:
    if sys.argv and os.path.basename(sys.argv[0]) == "manage.py":
        yield Path(sys.argv[0]).resolve().parent
    settings_module = sys.modules.get(getattr(django_settings, "SETTINGS_MODULE", None) or "")
    settings_file = getattr(settings_module, "__file__", None)
    if isinstance(settings_file, str):
        yield from list(Path(settings_file).resolve().parents)[:3]


def _trace_streaming(response: Any, tracer: Tracer) -> Any:
    """A sampled streamed response produces its body after the view returned: trace that too."""
    if not getattr(response, "streaming", False) or getattr(response, "file_to_stream", None) is not None:
        return response
    if getattr(response, "is_async", False):
        response.streaming_content = _async_chunks(response.streaming_content, tracer)
    else:
        response.streaming_content = _chunks(response.streaming_content, tracer)
    return response


def _chunks(content: Iterable[bytes], tracer: Tracer) -> Iterator[bytes]:
    iterator = iter(content)
    try:
        yield from steps_in_unit(tracer, iterator)
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            in_unit(tracer, close)


async def _async_chunks(content: AsyncIterator[bytes], tracer: Tracer) -> AsyncIterator[bytes]:
    iterator = aiter(content)
    try:
        while True:
            token: UnitToken | None = tracer.resume()
            try:
                chunk = await anext(iterator)
            except StopAsyncIteration:
                return
            finally:
                tracer.end(token)
            yield chunk
    finally:
        close: Callable[[], Awaitable[None]] | None = getattr(iterator, "aclose", None)
        if close is not None:
            await close()
