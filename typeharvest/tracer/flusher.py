"""A daemon thread that calls a function on an interval: how observations leave the hot path."""

from __future__ import annotations

import threading
from collections.abc import Callable


class PeriodicThread:
    """Calls ``work`` every ``interval`` seconds in a daemon thread until ``stop``.

    A daemon, so that it never keeps a finishing program alive; the final flush happens in ``stop``
    (called from the tracer's ``atexit`` handler), not in this thread.
    """

    def __init__(self, work: Callable[[], None], interval: float, name: str = "typeharvest-flusher") -> None:
        self._work = work
        self._interval = interval
        self._name = name
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (again, after a fork killed the parent's)."""
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for a call of ``work`` in progress to finish."""
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread() and thread.is_alive():
            thread.join()

    def _run(self) -> None:
        stopping = self._stopping
        while not stopping.wait(self._interval):
            self._work()
