"""The tracer: records the types that a running program's own functions receive, return and yield.

It knows nothing of where observations go: it hands them to an ``ObservationSink`` from a background
thread every flush interval, when it stops, and at interpreter exit. It imports only the standard library,
because it runs inside production processes.

Two scopes (``TracerConfig.scope``): "process" records every thread's calls (``typeharvest run``,
``typeharvest.trace()``, pytest); "units" records only inside sampled units of work, which integrations
delimit with ``begin``/``end`` or ``with tracer.sampled(request):`` around each request.
"""

from __future__ import annotations

import atexit
import contextvars
import dataclasses
import os
import random
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

from typeharvest.records import ObservationSink
from typeharvest.tracer.config import TracerConfig
from typeharvest.tracer.flusher import PeriodicThread
from typeharvest.tracer.governor import GovernorReport, OverheadGovernor
from typeharvest.tracer.recorder import Recorder
from typeharvest.tracer.sampling import mark_sampled, unmark
from typeharvest.tracer.selection import CodeSelector, main_module_name
from typeharvest.tracer.typenames import TypeNamer

__all__ = ["Tracer", "TracerAlreadyActive", "TracerConfig", "TracerStatus", "UnitToken"]


class TracerAlreadyActive(RuntimeError):
    """Only one tracer can own the interpreter's hooks at a time."""


class _Backend(Protocol):
    def install(self) -> None: ...

    def uninstall(self) -> None: ...

    def enter_unit(self) -> None: ...

    def exit_unit(self, *, keep_armed: bool) -> None: ...

    def restart(self) -> None: ...

    def after_fork_in_child(self) -> None: ...


UnitToken = contextvars.Token[bool]


@dataclass(frozen=True, slots=True)
class TracerStatus:
    """What the tracer has done so far, for integrations to show and tests to check."""

    running: bool
    scope: str
    governor: GovernorReport
    flushes: int
    rearms: int
    flush_failures: int


class SampledUnit:
    """The context manager of ``Tracer.sampled``: a class, as a generator-based one costs a microsecond."""

    __slots__ = ("_subject", "_token", "_tracer")

    def __init__(self, tracer: Tracer, subject: object) -> None:
        self._tracer = tracer
        self._subject = subject
        self._token: UnitToken | None = None

    def __enter__(self) -> bool:
        self._token = self._tracer.begin(self._subject)
        return self._token is not None

    def __exit__(self, *exc_info: object) -> None:
        self._tracer.end(self._token)


_active_lock = threading.Lock()
_active: Tracer | None = None


