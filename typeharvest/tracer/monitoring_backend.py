"""The PEP 669 (``sys.monitoring``, Python 3.12+) backend.

Why it is cheap: the interpreter calls back only for events a tool asked for, and a callback that returns
``DISABLE`` is never called again for that code location. So a function that is not the application's own,
or whose budget is spent, costs one callback per arming. Events are armed only while a sampled unit of
work runs ("units" scope) or for the whole run ("process" scope): outside sampled units the interpreter
runs as if no tool were installed. Disarming resets the locations disabled meanwhile (of code that runs
before the next arming: the interpreter re-instruments a code object when it next runs it), which is why a
tracer that samples every unit stays armed between units.

Arming every event is also what a sampled unit costs most once the process has settled: every code object
the unit runs is instrumented again, and again when the events are disarmed, and every location calls
back once more before it is disabled again. So once ``SETTLE_UNITS`` sampled units in a row have met no
code the tracer had not seen, units arm only the functions still being recorded (``set_local_events``),
until the next re-arm, which also looks for new code again with one fully armed unit.

``PY_UNWIND`` is not used: it cannot be disabled, and Django alone raises hundreds of exceptions per
request. A recorded call that raised is found out when the next call starts in its frame's place, when its
function, switched off, returns elsewhere while its frame is on no thread's stack (``Recorder.reap``), or
when tracing stops, and is kept with its arguments and no return type.
"""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Callable
from typing import Any

from typeharvest.tracer.errors import raised_by_program
from typeharvest.tracer.recorder import Recorder

# A tool id is the claim of one tool on the interpreter; these are tried in order (the profiler's slot
# first, then the ones no convention assigns), so coverage.py and debuggers keep theirs.
_CANDIDATE_TOOL_IDS = (2, 4, 3, 5)
_TOOL_NAME = "typeharvest"
_used_tool_ids: set[int] = set()
#: Sampled units in a row that found no new code, after which units arm the live functions only.
SETTLE_UNITS = 3


