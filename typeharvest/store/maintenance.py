"""Fleet and housekeeping operations: merging shards from many hosts, pruning, compacting.

Why merge exists: WAL needs every writer on one host's local disk, so a fleet writes one database per host
and a job collects them, as coverage.py's ``combine`` does. Every database carries a random id; a merge
records the ids it absorbed (and the ids those had absorbed), so giving the same shard twice — or a shard
that already went into another merged shard — never counts a call twice.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass

from typeharvest.store.errors import StoreError
from typeharvest.store.schema import connect, translate_error


@dataclass(frozen=True, slots=True)
class MergeResult:
    """What a merge did with each shard: ``merged`` or the reason it was ``skipped``."""

    shard: str
    merged: bool
    reason: str = ""
    calls: int = 0


def database_id(connection: sqlite3.Connection) -> str:
    """The random id that names a database among shards."""
    (value,) = connection.execute("SELECT value FROM meta WHERE key = 'database_id'").fetchone()
    return str(value)


def merge(out: str | os.PathLike[str], shards: Sequence[str | os.PathLike[str]]) -> list[MergeResult]:
    """Add every shard's counts to ``out`` (created if missing), each shard at most once.

    Each shard is merged in one transaction: an interrupted merge leaves ``out`` as it was before that
    shard. A shard that is missing or not a typeharvest database raises ``StoreError`` before anything is
    written.
    """
    out_path = os.path.abspath(os.fspath(out))
    shard_paths = [os.path.abspath(os.fspath(shard)) for shard in shards]
    for path in shard_paths:
        connect(path, create=False).close()  # validate (and migrate) every shard first
        if path == out_path:
            raise StoreError(f"cannot merge a database into itself: {path}", path)
    connection = connect(out_path, create=True)
    try:
        return [_merge_one(connection, out_path, path) for path in shard_paths]
    finally:
        connection.close()


def _merge_one(connection: sqlite3.Connection, out_path: str, shard_path: str) -> MergeResult:
    try:
        connection.execute("ATTACH DATABASE ? AS shard", (shard_path,))
    except sqlite3.Error as exc:
        raise translate_error(exc, shard_path) from exc
    try:
        connection.execute("BEGIN IMMEDIATE")
        shard_id = str(
            connection.execute("SELECT value FROM shard.meta WHERE key = 'database_id'").fetchone()[0]
        )
        absorbed = {str(row[0]) for row in connection.execute("SELECT database_id FROM shard.shards")}
        known = {str(row[0]) for row in connection.execute("SELECT database_id FROM main.shards")}
        known.add(database_id(connection))
        if shard_id in known:
            connection.execute("ROLLBACK")
            return MergeResult(shard_path, merged=False, reason="already merged")
        overlap = absorbed & known
        if overlap:
            connection.execute("ROLLBACK")
            return MergeResult(
                shard_path, merged=False, reason=f"contains {len(overlap)} shard(s) already merged"
            )
        (calls,) = connection.execute("SELECT coalesce(sum(calls), 0) FROM shard.signatures").fetchone()
        for statement in _MERGE_STATEMENTS:
            connection.execute(statement)
        now = time.time()
        connection.executemany(
            "INSERT OR IGNORE INTO main.shards (database_id, path, merged_at) VALUES (?, ?, ?)",
            [
                (shard_id, shard_path, now),
                *((absorbed_id, shard_path, now) for absorbed_id in sorted(absorbed)),
            ],
        )
        connection.execute("COMMIT")
        return MergeResult(shard_path, merged=True, calls=int(calls))
    except sqlite3.Error as exc:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise translate_error(exc, out_path) from exc
    finally:
        connection.execute("DETACH DATABASE shard")


# The newest description of a function wins: the one whose latest observation is the most recent.
_MERGE_STATEMENTS = (
    """
    INSERT INTO main.functions (module, qualname, filename, firstlineno, kind, parameters, code_hash)
    SELECT module, qualname, filename, firstlineno, kind, parameters, code_hash FROM shard.functions AS sf
    WHERE true
    ON CONFLICT (module, qualname) DO UPDATE SET
        filename = excluded.filename,
        firstlineno = excluded.firstlineno,
        kind = excluded.kind,
        parameters = excluded.parameters,
        code_hash = excluded.code_hash
    WHERE (
        SELECT coalesce(max(s.last_seen), 0) FROM shard.signatures AS s JOIN shard.functions AS f
        ON f.id = s.function_id WHERE f.module = excluded.module AND f.qualname = excluded.qualname
    ) > (SELECT coalesce(max(last_seen), 0) FROM main.signatures WHERE function_id = functions.id)
    """,
    """
    INSERT INTO main.writers (host, pid, source, first_flush, last_flush)
    SELECT host, pid, source, first_flush, last_flush FROM shard.writers WHERE true
    ON CONFLICT (host, pid, source) DO UPDATE SET
        first_flush = min(first_flush, excluded.first_flush),
        last_flush = max(last_flush, excluded.last_flush)
    """,
    """
    INSERT INTO main.signatures
        (function_id, code_hash, arg_types, return_type, yield_type, calls, first_seen, last_seen, writer_id)
    SELECT mf.id, s.code_hash, s.arg_types, s.return_type, s.yield_type, s.calls, s.first_seen, s.last_seen,
        mw.id
    FROM shard.signatures AS s
    JOIN shard.functions AS sf ON sf.id = s.function_id
    JOIN main.functions AS mf ON mf.module = sf.module AND mf.qualname = sf.qualname
    LEFT JOIN shard.writers AS sw ON sw.id = s.writer_id
    LEFT JOIN main.writers AS mw ON mw.host = sw.host AND mw.pid = sw.pid AND mw.source = sw.source
    WHERE true
    ON CONFLICT (function_id, code_hash, arg_types, return_type, yield_type) DO UPDATE SET
        calls = calls + excluded.calls,
        first_seen = min(first_seen, excluded.first_seen),
        last_seen = max(last_seen, excluded.last_seen)
    """,
    """
    INSERT INTO main.tracer_errors (kind, count) SELECT kind, count FROM shard.tracer_errors WHERE true
    ON CONFLICT (kind) DO UPDATE SET count = count + excluded.count
    """,
)


@dataclass(frozen=True, slots=True)
class PruneResult:
    signatures_deleted: int
    functions_deleted: int
    bytes_before: int
    bytes_after: int


def prune(
    path: str | os.PathLike[str], *, older_than: float | None = None, stale: bool = False
) -> PruneResult:
    """Delete signatures last seen more than ``older_than`` seconds ago and/or stale ones, then VACUUM.

    Functions left without any signature go too. The file shrinks: VACUUM rewrites it compactly.
    """
    shown = os.path.abspath(os.fspath(path))
    connection = connect(shown, create=False)
    try:
        before = os.path.getsize(shown)
        connection.execute("BEGIN IMMEDIATE")
        deleted = 0
        if older_than is not None:
            cursor = connection.execute(
                "DELETE FROM signatures WHERE last_seen < ?", (time.time() - older_than,)
            )
            deleted += cursor.rowcount
        if stale:
            cursor = connection.execute(
                "DELETE FROM signatures WHERE code_hash != "
                "(SELECT code_hash FROM functions WHERE functions.id = signatures.function_id)"
            )
            deleted += cursor.rowcount
        orphans = connection.execute(
            "DELETE FROM functions WHERE NOT EXISTS"
            " (SELECT 1 FROM signatures WHERE function_id = functions.id)"
        ).rowcount
        connection.execute("COMMIT")
        connection.execute("VACUUM")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return PruneResult(deleted, orphans, before, os.path.getsize(shown))
    except sqlite3.Error as exc:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise translate_error(exc, shown) from exc
    finally:
        connection.close()
