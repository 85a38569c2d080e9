"""Bringing a database written by an older typeharvest up to the current schema, on open.

Each step turns version N into N+1 inside the one transaction that also records the new version, so a
migration is all or nothing, and processes opening the same old file at once take turns (``BEGIN
IMMEDIATE``) with the later ones finding the work already done. Standard library only: a production
process that flushes into an old file migrates it.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable

from typeharvest.store.codec import decode_parameters, encode_arg_types
from typeharvest.store.schema import SCHEMA_VERSION, table_ddl


def migrate(connection: sqlite3.Connection) -> None:
    """Run every step from the file's version to ``SCHEMA_VERSION`` in one transaction."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        (version,) = connection.execute("SELECT version FROM schema_version").fetchone()
        while version < SCHEMA_VERSION:
            _STEPS[version](connection)
            version += 1
        connection.execute("UPDATE schema_version SET version = ?", (version,))
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _version_1_to_2(connection: sqlite3.Connection) -> None:
    """Code hashes, writer identities, shard ids; argument types keyed by parameter name."""
    connection.execute(table_ddl("meta"))
    connection.execute("INSERT INTO meta (key, value) VALUES ('database_id', ?)", (uuid.uuid4().hex,))
    connection.execute("ALTER TABLE functions ADD COLUMN code_hash TEXT NOT NULL DEFAULT ''")
    connection.execute(table_ddl("writers"))
    connection.execute(table_ddl("shards"))
    connection.execute(
        table_ddl("signatures").replace("CREATE TABLE signatures (", "CREATE TABLE signatures_v2 (")
    )
    parameters = {
        function_id: decode_parameters(text)
        for function_id, text in connection.execute("SELECT id, parameters FROM functions")
    }
    rows = connection.execute(
        "SELECT function_id, arg_types, return_type, yield_type, calls, first_seen, last_seen FROM signatures"
    ).fetchall()
    connection.executemany(
        """
        INSERT INTO signatures_v2
            (function_id, code_hash, arg_types, return_type, yield_type, calls, first_seen, last_seen)
        VALUES (?, '', ?, ?, ?, ?, ?, ?)
        """,
        [
            (function_id, encode_arg_types(parameters[function_id], json.loads(arg_types)), *rest)
            for function_id, arg_types, *rest in rows
        ],
    )
    connection.execute("DROP TABLE signatures")
    connection.execute("ALTER TABLE signatures_v2 RENAME TO signatures")


def _version_2_to_3(connection: sqlite3.Connection) -> None:
    """Typed-function coverage snapshots."""
    connection.execute(table_ddl("coverage_snapshots"))
    connection.execute(table_ddl("coverage_modules"))


_STEPS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _version_1_to_2, 2: _version_2_to_3}
