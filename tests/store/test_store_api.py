"""The package's surface: what importing it costs, what it exports, and how the database path is chosen."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import typeharvest.store
from typeharvest.records import FunctionInfo, FunctionKind, Observation, ObservationSink, Signature
from typeharvest.store import DEFAULT_DB, TraceReader, ensure_database, resolve_db_path, write_observations


def test_importing_the_store_and_writing_never_imports_sqlite_utils(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    script = textwrap.dedent(
        f"""
        import sys
        import typeharvest.store
        from typeharvest.records import FunctionInfo, FunctionKind, Observation, Signature
        f = FunctionInfo("m", "f", "/m.py", 1, FunctionKind.FUNCTION, ())
        batch = [Observation(f, Signature((), "int"), 1, 0.0, 0.0)]
        typeharvest.store.write_observations({str(db)!r}, batch, {{}})
        assert "sqlite_utils" not in sys.modules, "the write path imported sqlite_utils"
        typeharvest.store.TraceReader  # the reader is still reachable, lazily
        assert "sqlite_utils" in sys.modules
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=os.environ.copy(), check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok\n"
    assert db.exists()


def test_the_reader_names_are_exported_lazily_and_unknown_names_raise_attribute_error() -> None:
    assert typeharvest.store.TraceReader is TraceReader
    assert {"TraceReader", "ModuleSummary", "StoreStats", "StoreError", "write_observations"} <= set(
        typeharvest.store.__all__
    )
    with pytest.raises(AttributeError, match="no_such_name"):
        typeharvest.store.no_such_name  # noqa: B018


def test_write_observations_bound_to_a_path_is_an_observation_sink(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    sink: ObservationSink = functools.partial(write_observations, db)
    f = FunctionInfo("m", "f", "/m.py", 1, FunctionKind.FUNCTION, ())
    sink([Observation(f, Signature((), "int"), 2, 0.0, 0.0)], {"repr": 1})
    with TraceReader(db) as reader:
        assert (reader.stats().calls, reader.stats().tracer_errors) == (2, 1)


def test_ensure_database_creates_a_usable_empty_database_up_front(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    ensure_database(db)
    ensure_database(db)  # and accepts it the second time
    with TraceReader(db) as reader:
        assert (reader.stats().functions, reader.modules()) == (0, [])


def test_resolve_db_path_prefers_the_explicit_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TYPEHARVEST_DB", str(tmp_path / "env.sqlite3"))
    assert resolve_db_path(str(tmp_path / "given.sqlite3")) == tmp_path / "given.sqlite3"


def test_resolve_db_path_falls_back_to_the_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TYPEHARVEST_DB", str(tmp_path / "env.sqlite3"))
    assert resolve_db_path(None) == tmp_path / "env.sqlite3"
    assert resolve_db_path("") == tmp_path / "env.sqlite3"


def test_resolve_db_path_defaults_to_the_current_directory_as_an_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TYPEHARVEST_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    assert DEFAULT_DB == "typeharvest.sqlite3"
    assert resolve_db_path(None) == tmp_path / "typeharvest.sqlite3"
    assert resolve_db_path("sub/x.db") == tmp_path / "sub" / "x.db"
    monkeypatch.setenv("TYPEHARVEST_DB", "")
    assert resolve_db_path(None) == tmp_path / "typeharvest.sqlite3"


def test_resolve_db_path_expands_the_home_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("TYPEHARVEST_DB", "~/traces.sqlite3")
    assert resolve_db_path(None) == tmp_path / "traces.sqlite3"