class MonitoringBackend:
    """Feeds a Recorder from ``sys.monitoring`` events, for every thread of the process."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self._tool_id: int | None = None
        self._units = 0
        self._units_lock = threading.Lock()
        self._armed = False
        self._settled = False  # units arm the live functions' local events, not every event
        self._quiet_units = 0  # sampled units in a row that met no new code
        self._made_at_arm = 0
        self._local_codes: list[types.CodeType] = []
        self._globally_armed = False

    def install(self) -> None:
        """Claim a tool id and register the callbacks (nothing fires until ``arm``)."""
        monitoring = sys.monitoring
        self._tool_id = _claim_tool_id()
        events = monitoring.events
        monitoring.register_callback(self._tool_id, events.PY_START, self._on_start)
        monitoring.register_callback(self._tool_id, events.PY_RETURN, self._on_return)
        monitoring.register_callback(self._tool_id, events.PY_YIELD, self._on_yield)
        if self._tool_id in _used_tool_ids:
            # Freeing a tool id does not forget the locations its last user disabled (before 3.14).
            monitoring.restart_events()
        _used_tool_ids.add(self._tool_id)
        if self._recorder.everything:
            self._arm()

    def uninstall(self) -> None:
        """Disarm every event and give the tool id back."""
        if self._tool_id is None:
            return
        monitoring = sys.monitoring
        self._disarm()
        tool_id, self._tool_id = self._tool_id, None
        for event in (
            monitoring.events.PY_START,
            monitoring.events.PY_RETURN,
            monitoring.events.PY_YIELD,
        ):
            monitoring.register_callback(tool_id, event, None)
        monitoring.free_tool_id(tool_id)

    def enter_unit(self) -> None:
        """A sampled unit of work begins (in any thread): arm the events if none were armed."""
        with self._units_lock:
            self._units += 1
            if not self._armed:
                self._arm()

    def exit_unit(self, *, keep_armed: bool) -> None:
        """A sampled unit ended; the last one disarms unless every unit is sampled anyway."""
        with self._units_lock:
            self._units = max(0, self._units - 1)
            if self._units == 0 and not keep_armed and not self._recorder.everything and self._armed:
                found_new_code = self._recorder.entries_made != self._made_at_arm
                self._disarm()
                if not self._settled:
                    self._quiet_units = 0 if found_new_code else self._quiet_units + 1
                    self._settled = self._quiet_units >= SETTLE_UNITS

    def after_fork_in_child(self) -> None:
        """Only the forking thread survives a fork: units other threads had open are gone."""
        self._units_lock = threading.Lock()
        self._units = 0
        if self._armed and not self._recorder.everything:
            self._disarm()

    def restart(self) -> None:
        """Call back again at every location disabled so far (exhausted budgets were just renewed), and
        look for code not seen yet with fully armed units again."""
        with self._units_lock:
            self._settled = False
            self._quiet_units = 0
        if self._tool_id is not None:
            sys.monitoring.restart_events()

    def _arm(self) -> None:
        if self._tool_id is None:
            return
        events = sys.monitoring.events
        wanted = events.PY_START | events.PY_RETURN | events.PY_YIELD
        if self._settled and not self._recorder.everything:
            self._local_codes = self._recorder.live_codes()
            for code in self._local_codes:
                sys.monitoring.set_local_events(self._tool_id, code, wanted)
        else:
            self._made_at_arm = self._recorder.entries_made
            sys.monitoring.set_events(self._tool_id, wanted)
            self._globally_armed = True
        self._armed = True

    def _disarm(self) -> None:
        if self._tool_id is not None:
            if self._globally_armed:
                sys.monitoring.set_events(self._tool_id, 0)
            for code in self._local_codes:
                sys.monitoring.set_local_events(self._tool_id, code, 0)
        self._globally_armed = False
        self._local_codes = []
        self._armed = False

    # The callbacks: each catches everything, because an exception here would surface in the host program.

    def _on_start(self, code: types.CodeType, offset: int) -> Any:
        try:
            recorder = self._recorder
            entry = recorder.known_entry(code)
            if entry is None:
                entry = recorder.entry(code, sys._getframe(1))
            if entry.info is None or entry.exhausted:
                return sys.monitoring.DISABLE
            if recorder.wants():
                recorder.started(entry, sys._getframe(1))
            elif recorder.any_pending():
                recorder.skipped(sys._getframe(1))
        except Exception as exc:
            if raised_by_program(exc):
                raise
            self._recorder.error(exc)
        return None

    def _on_return(self, code: types.CodeType, offset: int, value: object) -> Any:
        return self._on_leave(code, value, self._recorder.returned)

    def _on_yield(self, code: types.CodeType, offset: int, value: object) -> Any:
        return self._on_leave(code, value, self._recorder.yielded)

    def _on_leave(
        self,
        code: types.CodeType,
        value: object,
        record: Callable[[types.CodeType, types.FrameType, object], bool],
    ) -> Any:
        """A traced function returns or yields: record it if its call is recorded, else maybe switch off."""
        try:
            recorder = self._recorder
            entry = recorder.known_entry(code)
            if entry is None or entry.info is None:
                return sys.monitoring.DISABLE
            # Frame 0: this method, 1: the callback, 2: the monitored function.
            if record(code, sys._getframe(2), value):
                return None
            if entry.exhausted and (not entry.running or recorder.reap(entry)):
                # Not while a recorded call of it is still running (an outer level of a recursion, another
                # thread): disabling this location would hide that call's return.
                return sys.monitoring.DISABLE
        except Exception as exc:
            if raised_by_program(exc):
                raise
            self._recorder.error(exc)
        return None


def _claim_tool_id() -> int:
    monitoring = sys.monitoring
    for tool_id in _CANDIDATE_TOOL_IDS:
        if monitoring.get_tool(tool_id) is None:
            monitoring.use_tool_id(tool_id, _TOOL_NAME)
            return tool_id
    raise RuntimeError("no free sys.monitoring tool id: other tools hold all of them")
