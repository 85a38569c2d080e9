"""``TraceStore``: what the rest of typeharvest needs from a place that keeps traces.

SQLite is the one backend today; the commands go through this interface so that another (a server, a
warehouse table) can be added without touching them. The tracer needs even less: an ``ObservationSink``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from typeharvest.records import Observation, ObservationSink
from typeharvest.store.writer import write_observations

if TYPE_CHECKING:
    from typeharvest.store.maintenance import MergeResult, PruneResult
    from typeharvest.store.reader import ModuleSummary, StoreStats


class TraceStore(Protocol):
    def sink(self, source: str) -> ObservationSink:
        """Where a tracer flushes, remembering which integration (``source``) produced the rows."""
        ...

    def modules(self) -> list[ModuleSummary]:
        """The traced modules with function, signature and call counts."""
        ...

    def observations(self, module: str, *, include_stale: bool = False) -> list[Observation]:
        """The observations of one module, current code only unless ``include_stale``."""
        ...

    def stats(self) -> StoreStats:
        """Totals, sizes and ages."""
        ...

    def merge(self, shards: Sequence[str | os.PathLike[str]]) -> list[MergeResult]:
        """Add other stores' counts, each at most once."""
        ...

    def prune(self, *, older_than: float | None = None, stale: bool = False) -> PruneResult:
        """Delete old or stale observations and compact."""
        ...


class SQLiteTraceStore:
    """A trace store in one SQLite file (see ``schema``): the only backend so far."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.path.abspath(os.fspath(path))

    def sink(self, source: str) -> ObservationSink:
        """A sink that writes with the standard library only (safe inside production processes)."""
        return functools.partial(write_observations, self.path, source=source)

    def modules(self) -> list[ModuleSummary]:
        """The traced modules with function, signature and call counts."""
        from typeharvest.store.reader import TraceReader

        with TraceReader(self.path) as reader:
            return reader.modules()

    def observations(self, module: str, *, include_stale: bool = False) -> list[Observation]:
        """The observations of one module, current code only unless ``include_stale``."""
        from typeharvest.store.reader import TraceReader

        with TraceReader(self.path) as reader:
            return reader.observations(module, include_stale=include_stale)

    def stats(self) -> StoreStats:
        """Totals, sizes and ages."""
        from typeharvest.store.reader import TraceReader

        with TraceReader(self.path) as reader:
            return reader.stats()

    def merge(self, shards: Sequence[str | os.PathLike[str]]) -> list[MergeResult]:
        """Add other SQLite stores' counts, each at most once."""
        from typeharvest.store.maintenance import merge

        return merge(self.path, shards)

    def prune(self, *, older_than: float | None = None, stale: bool = False) -> PruneResult:
        """Delete old or stale observations and VACUUM."""
        from typeharvest.store.maintenance import prune

        return prune(self.path, older_than=older_than, stale=stale)
