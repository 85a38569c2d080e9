"""The tracer's settings, in one place, with the defaults a production process can live with."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

#: "units": only code running inside a sampled unit of work (a request, a task) is recorded.
#: "process": every thread's code is recorded (``typeharvest run``, ``typeharvest.trace()``, pytest).
Scope = Literal["units", "process"]


@dataclass(frozen=True, slots=True)
class TracerConfig:
    """What the tracer records and what it may cost.

    ``include`` and ``exclude`` are module-name prefixes (an excluded prefix wins); without ``include``,
    code under ``root`` that is not a library is traced. ``exclude_files`` are ``fnmatch`` patterns of
    source files never traced (a test suite's own files, say): of the file's name (``test_*.py``), or, when
    the pattern has a path separator, of its absolute real path (``/srv/app/tests/*``).

    ``sample_rate`` is the probability that a unit of work is traced ("units" scope) or that a call is
    recorded ("process" scope). ``sampler``, if given, decides for a unit instead (it receives the object
    the integration passes, e.g. the request, and returns a bool). A function recorded ``budget`` times in
    a row without a new signature is switched off until the next re-arm, every ``rearm_interval`` seconds
    (0 disables budgets). In the "units" scope the budget shrinks with the sampling rate, to
    ``budget * sqrt(sample_rate)`` calls (at least 20), and a function is also switched off after
    ``budget * sample_rate`` (at least 2) sampled units in a row without a new signature. The governor
    lowers the sampling rate when recording takes more than ``overhead_target`` of wall time.
    Observations are flushed every ``flush_interval`` seconds.
    """

    include: Sequence[str] = ()
    exclude: Sequence[str] = ()
    exclude_files: Sequence[str] = ()
    root: str | os.PathLike[str] | None = None
    main_module: str | None = None
    scope: Scope = "process"
    sample_rate: float = 1.0
    sampler: Callable[[object], bool] | None = None
    budget: int = 200
    rearm_interval: float = 120.0
    overhead_target: float = 0.02
    flush_interval: float = 10.0
    max_signatures_per_function: int = 256
    max_buffered_signatures: int = 100_000
    seed: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.sample_rate <= 1.0:
            raise ValueError(f"sample_rate must be between 0 and 1, not {self.sample_rate}")
        if self.scope not in ("units", "process"):
            raise ValueError(f"scope must be 'units' or 'process', not {self.scope!r}")
        if self.budget < 0 or self.flush_interval <= 0 or self.rearm_interval <= 0:
            raise ValueError("budget must be >= 0, flush_interval and rearm_interval > 0")
        if not 0.0 < self.overhead_target <= 1.0:
            raise ValueError(f"overhead_target must be in (0, 1], not {self.overhead_target}")
