"""Reading a trace database back into the records the annotator and the CLI work with.

This is the only module of the store that uses sqlite-utils, and it is imported lazily by
``typeharvest.store`` so that the tracer's flush path never pays for it. It reads through the connection
``schema.connect`` validated, so a reader gets the same refusals (missing, foreign, newer) as a writer.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import sqlite_utils

from typeharvest.records import FunctionInfo, FunctionKind, Observation, Signature
from typeharvest.store.codec import decode_arg_types, decode_parameters
from typeharvest.store.errors import StoreError
from typeharvest.store.schema import connect, translate_error


@dataclass(frozen=True, slots=True)
class ModuleSummary:
    """What was recorded for one module: enough for ``list-modules`` without loading any observation."""

    module: str
    functions: int
    signatures: int
    calls: int


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Totals of a database; ``typeharvest stats --json`` prints ``dataclasses.asdict`` of it.

    Scripts rely on the keys ``functions``, ``signatures``, ``calls`` and ``tracer_errors``: never rename
    them. Every field is JSON-serialisable as is (``path`` is a ``str`` for that reason). ``size_bytes``
    is the size of the database file itself, without a ``-wal`` file that may exist while writers run.
    """

    functions: int
    signatures: int
    calls: int
    tracer_errors: int
    errors_by_kind: dict[str, int]
    modules: int
    size_bytes: int
    path: str
    schema_version: int
    stale_signatures: int = 0
    oldest_seen: float | None = None
    newest_seen: float | None = None
    writers: int = 0
    shards_merged: int = 0


_MODULES = """
SELECT
    f.module AS module,
    count(DISTINCT f.id) AS functions,
    count(s.id) AS signatures,
    coalesce(sum(s.calls), 0) AS calls
FROM functions AS f LEFT JOIN signatures AS s ON s.function_id = f.id
GROUP BY f.module
ORDER BY f.module
"""

_OBSERVATIONS = """
SELECT
    f.id AS function_id, f.module, f.qualname, f.filename, f.firstlineno, f.kind, f.parameters, f.code_hash,
    s.arg_types, s.return_type, s.yield_type, s.calls, s.first_seen, s.last_seen
FROM functions AS f JOIN signatures AS s ON s.function_id = f.id
WHERE f.module = ? AND (? OR s.code_hash = f.code_hash)
ORDER BY f.firstlineno, f.qualname, s.calls DESC, s.id
"""


_TOTALS = """
SELECT
    (SELECT count(*) FROM functions) AS functions,
    (SELECT count(*) FROM signatures) AS signatures,
    (SELECT coalesce(sum(calls), 0) FROM signatures) AS calls,
    (SELECT count(DISTINCT module) FROM functions) AS modules,
    (SELECT version FROM schema_version) AS schema_version,
    (SELECT count(*) FROM signatures AS s JOIN functions AS f ON f.id = s.function_id
        WHERE s.code_hash != f.code_hash) AS stale_signatures,
    (SELECT min(first_seen) FROM signatures) AS oldest_seen,
    (SELECT max(last_seen) FROM signatures) AS newest_seen,
    (SELECT count(*) FROM writers) AS writers,
    (SELECT count(*) FROM shards) AS shards_merged
"""


