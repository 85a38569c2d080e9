"""The database file: recognising it, creating it, and opening it the one way every part of typeharvest does.

Only the standard library's ``sqlite3`` is used here, because the tracer's flush path runs inside the
user's production process, where importing sqlite-utils (and click, dateutil, pluggy...) costs a third of
a second and adds packages to ``sys.modules``.

Refusing someone else's file must not modify it. So an existing file is checked in this order, each step
touching less than the next one could: ``os.stat`` (missing, directory, not a regular file, empty), then
the raw 100-byte SQLite header (magic string and our ``application_id``, read with ``open()``: a random
file or another program's SQLite database never reaches SQLite at all), then, through SQLite, the
``schema_version`` table. Only after all of that is WAL switched on. (A read-write connection is used for
that last step on purpose: a read-only one leaves ``-wal``/``-shm`` files behind on a WAL-mode file.)

A new file is created in place inside a ``BEGIN IMMEDIATE`` transaction, in rollback-journal mode, so that
several processes creating the same file at once serialise on SQLite's lock, and any of them that looks
at the raw header afterwards already sees our ``application_id``. WAL is switched on after that commit.
WAL needs every writer on the same host and a local disk (it relies on shared memory).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
import uuid
from pathlib import Path

from typeharvest.store.errors import StoreError

#: Bumped whenever the tables change shape; a file with a higher number is refused, never guessed at.
SCHEMA_VERSION = 3

#: Stored with ``PRAGMA application_id`` (bytes 68-71 of the file): ASCII ``TyHv``. It is what tells a
#: typeharvest database from any other SQLite file before anything is written.
APPLICATION_ID = 0x54794876

#: How long a writer waits for another process's transaction. 8 processes x 200 transactions measured
#: zero failures with WAL and 5 s (see FINDINGS "SQLite with many writers").
BUSY_TIMEOUT_MS = 5000

_SQLITE_MAGIC = b"SQLite format 3\x00"
_HEADER_SIZE = 100
_APPLICATION_ID_OFFSET = 68

#: The tables, one statement each (``executescript`` would commit the surrounding transaction).
#:
#: "Not observed" is the empty string, never NULL: NULLs are all distinct in a UNIQUE constraint, so a
#: NULL ``yield_type`` would make every upsert insert a new row instead of adding to the existing one.
#: No extra indexes are needed: the UNIQUE constraints' indexes start with ``functions.module`` and
#: ``signatures.function_id``, which are exactly the lookups the reader and writer make.
DDL: tuple[str, ...] = (
    """
    CREATE TABLE schema_version (
        version INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,  -- 'database_id': a random id, how merges recognise a shard seen before
        value TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE functions (
        id INTEGER PRIMARY KEY,
        module TEXT NOT NULL,
        qualname TEXT NOT NULL,
        filename TEXT NOT NULL,
        firstlineno INTEGER NOT NULL,
        kind TEXT NOT NULL,
        parameters TEXT NOT NULL,  -- JSON [[name, kind], ...]
        code_hash TEXT NOT NULL DEFAULT '',  -- of the code most recently seen: other rows are stale
        UNIQUE (module, qualname)
    )
    """,
    """
    CREATE TABLE writers (
        id INTEGER PRIMARY KEY,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        source TEXT NOT NULL,  -- run, pytest, django, wsgi, asgi, api, monkeytype, ...
        first_flush REAL NOT NULL,
        last_flush REAL NOT NULL,
        UNIQUE (host, pid, source)
    )
    """,
    """
    CREATE TABLE signatures (
        id INTEGER PRIMARY KEY,
        function_id INTEGER NOT NULL REFERENCES functions (id),
        code_hash TEXT NOT NULL,  -- the code this was observed against
        arg_types TEXT NOT NULL,  -- JSON {parameter name: type string}, in parameter order
        return_type TEXT NOT NULL,  -- '' when not observed
        yield_type TEXT NOT NULL,  -- '' when not observed
        calls INTEGER NOT NULL,
        first_seen REAL NOT NULL,  -- Unix seconds
        last_seen REAL NOT NULL,
        writer_id INTEGER REFERENCES writers (id),  -- the last writer that added to this row
        UNIQUE (function_id, code_hash, arg_types, return_type, yield_type)
    )
    """,
    """
    CREATE TABLE tracer_errors (
        kind TEXT PRIMARY KEY,
        count INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE coverage_snapshots (
        id INTEGER PRIMARY KEY,
        taken_at REAL NOT NULL,  -- Unix seconds (a backfilled snapshot: its commit's time)
        commit_sha TEXT,  -- NULL outside a git repository
        branch TEXT,
        root TEXT NOT NULL,  -- what was scanned
        functions INTEGER NOT NULL,
        full INTEGER NOT NULL,
        partial INTEGER NOT NULL,
        untyped INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE coverage_modules (
        snapshot_id INTEGER NOT NULL REFERENCES coverage_snapshots (id),
        module TEXT NOT NULL,
        path TEXT NOT NULL,
        functions INTEGER NOT NULL,
        full INTEGER NOT NULL,
        partial INTEGER NOT NULL,
        untyped INTEGER NOT NULL,
        PRIMARY KEY (snapshot_id, module)
    )
    """,
    """
    CREATE TABLE shards (
        database_id TEXT PRIMARY KEY,  -- a database merged into this one, never to be added twice
        path TEXT NOT NULL,
        merged_at REAL NOT NULL
    )
    """,
)


def table_ddl(table: str) -> str:
    """The CREATE statement of one table of the current schema (migrations build on it)."""
    (statement,) = [ddl for ddl in DDL if f"CREATE TABLE {table} (" in ddl]
    return statement


def connect(path: str | os.PathLike[str], *, create: bool) -> sqlite3.Connection:
    """Open a validated typeharvest database, creating it first if ``create`` is true.

    This is the only way the store opens a file, so every command and the tracer get the same checks and
    the same settings: WAL journal, a 5 s busy timeout, foreign keys on, and ``isolation_level=None``
    (transactions are explicit: the writer needs ``BEGIN IMMEDIATE``, not Python's implicit ``BEGIN``).

    A zero-length file counts as a new database (``create=False`` refuses it as holding nothing yet).
    Raises ``StoreError`` naming the file when it is missing (and ``create`` is false), not a regular
    file, unreadable, not a typeharvest database (left byte-for-byte untouched), or written by a newer
    typeharvest.
    """
    shown = os.path.abspath(os.fspath(path))
    try:
        status = os.stat(shown)
    except FileNotFoundError:
        if not create:
            raise StoreError(f"database not found: {shown}", shown) from None
        return _create(shown)
    except OSError as exc:
        raise StoreError(f"cannot open {shown}: {exc.strerror}", shown) from exc
    if stat.S_ISDIR(status.st_mode):
        raise StoreError(f"not a database file but a directory: {shown}", shown)
    if not stat.S_ISREG(status.st_mode):
        raise StoreError(f"not a regular file: {shown}", shown)
    if status.st_size == 0:
        if not create:
            raise StoreError(f"database is empty (nothing has been recorded in it yet): {shown}", shown)
        return _create(shown)
    _check_header(shown)
    connection = _open(shown, mode="rw")
    try:
        _check_contents(connection, shown)
        _configure(connection, shown)
    except BaseException:
        connection.close()
        raise
    return connection


def ensure_database(path: str | os.PathLike[str]) -> None:
    """Create the database at ``path`` if needed, or validate it, and close it again.

    The tracer calls this before tracing starts, so a wrong path (a missing directory, another program's
    file, a newer schema) fails at once with a ``StoreError`` instead of after a whole run, when the
    observations can no longer be saved anywhere.
    """
    connect(path, create=True).close()


def _check_header(shown: str) -> None:
    """Refuse a file whose first 100 bytes are not a SQLite header carrying our application_id."""
    try:
        with open(shown, "rb") as file:
            header = file.read(_HEADER_SIZE)
    except PermissionError as exc:
        raise StoreError(f"cannot read {shown}: permission denied", shown) from exc
    except OSError as exc:
        raise StoreError(f"cannot read {shown}: {exc.strerror}", shown) from exc
    application_id = int.from_bytes(header[_APPLICATION_ID_OFFSET : _APPLICATION_ID_OFFSET + 4], "big")
    if len(header) < _HEADER_SIZE or not header.startswith(_SQLITE_MAGIC) or application_id != APPLICATION_ID:
        raise StoreError(f"not a typeharvest database: {shown}", shown)


def _open(shown: str, *, mode: str) -> sqlite3.Connection:
    """Open through a URI so ``mode=rw`` never creates a file that vanished since it was checked."""
    uri = f"{Path(shown).as_uri()}?mode={mode}"
    try:
        return sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.Error as exc:
        if mode == "rwc" and not os.path.isdir(os.path.dirname(shown)):
            message = f"cannot create database {shown}: directory {os.path.dirname(shown)} does not exist"
            raise StoreError(message, shown) from exc
        raise StoreError(f"cannot open {shown}: {exc}", shown) from exc


def _create(shown: str) -> sqlite3.Connection:
    """Create the tables in a new (or empty) file, or validate it if another process just did."""
    connection = _open(shown, mode="rwc")
    try:
        try:
            connection.execute("BEGIN IMMEDIATE")
            (application_id,) = connection.execute("PRAGMA application_id").fetchone()
            (objects,) = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
            fresh = application_id == 0 and objects == 0
            if fresh:
                connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                for statement in DDL:
                    connection.execute(statement)
                connection.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
                connection.execute(
                    "INSERT INTO meta (key, value) VALUES ('database_id', ?)", (uuid.uuid4().hex,)
                )
                connection.execute("COMMIT")
            else:
                connection.execute("ROLLBACK")
        except sqlite3.Error as exc:
            raise translate_error(exc, shown) from exc
        if not fresh:
            # Another process created it between our stat() and our lock: it must be a typeharvest file.
            if application_id != APPLICATION_ID:
                raise StoreError(f"not a typeharvest database: {shown}", shown)
            _check_contents(connection, shown)
        _configure(connection, shown)
    except BaseException:
        connection.close()
        raise
    return connection


def _check_contents(connection: sqlite3.Connection, shown: str) -> None:
    """Read the schema version through SQLite, which also catches truncated and corrupt files."""
    try:
        (application_id,) = connection.execute("PRAGMA application_id").fetchone()
        (has_table,) = connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        ).fetchone()
        versions = connection.execute("SELECT version FROM schema_version").fetchall() if has_table else []
    except sqlite3.Error as exc:
        raise translate_error(exc, shown) from exc
    if application_id != APPLICATION_ID or len(versions) != 1:
        raise StoreError(f"not a typeharvest database: {shown}", shown)
    (version,) = versions[0]
    if not isinstance(version, int) or version < 1:
        raise StoreError(f"not a typeharvest database: {shown}", shown)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{shown} was written by a newer typeharvest "
            f"(schema {version}, this version reads up to {SCHEMA_VERSION})",
            shown,
        )
    if version < SCHEMA_VERSION:
        from typeharvest.store.migrations import migrate

        try:
            migrate(connection)
        except sqlite3.Error as exc:
            raise translate_error(exc, shown) from exc


def _configure(connection: sqlite3.Connection, shown: str) -> None:
    """Switch on WAL (persistent, in the file) and the per-connection settings every user relies on.

    WAL lets readers and many writers share the file; ``synchronous=NORMAL`` is the setting SQLite
    recommends with WAL (a power cut can lose the last transaction, never corrupt the file).
    """
    try:
        _switch_to_wal(connection)
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    except sqlite3.Error as exc:
        raise translate_error(exc, shown) from exc


def _switch_to_wal(connection: sqlite3.Connection) -> None:
    """Set WAL unless the file already is; retry while other processes hold the file.

    Changing the journal mode needs the file to itself, and SQLite answers "locked" at once, without its
    busy handler, while other connections (processes creating the same new file) have it open: so wait
    here, up to the busy timeout. Once one process has switched, the mode is in the file for everyone.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
            if str(mode).lower() != "wal":
                connection.execute("PRAGMA journal_mode = WAL").fetchone()
            return
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def translate_error(exc: sqlite3.Error, path: str | os.PathLike[str]) -> StoreError:
    """Turn a SQLite exception into a one-line ``StoreError`` that names the file and says what to do.

    Callers ``raise translate_error(exc, path) from exc`` so the original stays in the traceback.
    """
    shown = os.path.abspath(os.fspath(path))
    message = str(exc)
    if type(exc) is sqlite3.DatabaseError:
        # SQLITE_NOTADB / SQLITE_CORRUPT: "file is not a database", "database disk image is malformed".
        return StoreError(f"not a typeharvest database: {shown}", shown)
    if "locked" in message or "busy" in message:
        return StoreError(
            f"database is locked: {shown} (another process held it for more than "
            f"{BUSY_TIMEOUT_MS // 1000} s)",
            shown,
        )
    return StoreError(f"database error in {shown}: {message}", shown)
