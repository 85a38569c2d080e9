"""Adding a batch of observations to the database: the tracer's flush path.

Standard library only (see ``schema``): this runs inside the traced program. Each call is one
``BEGIN IMMEDIATE`` transaction, so many processes can flush into one file: they queue on SQLite's write
lock (up to the busy timeout) instead of failing half-way, and a batch is either wholly counted or not
at all. Counters are added in SQL (``calls = calls + excluded.calls``), never read-modify-written in
Python, which is what keeps concurrent totals exact.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import time
from collections.abc import Mapping, Sequence

from typeharvest.records import Observation
from typeharvest.store.codec import encode_arg_types, encode_parameters
from typeharvest.store.schema import connect, translate_error

_UPSERT_FUNCTION = """
INSERT INTO functions (module, qualname, filename, firstlineno, kind, parameters, code_hash)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (module, qualname) DO UPDATE SET
    filename = excluded.filename,
    firstlineno = excluded.firstlineno,
    kind = excluded.kind,
    parameters = excluded.parameters,
    code_hash = excluded.code_hash
"""

_UPSERT_WRITER = """
INSERT INTO writers (host, pid, source, first_flush, last_flush) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (host, pid, source) DO UPDATE SET last_flush = excluded.last_flush
"""

_WRITER_ID = "SELECT id FROM writers WHERE host = ? AND pid = ? AND source = ?"

_INSERT_FUNCTION_IF_NEW = """
INSERT INTO functions (module, qualname, filename, firstlineno, kind, parameters, code_hash)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (module, qualname) DO NOTHING
"""

# A signature is stored against the code it was observed in; an importer's (which does not describe
# functions) against the code its function row describes. The WHERE clause also keeps SQLite from reading
# ON CONFLICT as a join constraint.
_SIGNATURE_SELECT = """
INSERT INTO signatures
    (function_id, code_hash, arg_types, return_type, yield_type, calls, first_seen, last_seen, writer_id)
SELECT id, {code_hash}, ?, ?, ?, ?, ?, ?, ? FROM functions WHERE module = ? AND qualname = ?
ON CONFLICT (function_id, code_hash, arg_types, return_type, yield_type) DO UPDATE SET
    calls = calls + excluded.calls,
    first_seen = min(first_seen, excluded.first_seen),
    last_seen = max(last_seen, excluded.last_seen),
    writer_id = excluded.writer_id
"""
_UPSERT_SIGNATURE = _SIGNATURE_SELECT.format(code_hash="?")
_UPSERT_SIGNATURE_AT_STORED_CODE = _SIGNATURE_SELECT.format(code_hash="code_hash")

_UPSERT_ERROR = """
INSERT INTO tracer_errors (kind, count) VALUES (?, ?)
ON CONFLICT (kind) DO UPDATE SET count = count + excluded.count
"""


def write_observations(
    path: str | os.PathLike[str],
    observations: Sequence[Observation],
    errors: Mapping[str, int],
    *,
    source: str = "api",
    describe_functions: bool = True,
) -> None:
    """Add observations and tracer-error counts to the database at ``path``, creating it if needed.

    ``functools.partial(write_observations, path, source="django")`` is an ``ObservationSink``: this is
    what the tracer calls to flush. The rows remember the writer: this host, this process (read at each
    write, so a forked child is itself) and ``source``, the integration that traced. An importer of
    foreign data passes ``describe_functions=False``: it then adds to functions as they are described
    already (and to their current code) rather than overwriting what a tracer recorded.

    Everything given is added in one transaction: call counts and error counts add up (also when the same
    function and signature appear twice in one batch), first/last seen widen, and a function's filename,
    line, kind and parameters become the ones given last, since they describe the code as it is now. Error
    kinds with a zero count are ignored, and a call with nothing to write returns without touching (or
    creating) the file, so an idle process leaves no trace on disk.

    Raises ``StoreError`` (one line, naming the file) if the file cannot be used or stays locked by
    other writers for longer than the busy timeout; nothing of the batch is written then.
    """
    error_counts = [(kind, count) for kind, count in errors.items() if count]
    if not observations and not error_counts:
        return
    connection = connect(path, create=True)
    try:
        connection.execute("BEGIN IMMEDIATE")
        writer_id = _upsert_writer(connection, source)
        _add_observations(connection, observations, writer_id, describe_functions)
        connection.executemany(_UPSERT_ERROR, error_counts)
        connection.execute("COMMIT")
    except sqlite3.Error as exc:
        raise translate_error(exc, path) from exc
    finally:
        if connection.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
        connection.close()


def _upsert_writer(connection: sqlite3.Connection, source: str) -> int:
    identity = (socket.gethostname(), os.getpid(), source)
    now = time.time()
    connection.execute(_UPSERT_WRITER, (*identity, now, now))
    (writer_id,) = connection.execute(_WRITER_ID, identity).fetchone()
    return int(writer_id)


def _add_observations(
    connection: sqlite3.Connection,
    observations: Sequence[Observation],
    writer_id: int | None,
    describe_functions: bool,
) -> None:
    """Upsert each distinct function description once, then every signature row against its function.

    Two prepared statements run over the whole batch: the flush repeats the same few hundred functions
    every interval, and a round trip per function (upsert, then read its id back) was most of its cost.
    """
    functions = {(o.function.module, o.function.qualname): o.function for o in observations}
    connection.executemany(
        _UPSERT_FUNCTION if describe_functions else _INSERT_FUNCTION_IF_NEW,
        [
            (
                function.module,
                function.qualname,
                function.filename,
                function.firstlineno,
                function.kind.value,
                encode_parameters(function.parameters),
                function.code_hash,
            )
            for function in functions.values()
        ],
    )
    connection.executemany(
        _UPSERT_SIGNATURE if describe_functions else _UPSERT_SIGNATURE_AT_STORED_CODE,
        [
            (
                *((observation.function.code_hash,) if describe_functions else ()),
                encode_arg_types(observation.function.parameters, observation.signature.arg_types),
                observation.signature.return_type,
                observation.signature.yield_type,
                observation.calls,
                observation.first_seen,
                observation.last_seen,
                writer_id,
                observation.function.module,
                observation.function.qualname,
            )
            for observation in observations
        ],
    )
