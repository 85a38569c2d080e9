"""``typeharvest.trace()``: the tracer wired to the store, for programs and tests to use directly."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from typeharvest.records import Observation
from typeharvest.store import ensure_database, resolve_db_path, write_observations
from typeharvest.tracer import Tracer


@contextlib.contextmanager
def trace(
    db: str | os.PathLike[str] | None = None,
    include: Sequence[str] = (),
    root: str | os.PathLike[str] | None = None,
) -> Iterator[Tracer]:
    """Trace the block's calls of the application's functions and add them to the database ``db``.

    The database is checked before tracing begins (a wrong path fails here, not at the end); a failure to
    write at the end is reported on stderr and never raised into the traced program.
    """
    path = resolve_db_path(None if db is None else os.fspath(db))
    ensure_database(path)
    tracer = Tracer(functools.partial(_write_or_warn, path), include=include, root=root)
    tracer.start()
    try:
        yield tracer
    finally:
        tracer.stop()


def _write_or_warn(path: Path, observations: Sequence[Observation], errors: Mapping[str, int]) -> None:
    try:
        write_observations(path, observations, errors)
    except Exception as exc:
        print(f"typeharvest: could not write traces to {path}: {exc}", file=sys.stderr)
