"""Counters and time ranges add up across writes and within one write; batches are all-or-nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from typeharvest.records import (
    NOT_OBSERVED,
    FunctionInfo,
    FunctionKind,
    Observation,
    Parameter,
    ParameterKind,
    Signature,
)
from typeharvest.store import StoreError, TraceReader, write_observations

F = FunctionInfo(
    "m", "f", "/src/m.py", 3, FunctionKind.FUNCTION, (Parameter("x", ParameterKind.POSITIONAL_OR_KEYWORD),)
)


def obs(
    arg: str = "int", calls: int = 1, first: float = 100.0, last: float = 100.0, ret: str = "int"
) -> Observation:
    return Observation(F, Signature((arg,), ret), calls, first, last)


def read(db: Path) -> list[Observation]:
    with TraceReader(db) as reader:
        return reader.observations("m")


def test_calls_of_the_same_signature_add_up_across_two_writes(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    write_observations(db, [obs(calls=3), obs("str", calls=1)], {})
    write_observations(db, [obs(calls=4)], {})
    assert [(o.signature.arg_types, o.calls) for o in read(db)] == [(("int",), 7), (("str",), 1)]


def test_the_same_signature_twice_in_one_write_is_added_into_one_row(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    write_observations(db, [obs(calls=2), obs(calls=5), obs(calls=1)], {})
    (only,) = read(db)
    assert only.calls == 8


def test_signatures_differing_only_in_return_or_yield_type_are_kept_apart(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    write_observations(
        db,
        [
            Observation(F, Signature(("int",), "int"), 1, 1.0, 1.0),
            Observation(F, Signature(("int",), "str"), 1, 1.0, 1.0),
            Observation(F, Signature(("int",), NOT_OBSERVED, "int"), 1, 1.0, 1.0),
            Observation(F, Signature(("int",), NOT_OBSERVED, NOT_OBSERVED), 1, 1.0, 1.0),
        ],
        {},
    )
    write_observations(db, [Observation(F, Signature(("int",), NOT_OBSERVED), 2, 1.0, 1.0)], {})
    calls = {(o.signature.return_type, o.signature.yield_type): o.calls for o in read(db)}
    assert calls == {("int", ""): 1, ("str", ""): 1, ("", "int"): 1, ("", ""): 3}


def test_first_seen_keeps_the_minimum_and_last_seen_the_maximum(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    write_observations(db, [obs(first=100.0, last=200.0)], {})
    write_observations(db, [obs(first=50.0, last=150.0)], {})
    write_observations(db, [obs(first=120.0, last=300.0), obs(first=110.0, last=130.0)], {})
    (only,) = read(db)
    assert (only.first_seen, only.last_seen, only.calls) == (50.0, 300.0, 4)


def test_a_function_row_takes_the_latest_filename_line_kind_and_parameters(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    moved = FunctionInfo(
        "m", "f", "/new/m.py", 40, FunctionKind.GENERATOR, (Parameter("y", ParameterKind.KEYWORD_ONLY),)
    )
    write_observations(db, [obs()], {})
    write_observations(db, [Observation(moved, Signature(("str",), ""), 1, 1.0, 1.0)], {})
    observations = read(db)
    assert {o.function for o in observations} == {moved}
    assert len(observations) == 2
    with TraceReader(db) as reader:
        assert reader.stats().functions == 1


def test_within_one_write_the_last_description_of_a_function_wins(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    other = FunctionInfo("m", "f", "/other/m.py", 99, FunctionKind.FUNCTION, F.parameters)
    write_observations(
        db,
        [obs(), Observation(other, Signature(("str",), "str"), 1, 1.0, 1.0), obs("bytes")],
        {},
    )
    assert {o.function for o in read(db)} == {F}


def test_tracer_error_counts_add_up_per_kind_and_zero_counts_are_ignored(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    write_observations(db, [obs()], {"repr": 1, "typename": 2, "unused": 0})
    write_observations(db, [], {"repr": 3})
    with TraceReader(db) as reader:
        stats = reader.stats()
    assert stats.errors_by_kind == {"repr": 4, "typename": 2}
    assert stats.tracer_errors == 6


def test_a_write_with_only_errors_creates_the_database(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    write_observations(db, [], {"overflow": 1})
    with TraceReader(db) as reader:
        assert reader.stats().errors_by_kind == {"overflow": 1}


@pytest.mark.parametrize("errors", [{}, {"repr": 0}])
def test_writing_nothing_does_not_create_the_file(tmp_path: Path, errors: dict[str, int]) -> None:
    db = tmp_path / "t.sqlite3"
    write_observations(db, [], errors)
    assert list(tmp_path.iterdir()) == []


def test_a_batch_that_fails_half_way_writes_nothing_of_it(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    write_observations(db, [obs(calls=1)], {"repr": 1})
    broken = Observation(F, Signature(("str",), "str"), None, 1.0, 1.0)  # type: ignore[arg-type]  # NOT NULL
    other = FunctionInfo("m", "g", "/src/m.py", 9, FunctionKind.FUNCTION, ())
    with pytest.raises(StoreError, match="NOT NULL"):
        write_observations(
            db, [obs(calls=5), Observation(other, Signature((), "int"), 1, 1.0, 1.0), broken], {"repr": 1}
        )
    with TraceReader(db) as reader:
        stats = reader.stats()
    assert (stats.functions, stats.signatures, stats.calls, stats.tracer_errors) == (1, 1, 1, 1)


def test_writes_wait_for_a_held_lock_and_then_fail_with_a_message_naming_the_file(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    write_observations(db, [obs()], {})
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError) as caught:
            write_observations(db, [obs(calls=10)], {})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert str(caught.value) == f"database is locked: {db} (another process held it for more than 5 s)"
    (only,) = read(db)
    assert only.calls == 1
