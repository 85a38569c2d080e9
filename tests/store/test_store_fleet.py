"""Code awareness, writers, schema migration, merging shards, pruning: the store a fleet can trust."""

import shutil
import socket
import sqlite3
import time
from pathlib import Path

import pytest

from typeharvest.records import FunctionInfo, FunctionKind, Observation, Parameter, ParameterKind, Signature
from typeharvest.store import SCHEMA_VERSION, SQLiteTraceStore, StoreError, TraceReader, write_observations
from typeharvest.store.maintenance import merge, prune

FIXTURES = Path(__file__).parent.parent / "fixtures" / "store"


def function(qualname="f", code_hash="v1", parameters=("x",)):
    return FunctionInfo(
        "app.mod",
        qualname,
        "/src/app/mod.py",
        1,
        FunctionKind.FUNCTION,
        tuple(Parameter(name, ParameterKind.POSITIONAL_OR_KEYWORD) for name in parameters),
        code_hash,
    )


def observe(info, arg, calls=1, seen=1000.0):
    return Observation(info, Signature((arg,) * len(info.parameters), arg), calls, seen, seen)


def calls_in(db):
    with TraceReader(db) as reader:
        return reader.stats().calls


def test_observations_of_changed_code_are_kept_but_stale(tmp_path):
    db = tmp_path / "t.sqlite3"
    write_observations(db, [observe(function(code_hash="v1"), "builtins.int", 5)], {})
    write_observations(db, [observe(function(code_hash="v2", parameters=("x", "y")), "builtins.str", 2)], {})
    with TraceReader(db) as reader:
        current = reader.observations("app.mod")
        everything = reader.observations("app.mod", include_stale=True)
        stats = reader.stats()
    assert [(o.signature.arg_types, o.calls) for o in current] == [(("builtins.str", "builtins.str"), 2)]
    # The stale row knows only x: its types are never read as y's.
    assert sorted((o.signature.arg_types, o.calls) for o in everything) == [
        (("builtins.int", ""), 5),
        (("builtins.str", "builtins.str"), 2),
    ]
    assert stats.stale_signatures == 1


def test_an_import_adds_to_functions_as_described_and_to_their_current_code(tmp_path):
    db = tmp_path / "t.sqlite3"
    traced = function(code_hash="v2", parameters=("x", "y"))
    write_observations(db, [observe(traced, "builtins.int", 3)], {})
    imported = function(code_hash="", parameters=("x", "y"))  # a foreign tool knows no code hash
    write_observations(
        db,
        [observe(imported, "builtins.int", 4), observe(imported, "builtins.str", 1)],
        {},
        describe_functions=False,
    )
    new = function("g", code_hash="", parameters=("a",))
    write_observations(db, [observe(new, "builtins.bytes", 2)], {}, describe_functions=False)
    with TraceReader(db) as reader:
        current = reader.observations("app.mod")
        stats = reader.stats()
    assert sorted(
        (o.function.qualname, o.function.code_hash, o.signature.return_type, o.calls) for o in current
    ) == [
        ("f", "v2", "builtins.int", 7),
        ("f", "v2", "builtins.str", 1),
        ("g", "", "builtins.bytes", 2),
    ]
    assert stats.stale_signatures == 0


def test_each_row_remembers_the_host_process_and_source_that_wrote_it(tmp_path):
    db = tmp_path / "t.sqlite3"
    SQLiteTraceStore(db).sink("pytest")([observe(function(), "builtins.int")], {})
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT w.host, w.pid, w.source FROM signatures s JOIN writers w ON w.id = s.writer_id"
        ).fetchall()
    import os

    assert rows == [(socket.gethostname(), os.getpid(), "pytest")]


