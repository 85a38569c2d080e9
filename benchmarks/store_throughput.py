"""The store under load: flush throughput, size per million calls, and 8 processes flushing at once.

Prints, from one run on this machine (noisy: read the numbers as orders of magnitude, the checks exactly):
1. signature rows per second flushed into a file that already holds 10**5 rows (half updates, half new);
2. database size after 10**6 traced calls over 1,000 functions, aggregated as the tracer aggregates them
   (one row per distinct signature), next to MonkeyType's one row per call (measured on 10**5 calls);
3. 8 processes flushing for 10 s into one file: the calls counted in the file must equal the calls the
   processes made, with zero failures; p50/p99 flush latency.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from typeharvest.records import FunctionInfo, FunctionKind, Observation, Parameter, ParameterKind, Signature
from typeharvest.store import TraceReader, write_observations

TYPES = ["builtins.int", "builtins.str", "builtins.float", "builtins.NoneType", "builtins.list[builtins.int]"]


def function(index: int) -> FunctionInfo:
    return FunctionInfo(
        f"app.module{index % 50}",
        f"function{index}",
        f"/src/app/module{index % 50}.py",
        index,
        FunctionKind.FUNCTION,
        (
            Parameter("a", ParameterKind.POSITIONAL_OR_KEYWORD),
            Parameter("b", ParameterKind.POSITIONAL_OR_KEYWORD),
        ),
        "v1",
    )


def observation(info: FunctionInfo, variant: int, calls: int = 1) -> Observation:
    a, b = TYPES[variant % 5], TYPES[(variant // 5) % 5]
    return Observation(info, Signature((a, b), f"app.Result{variant}"), calls, 1.0, 2.0)


def flush_throughput(folder: Path) -> float:
    db = folder / "throughput.sqlite3"
    functions = [function(i) for i in range(1000)]
    for start in range(0, 100, 10):  # 10**5 existing rows: 1,000 functions x 100 signatures
        write_observations(db, [observation(f, v) for f in functions for v in range(start, start + 10)], {})
    rows = 0
    began = time.perf_counter()
    for round_number in range(20):
        batch = [observation(f, v) for f in functions[:500] for v in (round_number, 100 + round_number)]
        write_observations(db, batch, {})
        rows += len(batch)
    return rows / (time.perf_counter() - began)


def size_per_million_calls(folder: Path) -> tuple[int, int, int]:
    db = folder / "size.sqlite3"
    rng = random.Random(7)
    functions = [function(i) for i in range(1000)]
    # Most functions see one or two signatures, a few see many: a skewed, realistic spread.
    variety = [1 + int(rng.paretovariate(1.5)) % 20 for _ in functions]
    pending: dict[tuple[int, int], int] = {}
    for call in range(1, 10**6 + 1):
        index = rng.randrange(1000)
        key = (index, rng.randrange(variety[index]))
        pending[key] = pending.get(key, 0) + 1
        if call % 50_000 == 0:  # a flush
            write_observations(db, [observation(functions[i], v, n) for (i, v), n in pending.items()], {})
            pending.clear()
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    (rows,) = connection.execute("SELECT count(*) FROM signatures").fetchone()
    connection.close()
    monkeytype = monkeytype_bytes_per_call(folder)
    return os.path.getsize(db), int(rows), monkeytype


def monkeytype_bytes_per_call(folder: Path) -> int:
    """MonkeyType's store writes one row per call: measure 10**5 rows written the way it writes them."""
    try:
        from monkeytype.db.sqlite import create_call_trace_table
    except ImportError:
        return -1
    db = folder / "monkeytype.sqlite3"
    connection = sqlite3.connect(db)
    create_call_trace_table(connection)
    row = (
        "2026-11-26 00:00:00.000000",
        "app.module1",
        "function1",
        '{"a": {"module": "builtins", "qualname": "int"}, "b": {"module": "builtins", "qualname": "str"}}',
        '{"module": "app", "qualname": "Result1"}',
        None,
    )
    with connection:
        connection.executemany("INSERT INTO monkeytype_call_traces VALUES (?, ?, ?, ?, ?, ?)", [row] * 10**5)
    connection.close()
    return os.path.getsize(db) * 10


def flusher(db: str, worker: int, seconds: float, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    rng = random.Random(worker)
    functions = [function(i) for i in range(200)]
    calls = 0
    latencies = []
    failures = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        batch = [
            observation(rng.choice(functions), rng.randrange(30), rng.randrange(1, 50)) for _ in range(50)
        ]
        began = time.perf_counter()
        try:
            write_observations(db, batch, {})
        except Exception:
            failures += 1
            continue
        latencies.append(time.perf_counter() - began)
        calls += sum(o.calls for o in batch)
    results.put((calls, latencies, failures))


def concurrent_flushing(folder: Path, processes: int, seconds: float) -> tuple[int, int, list[float], int]:
    db = str(folder / "concurrent.sqlite3")
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [context.Process(target=flusher, args=(db, i, seconds, results)) for i in range(processes)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=seconds + 120) for _ in workers]
    for worker in workers:
        worker.join()
    made = sum(calls for calls, _, _ in outcomes)
    latencies = sorted(latency for _, worker_latencies, _ in outcomes for latency in worker_latencies)
    failures = sum(failed for _, _, failed in outcomes)
    with TraceReader(db) as reader:
        counted = reader.stats().calls
    return made, counted, latencies, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2 s of concurrent flushing instead of 10 s")
    args = parser.parse_args()
    seconds = 2.0 if args.quick else 10.0
    print(f"Store benchmark, Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rate = flush_throughput(folder)
        print(f"  flush throughput into 10^5 existing rows: {rate:,.0f} signature rows/s")
        size, rows, monkeytype = size_per_million_calls(folder)
        print(f"  10^6 calls over 1,000 functions: {rows:,} signature rows, {size / 1e6:.2f} MB")
        if monkeytype > 0:
            print(
                f"  MonkeyType, one row per call: {monkeytype / 1e6:.1f} MB for 10^6 calls"
                f" ({monkeytype / size:.0f}x larger; measured on 10^5 rows)"
            )
        made, counted, latencies, failures = concurrent_flushing(folder, 8, seconds)
        p50 = statistics.median(latencies) * 1000
        p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
        verdict = "OK" if made == counted and failures == 0 else "MISMATCH"
        print(
            f"  8 processes x {seconds:g} s: {len(latencies):,} flushes, calls made {made:,},"
            f" counted {counted:,} [{verdict}], failures {failures},"
            f" flush latency p50 {p50:.1f} ms, p99 {p99:.1f} ms"
        )


if __name__ == "__main__":
    main()
