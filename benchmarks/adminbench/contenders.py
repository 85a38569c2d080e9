"""The tracers the admin benchmark compares, each behind the same small interface.

A contender is started once in its process, then runs slices of requests (``run`` returns the seconds the
slice took, timed around the whole slice, tracer bookkeeping included) and finally reports what it recorded.
Every request of a typeharvest contender is one unit of work: ``with tracer.sampled(): request()``.
"""

from __future__ import annotations

import functools
import logging
import os
import random
import time
from typing import Any

from adminbench.harness import RequestMix

#: Names accepted on the command line -> (label, typeharvest settings or None).
TYPEHARVEST: dict[str, tuple[str, dict[str, Any]]] = {
    "th-0": ("typeharvest, sampling 0", {"sample_rate": 0.0}),
    "th-0.01": ("typeharvest, sampling 0.01", {"sample_rate": 0.01}),
    "th-0.1": ("typeharvest, sampling 0.1", {"sample_rate": 0.1}),
    "th-1": ("typeharvest, sampling 1.0", {"sample_rate": 1.0}),
    "th-1-nogov": ("typeharvest, 1.0, governor off", {"sample_rate": 1.0, "overhead_target": 1.0}),
    # Every call of every unit, no budgets, no governor: the reference the accuracy check compares with.
    "th-full": ("typeharvest, full tracing", {"sample_rate": 1.0, "budget": 0, "overhead_target": 1.0}),
}
LABELS = {
    "untraced": "untraced",
    "monkeytype": "MonkeyType, full tracing",
    **{name: label for name, (label, _) in TYPEHARVEST.items()},
}


class Untraced:
    def start(self) -> None:
        pass

    def rate(self) -> float | None:
        return None

    def run(self, mix: RequestMix, requests: int) -> float:
        began = time.perf_counter()
        for _ in range(requests):
            mix.request()
        return time.perf_counter() - began

    def stop(self) -> dict[str, Any]:
        return {}


class Typeharvest:
    """typeharvest in "units" scope over ``django.*``, flushing into the SQLite file ``db``.

    With ``forceable``, units are chosen by a sampler that draws with the configured probability, as the
    tracer itself would, unless ``force`` is set: to True or False, or to a list of decisions taken one per
    unit (False once it is empty). That is how the callgrind child measures sampled and unsampled requests
    apart. The governor's scaling applies either way.
    """

    def __init__(
        self, db: str, settings: dict[str, Any], seed: int | None = None, forceable: bool = False
    ) -> None:
        from typeharvest.store import write_observations
        from typeharvest.tracer import Tracer, TracerConfig

        # The governor logs when it throttles; its report is printed instead.
        logging.getLogger("typeharvest").addHandler(logging.NullHandler())
        self.db = db
        self.force: bool | list[bool] | None = None
        self.traced_units = 0
        self._random = random.Random(seed)
        if forceable:
            settings = {**settings, "sampler": self._sampler}
        config = TracerConfig(include=("django",), scope="units", seed=seed, **settings)
        self.tracer = Tracer(functools.partial(write_observations, db), config)

    def _sampler(self, subject: object) -> bool:
        if isinstance(self.force, list):
            return self.force.pop(0) if self.force else False
        if self.force is not None:
            return self.force
        return self._random.random() < self.tracer.config.sample_rate

    def start(self) -> None:
        self.tracer.start()

    def rate(self) -> float | None:
        return self.tracer.status().governor.rate

    def run(self, mix: RequestMix, requests: int) -> float:
        sampled = self.tracer.sampled
        traced_units = 0
        began = time.perf_counter()
        for _ in range(requests):
            with sampled() as traced:
                mix.request()
            traced_units += traced
        elapsed = time.perf_counter() - began
        self.traced_units += traced_units
        return elapsed

    def stop(self) -> dict[str, Any]:
        self.tracer.stop()
        status = self.tracer.status()
        report: dict[str, Any] = {
            "rate": status.governor.rate,
            "throttles": status.governor.throttles,
            "recoveries": status.governor.recoveries,
            "overhead": status.governor.last_overhead,
            "rearms": status.rearms,
            "flushes": status.flushes,
            "flush_failures": status.flush_failures,
        }
        if os.path.exists(self.db):
            from typeharvest.store import TraceReader

            with TraceReader(self.db) as reader:
                stats = reader.stats()
            report.update(functions=stats.functions, signatures=stats.signatures, errors=stats.errors_by_kind)
        return report


class _CountingStore:
    """Where MonkeyType's logger flushes to: counts the traces and drops them (no SQLite)."""

    def __init__(self) -> None:
        self.traces = 0

    def add(self, traces: list[Any]) -> None:
        self.traces += len(traces)


class MonkeyType:
    """MonkeyType 23.3's ``sys.setprofile`` tracer, every call of a function in a ``django`` file.

    Its traces are kept in memory as usual and handed to a store that only counts them at the end of each
    slice: MonkeyType's SQLite flush (which would dominate) is not part of the measurement.
    """

    def __init__(self) -> None:
        from monkeytype.config import DefaultConfig
        from monkeytype.db.base import CallTraceStoreLogger
        from monkeytype.tracing import trace_calls

        self._trace_calls = trace_calls
        self._store = _CountingStore()
        self._logger = CallTraceStoreLogger(self._store)  # type: ignore[arg-type]
        self._max_typed_dict_size = DefaultConfig().max_typed_dict_size()
        self._requests = 0

    @staticmethod
    def _code_filter(code: Any) -> bool:
        return f"{os.sep}django{os.sep}" in code.co_filename

    def start(self) -> None:
        pass

    def rate(self) -> float | None:
        return None

    def run(self, mix: RequestMix, requests: int) -> float:
        began = time.perf_counter()
        with self._trace_calls(self._logger, self._max_typed_dict_size, self._code_filter):
            for _ in range(requests):
                mix.request()
        elapsed = time.perf_counter() - began
        self._requests += requests
        return elapsed

    def stop(self) -> dict[str, Any]:
        self._logger.flush()
        return {"traces_per_request": self._store.traces / max(1, self._requests)}


def make(
    name: str, db: str, seed: int | None = None, forceable: bool = False, **overrides: Any
) -> Untraced | Typeharvest | MonkeyType:
    """The contender called ``name`` (a key of ``LABELS``); typeharvest ones write to ``db``.

    ``overrides`` replace typeharvest settings of the named contender.
    """
    if name == "untraced":
        return Untraced()
    if name == "monkeytype":
        return MonkeyType()
    if name in TYPEHARVEST:
        return Typeharvest(db, {**TYPEHARVEST[name][1], **overrides}, seed, forceable)
    raise ValueError(f"unknown contender {name!r}")
