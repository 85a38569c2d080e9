"""stats() numbers are exact, and its dataclass is what `typeharvest stats --json` can print as is."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from typeharvest.records import FunctionInfo, FunctionKind, Observation, Signature
from typeharvest.store import SCHEMA_VERSION, StoreStats, TraceReader, write_observations


def function(module: str, qualname: str) -> FunctionInfo:
    return FunctionInfo(module, qualname, f"/src/{module}.py", 1, FunctionKind.FUNCTION, ())


def test_stats_counts_functions_signatures_calls_modules_and_errors_exactly(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    f, g, h = function("a", "f"), function("a", "g"), function("b", "h")
    write_observations(
        db,
        [
            Observation(f, Signature((), "int"), 5, 1.0, 2.0),
            Observation(f, Signature((), "str"), 2, 1.0, 2.0),
            Observation(g, Signature((), "None"), 1, 1.0, 2.0),
        ],
        {"repr": 2},
    )
    write_observations(
        db,
        [
            Observation(h, Signature((), "bytes"), 10, 3.0, 4.0),
            Observation(f, Signature((), "int"), 1, 0.0, 9.0),
        ],
        {"repr": 1, "typename": 4},
    )
    with TraceReader(db) as reader:
        stats = reader.stats()
    assert stats == StoreStats(
        functions=3,
        signatures=4,
        calls=19,
        tracer_errors=7,
        errors_by_kind={"repr": 3, "typename": 4},
        modules=2,
        size_bytes=db.stat().st_size,
        path=str(db),
        schema_version=SCHEMA_VERSION,
        stale_signatures=0,
        oldest_seen=0.0,
        newest_seen=9.0,
        writers=1,
        shards_merged=0,
    )


def test_stats_of_an_empty_database_are_all_zero(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    write_observations(db, [], {"bootstrap": 1})
    with TraceReader(db) as reader:
        stats = reader.stats()
    assert (stats.functions, stats.signatures, stats.calls, stats.modules) == (0, 0, 0, 0)
    assert stats.size_bytes > 0


def test_stats_as_a_dict_is_json_with_the_keys_scripts_rely_on(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    write_observations(db, [Observation(function("a", "f"), Signature((), "int"), 3, 1.0, 2.0)], {"repr": 1})
    with TraceReader(db) as reader:
        data = json.loads(json.dumps(dataclasses.asdict(reader.stats())))
    assert {"functions": 1, "signatures": 1, "calls": 3, "tracer_errors": 1}.items() <= data.items()
    assert data["errors_by_kind"] == {"repr": 1}