def test_a_database_of_the_first_schema_is_migrated_on_open(tmp_path):
    db = tmp_path / "old.sqlite3"
    shutil.copy(FIXTURES / "schema-v1.sqlite3", db)
    with TraceReader(db) as reader:
        stats = reader.stats()
        double = reader.observations("legacy.mod")
    assert stats.schema_version == SCHEMA_VERSION == 3
    assert (stats.functions, stats.signatures, stats.calls, stats.tracer_errors) == (2, 3, 12, 2)
    assert {(o.function.qualname, o.signature.arg_types, o.calls) for o in double} == {
        ("double", ("builtins.int",), 7),
        ("double", ("builtins.str",), 2),
        ("Box.items", ("legacy.mod.Box",), 3),
    }
    write_observations(db, [observe(function(), "builtins.int")], {})
    assert calls_in(db) == 13


def test_a_newer_schema_is_refused_and_left_alone(tmp_path):
    db = tmp_path / "new.sqlite3"
    write_observations(db, [observe(function(), "builtins.int")], {})
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE schema_version SET version = 99")
    connection.close()
    before = db.read_bytes()
    with pytest.raises(StoreError, match="newer typeharvest"):
        TraceReader(db)
    assert db.read_bytes() == before


def test_merge_adds_counts_and_never_takes_a_shard_twice(tmp_path):
    host_a, host_b, out = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3", tmp_path / "out.sqlite3"
    write_observations(
        host_a, [observe(function(), "builtins.int", 3), observe(function("g"), "builtins.str", 1)], {"E": 1}
    )
    write_observations(host_b, [observe(function(), "builtins.int", 4)], {"E": 2})
    results = merge(out, [host_a, host_b, host_a])
    assert [(Path(r.shard).name, r.merged, r.reason) for r in results] == [
        ("a.sqlite3", True, ""),
        ("b.sqlite3", True, ""),
        ("a.sqlite3", False, "already merged"),
    ]
    assert [r.merged for r in merge(out, [host_b])] == [False]
    with TraceReader(out) as reader:
        stats = reader.stats()
        rows = {(o.function.qualname, o.calls) for o in reader.observations("app.mod")}
    assert rows == {("f", 7), ("g", 1)}
    assert (stats.calls, stats.tracer_errors, stats.shards_merged) == (8, 3, 2)


def test_a_merged_database_carries_its_shards_so_they_are_not_counted_again(tmp_path):
    a, b, region, fleet = (tmp_path / f"{name}.sqlite3" for name in ("a", "b", "region", "fleet"))
    write_observations(a, [observe(function(), "builtins.int", 3)], {})
    write_observations(b, [observe(function(), "builtins.int", 4)], {})
    merge(region, [a])
    merge(fleet, [a])
    results = merge(fleet, [region, b])
    assert [(r.merged, r.reason) for r in results] == [
        (False, "contains 1 shard(s) already merged"),
        (True, ""),
    ]
    assert calls_in(fleet) == 7


def test_merge_refuses_bad_shards_before_writing_anything(tmp_path):
    out = tmp_path / "out.sqlite3"
    good = tmp_path / "good.sqlite3"
    write_observations(good, [observe(function(), "builtins.int")], {})
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(StoreError, match="not a typeharvest database"):
        merge(out, [good, junk])
    assert not out.exists()
    with pytest.raises(StoreError, match="into itself"):
        merge(good, [good])


def test_prune_deletes_old_and_stale_rows_and_shrinks_the_file(tmp_path):
    db = tmp_path / "t.sqlite3"
    now = time.time()
    old = [observe(function(f"old{i}"), "builtins.int", seen=now - 40 * 86400) for i in range(200)]
    write_observations(db, old, {})
    write_observations(db, [observe(function("keep", code_hash="v1"), "builtins.int", seen=now)], {})
    write_observations(db, [observe(function("keep", code_hash="v2"), "builtins.str", seen=now)], {})
    store = SQLiteTraceStore(db)
    by_age = store.prune(older_than=30 * 86400)
    assert (by_age.signatures_deleted, by_age.functions_deleted) == (200, 200)
    assert by_age.bytes_after < by_age.bytes_before
    by_staleness = prune(db, stale=True)
    assert by_staleness.signatures_deleted == 1
    with TraceReader(db) as reader:
        assert [o.signature.return_type for o in reader.observations("app.mod", include_stale=True)] == [
            "builtins.str"
        ]
