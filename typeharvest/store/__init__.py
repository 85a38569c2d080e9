"""Where traces live: a SQLite file that many traced processes add to and every command reads.

``write_observations`` (the tracer's flush path) uses only the standard library. ``TraceReader`` uses
sqlite-utils, which costs a third of a second to import and drags in click, dateutil and pluggy, so it is
imported only when first used: ``import typeharvest.store`` inside a production process stays cheap.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from typeharvest.store.errors import StoreError
from typeharvest.store.interface import SQLiteTraceStore, TraceStore
from typeharvest.store.schema import SCHEMA_VERSION, ensure_database
from typeharvest.store.writer import write_observations

if TYPE_CHECKING:
    from typeharvest.store.reader import ModuleSummary, StoreStats, TraceReader

__all__ = [
    "DEFAULT_DB",
    "ENV_VAR",
    "SCHEMA_VERSION",
    "ModuleSummary",
    "SQLiteTraceStore",
    "StoreError",
    "StoreStats",
    "TraceReader",
    "TraceStore",
    "ensure_database",
    "resolve_db_path",
    "write_observations",
]

#: The database file used when neither ``--db`` nor ``TYPEHARVEST_DB`` says otherwise (CONVENTIONS.md).
DEFAULT_DB = "typeharvest.sqlite3"

#: The environment variable that names the database for every command and the tracer.
ENV_VAR = "TYPEHARVEST_DB"

_LAZY_FROM_READER = frozenset({"ModuleSummary", "StoreStats", "TraceReader"})


def resolve_db_path(explicit: str | None) -> Path:
    """Decide which database file to use: ``explicit`` (``--db``), else ``$TYPEHARVEST_DB``, else the default.

    Empty strings count as not given. ``~`` is expanded (an environment variable is not shell-expanded)
    and the result is made absolute against the current directory *now*, because a traced server may
    change directory before it flushes, and error messages should show which file was meant.
    """
    chosen = explicit or os.environ.get(ENV_VAR) or DEFAULT_DB
    return Path(chosen).expanduser().absolute()


def __getattr__(name: str) -> Any:
    """Import the reader (and with it sqlite-utils) only when one of its names is first used."""
    if name in _LAZY_FROM_READER:
        value = getattr(importlib.import_module("typeharvest.store.reader"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
