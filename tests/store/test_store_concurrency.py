"""Several real processes flushing into one file at once lose nothing and fail nothing."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from typeharvest.records import FunctionInfo, FunctionKind, Observation, Parameter, ParameterKind, Signature
from typeharvest.store import TraceReader, write_observations

PROCESSES = 4
WRITES_PER_PROCESS = 50
OBSERVATIONS_PER_WRITE = 10


def batch(worker: int, write: int) -> list[Observation]:
    """Ten observations: shared signatures (contended upserts) and one per worker (contended inserts)."""
    shared = FunctionInfo(
        "shared.mod",
        "f",
        "/src/shared/mod.py",
        1,
        FunctionKind.FUNCTION,
        (Parameter("x", ParameterKind.POSITIONAL_OR_KEYWORD),),
    )
    own = FunctionInfo(f"worker{worker}", "g", f"/src/worker{worker}.py", 1, FunctionKind.FUNCTION, ())
    observations = [
        Observation(shared, Signature((f"T{i}",), "None"), i + 1, float(write), float(write + 1))
        for i in range(8)
    ]
    observations.append(Observation(own, Signature((), "int"), 3, float(write), float(write)))
    observations.append(Observation(own, Signature((), f"W{write}"), 1, float(write), float(write)))
    assert len(observations) == OBSERVATIONS_PER_WRITE
    return observations


def worker_main(path: str, worker: int, start: Any) -> None:
    start.wait()  # all processes race, including for creating the file
    for write in range(WRITES_PER_PROCESS):
        write_observations(path, batch(worker, write), {})


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_four_processes_writing_fifty_batches_each_give_exact_totals(tmp_path: Path, method: str) -> None:
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} on this platform")
    db = tmp_path / "shared.sqlite3"
    context = multiprocessing.get_context(method)
    start = context.Barrier(PROCESSES)
    processes = [
        context.Process(target=worker_main, args=(str(db), worker, start)) for worker in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [process.exitcode for process in processes] == [0] * PROCESSES

    expected_per_write = sum(o.calls for o in batch(0, 0))
    with TraceReader(db) as reader:
        stats = reader.stats()
        shared = reader.observations("shared.mod")
        own = reader.observations("worker0")
    assert stats.calls == PROCESSES * WRITES_PER_PROCESS * expected_per_write
    assert stats.tracer_errors == 0
    assert stats.functions == 1 + PROCESSES
    assert stats.signatures == 8 + PROCESSES * (1 + WRITES_PER_PROCESS)
    assert [o.calls for o in shared] == [PROCESSES * WRITES_PER_PROCESS * (i + 1) for i in reversed(range(8))]
    assert {(o.first_seen, o.last_seen) for o in shared} == {(0.0, float(WRITES_PER_PROCESS))}
    assert sum(o.calls for o in own) == WRITES_PER_PROCESS * 4