class Tracer:
    """Starts and stops the interpreter hook, samples units of work, and delivers observations to ``sink``."""

    def __init__(self, sink: ObservationSink, config: TracerConfig | None = None, **settings: Any) -> None:
        config = dataclasses.replace(config or TracerConfig(), **settings)
        if config.main_module is None:
            config = dataclasses.replace(config, main_module=main_module_name())
        self.config = config
        self._sink = sink
        self._recorder = Recorder(
            config,
            CodeSelector(
                config.include, config.root, config.main_module, config.exclude, config.exclude_files
            ),
            TypeNamer(config.main_module),
        )
        self._governor = OverheadGovernor(config.sample_rate, config.overhead_target)
        self._random = random.Random(config.seed)
        self._backend: _Backend | None = None
        self._flusher = PeriodicThread(self._tick, config.flush_interval)
        self._flush_lock = threading.Lock()
        self._pid = os.getpid()
        self._last_tick_ns = time.perf_counter_ns()
        self._last_rearm = time.monotonic()
        self._flushes = self._rearms = self._flush_failures = 0

    @property
    def running(self) -> bool:
        return self._backend is not None

    def start(self) -> None:
        """Install the hook this interpreter supports best and start the background flusher."""
        global _active
        with _active_lock:
            if _active is not None:
                raise TracerAlreadyActive("typeharvest is already tracing in this process")
            _active = self
        backend: _Backend
        if sys.version_info >= (3, 12):
            from typeharvest.tracer.monitoring_backend import MonitoringBackend

            backend = MonitoringBackend(self._recorder)
        else:
            from typeharvest.tracer.profile_backend import ProfileBackend

            backend = ProfileBackend(self._recorder)
        self._pid = os.getpid()
        self._last_tick_ns = time.perf_counter_ns()
        self._last_rearm = time.monotonic()
        try:
            backend.install()
        except BaseException:
            with _active_lock:
                _active = None
            raise
        self._backend = backend
        self._flusher.start()
        atexit.register(self.stop)

    def stop(self) -> None:
        """Remove the hook and hand everything recorded to the sink; calling it twice is harmless."""
        global _active
        backend, self._backend = self._backend, None
        if backend is None:
            return
        self._flusher.stop()
        backend.uninstall()
        atexit.unregister(self.stop)
        with _active_lock:
            _active = None
        self._recorder.finish_pending()
        self.flush()

    def begin(self, subject: object = None) -> UnitToken | None:
        """Decide whether the unit of work starting now (``subject``: e.g. the request) is traced.

        Returns a token to pass to ``end`` when it is, else None (``end(None)`` does nothing). A sampler
        that raises counts as a tracer error and samples nothing.
        """
        if self._backend is None or not self._chosen(subject):
            return None
        self._recorder.unit += 1
        return self.resume()

    def resume(self) -> UnitToken | None:
        """Enter again a unit of work that ``begin`` chose, without a new sampling decision.

        For work that belongs to a request but runs after its handler returned, in another context: a
        streamed response's body, a WSGI response iterable. End it with ``end`` as usual.
        """
        backend = self._backend
        if backend is None:
            return None
        token = mark_sampled()
        backend.enter_unit()
        return token

    def end(self, token: UnitToken | None) -> None:
        """End the unit of work begun with ``token``."""
        if token is None:
            return
        backend = self._backend
        if backend is not None:
            backend.exit_unit(keep_armed=self._governor.rate >= 1.0)
        unmark(token)

    def sampled(self, subject: object = None) -> SampledUnit:
        """``with tracer.sampled(request) as traced:`` runs the block as one unit of work."""
        return SampledUnit(self, subject)

    def flush(self) -> None:
        """Deliver what was aggregated so far to the sink (a failing sink is counted, never raised)."""
        if os.getpid() != self._pid:
            self._after_fork_in_child()
            return
        with self._flush_lock:
            observations, errors = self._recorder.drain()
            if not observations and not errors:
                return
            try:
                self._sink(observations, errors)
                self._flushes += 1
            except Exception as exc:
                self._flush_failures += 1
                print(f"typeharvest: could not save traces: {exc}", file=sys.stderr)

    def status(self) -> TracerStatus:
        """A snapshot of the tracer's state."""
        return TracerStatus(
            running=self.running,
            scope=self.config.scope,
            governor=dataclasses.replace(self._governor.report),
            flushes=self._flushes,
            rearms=self._rearms,
            flush_failures=self._flush_failures,
        )

    def _chosen(self, subject: object) -> bool:
        rate = self._governor.rate
        sampler = self.config.sampler
        if sampler is None:
            return rate >= 1.0 or self._random.random() < rate
        try:
            chosen = bool(sampler(subject))
        except Exception as exc:
            self._recorder.error(exc)
            return False
        scale = rate / self.config.sample_rate if self.config.sample_rate else 1.0
        return chosen and (scale >= 1.0 or self._random.random() < scale)

    def _tick(self) -> None:
        """The flusher's periodic work: weigh the overhead, renew budgets when due, flush."""
        try:
            now_ns = time.perf_counter_ns()
            busy_ns, self._recorder.busy_ns = self._recorder.busy_ns, 0
            rate = self._governor.update(busy_ns, now_ns - self._last_tick_ns)
            self._last_tick_ns = now_ns
            if self._recorder.everything:
                self._recorder.call_rate = rate
            if time.monotonic() - self._last_rearm >= self.config.rearm_interval:
                self.rearm()
            self.flush()
        except Exception as exc:  # the flusher thread must survive anything
            self._recorder.error(exc)

    def rearm(self) -> None:
        """Renew every function's budget so that types first seen from now on are recorded too."""
        self._last_rearm = time.monotonic()
        self._recorder.rearm()
        backend = self._backend
        if backend is not None:
            backend.restart()
        self._rearms += 1

    def _after_fork_in_child(self) -> None:
        """A forked child starts with an empty buffer (its parent flushes its own) and its own flusher."""
        self._pid = os.getpid()
        self._flush_lock = threading.Lock()
        self._recorder.forget_buffer()
        backend = self._backend
        if backend is not None:
            backend.after_fork_in_child()
            self._flusher.start()


def _after_fork_in_child() -> None:
    tracer = _active
    if tracer is not None and tracer.running:
        tracer._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
