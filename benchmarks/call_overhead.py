"""Cost of tracing a call-heavy workload: untraced vs typeharvest vs MonkeyType, measured side by side.

Prints ratios to the untraced time of the same run (machines here are noisy: compare ratios, not seconds).
The workload calls small functions of a module under this folder: the case where per-call cost dominates.
Every call of a traced function is recorded (the first tracer has no sampling yet).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import workload

import typeharvest

CALLS = 100_000
REPEATS = 5


def untraced() -> None:
    workload.run(CALLS)


def with_typeharvest(db: str) -> Callable[[], None]:
    def run() -> None:
        with typeharvest.trace(db=db, include=["workload"]):
            workload.run(CALLS)

    return run


def with_monkeytype(db: str) -> Callable[[], None] | None:
    try:
        from monkeytype.config import DefaultConfig
        from monkeytype.db.sqlite import SQLiteStore
        from monkeytype.tracing import CallTraceLogger, trace_calls
    except ImportError:
        return None

    class Config(DefaultConfig):
        def trace_store(self) -> SQLiteStore:
            return SQLiteStore.make_store(db)

        def code_filter(self) -> Callable[[object], bool]:
            return lambda code: getattr(code, "co_filename", "").endswith("workload.py")

    config = Config()

    def run() -> None:
        logger: CallTraceLogger = config.trace_logger()
        with trace_calls(logger, config.code_filter(), config.sample_rate()):
            workload.run(CALLS)

    return run


def best_of(run: Callable[[], None]) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        contenders: list[tuple[str, Callable[[], None] | None]] = [
            ("untraced", untraced),
            ("typeharvest (every call)", with_typeharvest(os.path.join(tmp, "th.sqlite3"))),
            ("MonkeyType (every call)", with_monkeytype(os.path.join(tmp, "mt.sqlite3"))),
        ]
        # Interleave the contenders so that machine noise hits them alike.
        samples: dict[str, list[float]] = {name: [] for name, run in contenders if run is not None}
        for _ in range(3):
            for name, run in contenders:
                if run is not None:
                    samples[name].append(best_of(run))
    base = statistics.median(samples["untraced"])
    version = sys.version.split()[0]
    print(
        f"{CALLS:,} calls of small functions, Python {version}: time as a ratio to untraced, lower is better"
    )
    for name, values in samples.items():
        print(f"  {name:<28} {statistics.median(values) / base:6.2f}x")
    for name, run in contenders:
        if run is None:
            print(f"  {name:<28} not installed")


if __name__ == "__main__":
    main()
