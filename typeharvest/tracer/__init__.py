"""The tracer: records the types that a running program's own functions receive, return and yield.

It knows nothing of where observations go: it hands them to an ``ObservationSink`` when it stops (and at
interpreter exit, if the program ends while it is still running). It imports only the standard library,
because it runs inside production processes.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections.abc import Sequence
from typing import Protocol

from typeharvest.records import ObservationSink
from typeharvest.tracer.recorder import Recorder
from typeharvest.tracer.selection import CodeSelector, main_module_name
from typeharvest.tracer.typenames import TypeNamer

__all__ = ["Tracer", "TracerAlreadyActive"]


class TracerAlreadyActive(RuntimeError):
    """Only one tracer can own the interpreter's hooks at a time."""


class _Backend(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


_active_lock = threading.Lock()
_active: Tracer | None = None


class Tracer:
    """Starts and stops the interpreter hook and delivers what it aggregated to ``sink``.

    ``include`` is a list of module-name prefixes; empty means "the code under ``root`` (default: the
    current directory) that is not the standard library or an installed package".
    """

    def __init__(
        self,
        sink: ObservationSink,
        *,
        include: Sequence[str] = (),
        root: str | os.PathLike[str] | None = None,
        main_module: str | None = None,
    ) -> None:
        self._sink = sink
        main = main_module if main_module is not None else main_module_name()
        self._recorder = Recorder(CodeSelector(include, root, main), TypeNamer(main))
        self._backend: _Backend | None = None

    @property
    def running(self) -> bool:
        return self._backend is not None

    def start(self) -> None:
        """Arm the hook with the backend this interpreter supports best."""
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
        backend.start()
        self._backend = backend
        atexit.register(self.stop)

    def stop(self) -> None:
        """Disarm the hook and hand everything recorded to the sink; calling it twice is harmless."""
        global _active
        backend, self._backend = self._backend, None
        if backend is None:
            return
        backend.stop()
        atexit.unregister(self.stop)
        with _active_lock:
            _active = None
        self._recorder.finish_pending()
        self.flush()

    def flush(self) -> None:
        """Deliver what was aggregated so far to the sink."""
        observations, errors = self._recorder.drain()
        if observations or errors:
            self._sink(observations, errors)
