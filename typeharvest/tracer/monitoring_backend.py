"""The PEP 669 (``sys.monitoring``, Python 3.12+) backend.

Why it is cheap: the interpreter calls back only for events a tool asked for, and a callback that returns
``DISABLE`` is never called again for that code location. So a function that is not the application's own
costs one ``PY_START`` callback in the life of the process; return and yield events are switched on only
for the code objects that are traced. ``PY_UNWIND`` cannot be set per code object, so it stays global; it
fires only when an exception leaves a frame.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from typeharvest.tracer.recorder import Recorder

# A tool id is the claim of one tool on the interpreter; these are tried in order (the profiler's slot
# first, then the ones no convention assigns), so coverage.py and debuggers keep theirs.
_CANDIDATE_TOOL_IDS = (2, 4, 3, 5)
_TOOL_NAME = "typeharvest"
_ever_started = False


class MonitoringBackend:
    """Feeds a Recorder from ``sys.monitoring`` events, for every thread of the process."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self._tool_id: int | None = None
        self._local_codes: list[types.CodeType] = []

    def start(self) -> None:
        """Claim a tool id and arm the events (all threads: monitoring is process-global)."""
        global _ever_started
        monitoring = sys.monitoring
        self._tool_id = _claim_tool_id()
        events = monitoring.events
        monitoring.register_callback(self._tool_id, events.PY_START, self._on_start)
        monitoring.register_callback(self._tool_id, events.PY_RETURN, self._on_return)
        monitoring.register_callback(self._tool_id, events.PY_YIELD, self._on_yield)
        monitoring.register_callback(self._tool_id, events.PY_UNWIND, self._on_unwind)
        if _ever_started:
            # Locations disabled by an earlier run in this process must fire again for the new one.
            monitoring.restart_events()
        _ever_started = True
        monitoring.set_events(self._tool_id, events.PY_START | events.PY_UNWIND)

    def stop(self) -> None:
        """Disarm every event and give the tool id back."""
        if self._tool_id is None:
            return
        monitoring = sys.monitoring
        tool_id, self._tool_id = self._tool_id, None
        monitoring.set_events(tool_id, 0)
        for code in self._local_codes:
            monitoring.set_local_events(tool_id, code, 0)
        self._local_codes.clear()
        for event in (
            monitoring.events.PY_START,
            monitoring.events.PY_RETURN,
            monitoring.events.PY_YIELD,
            monitoring.events.PY_UNWIND,
        ):
            monitoring.register_callback(tool_id, event, None)
        monitoring.free_tool_id(tool_id)

    # The callbacks: each catches everything, because an exception here would surface in the host program.

    def _on_start(self, code: types.CodeType, offset: int) -> Any:
        try:
            frame = sys._getframe(1)
            recorder = self._recorder
            entry = recorder.known_entry(code)
            if entry is None:
                entry = recorder.entry(code, frame)
                if entry.info is not None and self._tool_id is not None:
                    events = sys.monitoring.events
                    sys.monitoring.set_local_events(self._tool_id, code, events.PY_RETURN | events.PY_YIELD)
                    self._local_codes.append(code)
            if entry.info is None:
                return sys.monitoring.DISABLE
            recorder.started(entry, frame)
        except Exception as exc:
            self._recorder.error(exc)
        return None

    def _on_return(self, code: types.CodeType, offset: int, value: object) -> Any:
        try:
            self._recorder.returned(code, sys._getframe(1), value)
        except Exception as exc:
            self._recorder.error(exc)

    def _on_yield(self, code: types.CodeType, offset: int, value: object) -> Any:
        try:
            self._recorder.yielded(code, sys._getframe(1), value)
        except Exception as exc:
            self._recorder.error(exc)

    def _on_unwind(self, code: types.CodeType, offset: int, exception: BaseException) -> Any:
        try:
            self._recorder.unwound(code, sys._getframe(1))
        except Exception as exc:
            self._recorder.error(exc)


def _claim_tool_id() -> int:
    monitoring = sys.monitoring
    for tool_id in _CANDIDATE_TOOL_IDS:
        if monitoring.get_tool(tool_id) is None:
            monitoring.use_tool_id(tool_id, _TOOL_NAME)
            return tool_id
    raise RuntimeError("no free sys.monitoring tool id: other tools hold all of them")