class TraceReader:
    """Read access to one trace database, as a context manager that closes its connection.

    Opening validates the file (see ``schema.connect``) and never creates or modifies it, so pointing a
    command at the wrong path fails with a ``StoreError`` instead of leaving an empty database behind.
    Reads made while tracers keep writing see consistent snapshots (WAL); each method is one snapshot.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        """Open and validate ``path``; raises ``StoreError`` naming it if it is not a usable database."""
        self.path = os.path.abspath(os.fspath(path))
        connection = connect(self.path, create=False)
        try:
            self._db = sqlite_utils.Database(connection, recursive_triggers=False, execute_plugins=False)
        except BaseException:
            connection.close()
            raise

    def __enter__(self) -> TraceReader:
        """Return the reader itself, so ``with TraceReader(path) as reader:`` reads naturally."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the connection, so a command never keeps the file (and its WAL) open after use."""
        self.close()

    def close(self) -> None:
        """Close the connection; safe to call more than once, since ``__exit__`` and callers may both."""
        self._db.close()

    def modules(self) -> list[ModuleSummary]:
        """Summarise every traced module, sorted by name: what ``list-modules`` shows."""
        with self._snapshot():
            return [
                ModuleSummary(
                    module=str(row["module"]),
                    functions=int(row["functions"]),
                    signatures=int(row["signatures"]),
                    calls=int(row["calls"]),
                )
                for row in self._db.query(_MODULES)
            ]

    def observations(self, module: str, *, include_stale: bool = False) -> list[Observation]:
        """Rebuild the observations of ``module`` as ``typeharvest.records`` dataclasses.

        Only those made against each function's current code, unless ``include_stale``: when a
        function's code changes, what was seen of the old code is kept but no longer describes it.

        Ordered by the function's first line (then qualified name), and within a function by calls,
        most frequent first: the order the annotator walks a source file and weighs types in.
        Functions are shared: all observations of one function hold the same ``FunctionInfo`` object.
        Raises ``StoreError`` if a row cannot be decoded (a damaged or hand-edited file).
        """
        functions: dict[int, FunctionInfo] = {}
        result: list[Observation] = []
        with self._snapshot():
            for row in self._db.query(_OBSERVATIONS, [module, include_stale]):
                try:
                    function = functions.get(row["function_id"])
                    if function is None:
                        function = self._function(row)
                        functions[row["function_id"]] = function
                    result.append(
                        Observation(
                            function=function,
                            signature=Signature(
                                arg_types=decode_arg_types(row["arg_types"], function.parameters),
                                return_type=str(row["return_type"]),
                                yield_type=str(row["yield_type"]),
                            ),
                            calls=int(row["calls"]),
                            first_seen=float(row["first_seen"]),
                            last_seen=float(row["last_seen"]),
                        )
                    )
                except (ValueError, TypeError) as exc:
                    name = f"{row['module']}.{row['qualname']}"
                    raise StoreError(f"damaged record for {name} in {self.path}: {exc}", self.path) from exc
        return result

    def stats(self) -> StoreStats:
        """Count everything in the database, from one snapshot so the numbers agree with each other."""
        with self._snapshot():
            (totals,) = self._db.query(_TOTALS)
            errors_by_kind = {
                str(row["kind"]): int(row["count"])
                for row in self._db.table("tracer_errors").rows_where(order_by="kind")
            }
        return StoreStats(
            functions=int(totals["functions"]),
            signatures=int(totals["signatures"]),
            calls=int(totals["calls"]),
            tracer_errors=sum(errors_by_kind.values()),
            errors_by_kind=errors_by_kind,
            modules=int(totals["modules"]),
            size_bytes=os.path.getsize(self.path),
            path=self.path,
            schema_version=int(totals["schema_version"]),
            stale_signatures=int(totals["stale_signatures"]),
            oldest_seen=totals["oldest_seen"],
            newest_seen=totals["newest_seen"],
            writers=int(totals["writers"]),
            shards_merged=int(totals["shards_merged"]),
        )

    @staticmethod
    def _function(row: dict[str, Any]) -> FunctionInfo:
        """Build the ``FunctionInfo`` of a joined row (raises ``ValueError`` on an unknown kind)."""
        return FunctionInfo(
            module=str(row["module"]),
            qualname=str(row["qualname"]),
            filename=str(row["filename"]),
            firstlineno=int(row["firstlineno"]),
            kind=FunctionKind(row["kind"]),
            parameters=decode_parameters(row["parameters"]),
            code_hash=str(row["code_hash"]),
        )

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Run the enclosed reads in one read transaction and turn SQLite failures into ``StoreError``."""
        try:
            with self._db.atomic():
                yield
        except sqlite3.Error as exc:
            raise translate_error(exc, self.path) from exc
