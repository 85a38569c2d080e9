"""``typeharvest.trace()``: the tracer wired to the store, for programs and tests to use directly."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from typing import Any

from typeharvest.store import SQLiteTraceStore, TraceStore, ensure_database, resolve_db_path
from typeharvest.tracer import Tracer, TracerConfig


@contextlib.contextmanager
def trace(
    db: str | os.PathLike[str] | None = None,
    include: Sequence[str] = (),
    sample_rate: float = 1.0,
    root: str | os.PathLike[str] | None = None,
    source: str = "api",
    **settings: Any,
) -> Iterator[Tracer]:
    """Trace the application's functions in every thread while the block runs, into the database ``db``.

    ``sample_rate`` is the probability that a call is recorded; ``source`` names the integration in the
    rows written (``run``, ``pytest``, ...); ``settings`` are other ``TracerConfig`` fields. The database
    is checked before tracing begins (a wrong path fails here, not at the end). Observations are written
    every flush interval and at the end; a failure to write is reported on stderr and never raised into
    the traced program.
    """
    path = resolve_db_path(None if db is None else os.fspath(db))
    ensure_database(path)
    config = TracerConfig(include=tuple(include), root=root, sample_rate=sample_rate, scope="process")
    store: TraceStore = SQLiteTraceStore(path)
    tracer = Tracer(store.sink(source), config, **settings)
    tracer.start()
    try:
        yield tracer
    finally:
        tracer.stop()
