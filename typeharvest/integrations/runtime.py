"""The one tracer of a server process, shared by every middleware instance in it.

A process can have one tracer (it owns the interpreter's hook), yet Django builds a middleware per
handler (the test client builds one per client) and an application may stack several. They all share
the tracer started for their settings; a middleware built with other settings replaces it (the old one
flushes first). Under a pre-forking server the tracer started in the master before the fork carries on
in each worker with an empty buffer and its own flusher (``Tracer`` handles the fork).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import TypeVar

from typeharvest.integrations.options import HarvestSettings, InvalidSettings
from typeharvest.store import SQLiteTraceStore, StoreError, ensure_database, resolve_db_path
from typeharvest.tracer import Tracer, TracerAlreadyActive, TracerConfig

_T = TypeVar("_T")

_lock = threading.Lock()
_shared: tuple[HarvestSettings, Tracer] | None = None


def shared_tracer(settings: HarvestSettings, source: str) -> Tracer | None:
    """The running tracer for ``settings``, started if needed; None when another tracer owns the process.

    ``source`` names the integration in the rows it writes. The database is created or checked now, so
    that a wrong path fails at start-up (``InvalidSettings``) rather than at the first flush.
    """
    global _shared
    with _lock:
        if _shared is not None:
            current_settings, current = _shared
            if current_settings == settings and current.running:
                return current
            current.stop()
            _shared = None
        path = resolve_db_path(settings.db)
        try:
            ensure_database(path)
        except StoreError as exc:
            raise InvalidSettings(str(exc)) from None
        config = TracerConfig(
            scope="units",
            include=settings.include,
            exclude=settings.exclude,
            sample_rate=settings.sample_rate,
            sampler=settings.sampler,
            budget=settings.budget,
            flush_interval=settings.flush_interval,
            seed=settings.seed,
        )
        tracer = Tracer(SQLiteTraceStore(path).sink(source), config)
        try:
            tracer.start()
        except TracerAlreadyActive:
            return None  # e.g. ``typeharvest run manage.py runserver``: every call is traced already
        _shared = (settings, tracer)
        _flush_before_sigterm()
        return tracer


def stop_shared_tracer() -> None:
    """Stop the shared tracer and write what it holds (it also happens at interpreter exit)."""
    global _shared
    with _lock:
        if _shared is not None:
            _shared[1].stop()
            _shared = None


def in_unit(tracer: Tracer, work: Callable[[], _T]) -> _T:
    """``work()`` run inside the sampled unit of work that ``tracer`` resumes (see ``Tracer.resume``)."""
    token = tracer.resume()
    try:
        return work()
    finally:
        tracer.end(token)


def steps_in_unit(tracer: Tracer, iterator: Iterator[_T]) -> Iterator[_T]:
    """``iterator``'s items, each produced inside the sampled unit: a response body the server pulls
    after the application returned."""
    while True:
        token = tracer.resume()
        try:
            item = next(iterator)
        except StopIteration:
            return
        finally:
            tracer.end(token)
        yield item


def _flush_before_sigterm() -> None:
    """Make a SIGTERM that would kill the process outright write the traces first.

    uvicorn ends its graceful shutdown by raising SIGTERM again with the handler it found at start-up;
    when that is the default one, the process dies without running ``atexit``, and the tracer's buffer
    dies with it. Only the default disposition is replaced, and only from the main thread (the only one
    that may): a server or program that handles SIGTERM itself is left alone.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _stop_then_terminate)


def _stop_then_terminate(signum: int, frame: FrameType | None) -> None:
    # In a thread, with a deadline: the signal may have interrupted the main thread inside the recorder's
    # lock, and dying late with traces lost beats not dying at all.
    flushing = threading.Thread(target=stop_shared_tracer, name="typeharvest-final-flush", daemon=True)
    flushing.start()
    flushing.join(timeout=10)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
