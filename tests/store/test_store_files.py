"""Which files the store accepts, creates and refuses; a refused file is never modified."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

from typeharvest.records import FunctionInfo, FunctionKind, Observation, Signature
from typeharvest.store import SCHEMA_VERSION, StoreError, TraceReader, write_observations
from typeharvest.store.schema import APPLICATION_ID, connect


def obs(qualname: str = "f") -> Observation:
    function = FunctionInfo("m", qualname, "/src/m.py", 1, FunctionKind.FUNCTION, ())
    return Observation(function, Signature((), "int"), 1, 1.0, 2.0)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def side_files(path: Path) -> list[str]:
    return sorted(
        p.name for p in path.parent.iterdir() if p.name != path.name and p.name.startswith(path.name)
    )


def assert_refused_untouched(path: Path, message: str) -> None:
    """Every entry point refuses the file with exactly ``message`` and leaves it byte-for-byte as it was."""
    before = sha256(path)
    for attempt in (
        lambda: write_observations(path, [obs()], {"repr": 1}),
        lambda: TraceReader(path),
        lambda: connect(path, create=True),
        lambda: connect(path, create=False),
    ):
        with pytest.raises(StoreError) as caught:
            attempt()
        assert str(caught.value) == message
        assert caught.value.path == str(path)
        assert sha256(path) == before
        assert side_files(path) == []


def test_reading_a_missing_file_says_database_not_found_and_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "missing.sqlite3"
    with pytest.raises(StoreError) as caught:
        TraceReader(db)
    assert str(caught.value) == f"database not found: {db}"
    assert list(tmp_path.iterdir()) == []


def test_a_relative_path_is_reported_as_an_absolute_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match=f"^database not found: {tmp_path}/rel.sqlite3$"):
        TraceReader("rel.sqlite3")


def test_a_file_of_random_bytes_is_refused_and_left_untouched(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(os.urandom(8192))
    assert_refused_untouched(junk, f"not a typeharvest database: {junk}")


def test_a_short_text_file_is_refused_and_left_untouched(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    assert_refused_untouched(notes, f"not a typeharvest database: {notes}")


@pytest.mark.parametrize("journal_mode", ["delete", "wal"])
def test_another_programs_sqlite_database_is_refused_and_left_untouched(
    tmp_path: Path, journal_mode: str
) -> None:
    other = tmp_path / "other.db"
    connection = sqlite3.connect(other)
    connection.execute(f"PRAGMA journal_mode = {journal_mode}")
    connection.execute("CREATE TABLE bookmarks (url TEXT)")
    connection.execute("INSERT INTO bookmarks VALUES ('https://example.org')")
    connection.commit()
    connection.close()
    assert_refused_untouched(other, f"not a typeharvest database: {other}")


def test_a_sqlite_database_that_only_borrowed_our_application_id_is_refused(tmp_path: Path) -> None:
    impostor = tmp_path / "impostor.db"
    connection = sqlite3.connect(impostor)
    connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    connection.execute("CREATE TABLE things (x)")
    connection.commit()
    connection.close()
    assert_refused_untouched(impostor, f"not a typeharvest database: {impostor}")


@pytest.mark.parametrize("keep", ["first 60 bytes", "first page", "half"])
def test_a_truncated_typeharvest_database_is_refused_and_left_untouched(tmp_path: Path, keep: str) -> None:
    source = tmp_path / "full.sqlite3"
    write_observations(source, [obs(f"function_{i}_{'x' * 200}") for i in range(300)], {})
    data = source.read_bytes()
    assert len(data) > 8 * 4096, "the database must span many pages for 'half' to cut into the tables"
    size = {"first 60 bytes": 60, "first page": 4096, "half": len(data) // 2}[keep]
    truncated = tmp_path / "truncated.sqlite3"
    truncated.write_bytes(data[:size])
    assert_refused_untouched(truncated, f"not a typeharvest database: {truncated}")


def test_a_database_of_a_newer_schema_is_refused_and_left_untouched(tmp_path: Path) -> None:
    db = tmp_path / "new.sqlite3"
    write_observations(db, [obs()], {})
    connection = sqlite3.connect(db)
    connection.execute("UPDATE schema_version SET version = 7")
    connection.commit()
    connection.close()
    assert side_files(db) == []
    assert_refused_untouched(
        db, f"{db} was written by a newer typeharvest (schema 7, this version reads up to {SCHEMA_VERSION})"
    )


def test_a_directory_is_refused_with_its_name(tmp_path: Path) -> None:
    folder = tmp_path / "folder.sqlite3"
    folder.mkdir()
    for attempt in (lambda: write_observations(folder, [obs()], {}), lambda: TraceReader(folder)):
        with pytest.raises(StoreError) as caught:
            attempt()
        assert str(caught.value) == f"not a database file but a directory: {folder}"
    assert list(folder.iterdir()) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a user that permissions apply to")
def test_an_unreadable_file_is_refused_with_its_name(tmp_path: Path) -> None:
    db = tmp_path / "locked.sqlite3"
    write_observations(db, [obs()], {})
    db.chmod(0)
    try:
        with pytest.raises(StoreError) as caught:
            TraceReader(db)
    finally:
        db.chmod(0o600)
    assert str(caught.value) == f"cannot read {db}: permission denied"


def test_creating_a_database_in_a_missing_directory_names_the_directory(tmp_path: Path) -> None:
    db = tmp_path / "no" / "such" / "t.sqlite3"
    with pytest.raises(StoreError) as caught:
        write_observations(db, [obs()], {})
    assert str(caught.value) == f"cannot create database {db}: directory {db.parent} does not exist"
    assert not (tmp_path / "no").exists()


def test_a_zero_length_file_is_written_to_as_a_new_database(tmp_path: Path) -> None:
    db = tmp_path / "empty.sqlite3"
    db.touch()
    write_observations(db, [obs()], {})
    with TraceReader(db) as reader:
        assert reader.stats().calls == 1


def test_reading_a_zero_length_file_is_refused_without_writing_to_it(tmp_path: Path) -> None:
    db = tmp_path / "empty.sqlite3"
    db.touch()
    with pytest.raises(StoreError) as caught:
        TraceReader(db)
    assert str(caught.value) == f"database is empty (nothing has been recorded in it yet): {db}"
    assert db.stat().st_size == 0
    assert side_files(db) == []


def test_a_new_database_is_in_wal_mode_and_carries_the_application_id(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    write_observations(db, [obs()], {})
    header = db.read_bytes()[:100]
    assert header[18:20] == b"\x02\x02"  # file format read/write versions 2 = WAL
    assert int.from_bytes(header[68:72], "big") == APPLICATION_ID
    connection = sqlite3.connect(db)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert connection.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
        assert connection.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    finally:
        connection.close()


def test_connections_have_a_five_second_busy_timeout_and_foreign_keys_on(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    connection = connect(db, create=True)
    try:
        assert connection.execute("PRAGMA busy_timeout").fetchone() == (5000,)
        assert connection.execute("PRAGMA foreign_keys").fetchone() == (1,)
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert connection.isolation_level is None
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            connection.execute(
                "INSERT INTO signatures (function_id, code_hash, arg_types, return_type, yield_type, calls,"
                " first_seen, last_seen) VALUES (12345, '', '{}', '', '', 1, 0, 0)"
            )
    finally:
        connection.close()


def test_an_existing_database_is_reopened_not_recreated(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    write_observations(db, [obs("f")], {})
    write_observations(db, [obs("g")], {})
    with TraceReader(db) as reader:
        assert reader.stats().functions == 2


def test_store_error_is_one_line_even_when_built_from_a_multi_line_message(tmp_path: Path) -> None:
    error = StoreError(f"cannot read {tmp_path}:\n  something\tbad", tmp_path)
    assert str(error) == f"cannot read {tmp_path}: something bad"
    assert error.path == str(tmp_path)
