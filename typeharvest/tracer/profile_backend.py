"""The ``sys.setprofile`` backend, for Python 3.10 and 3.11 where PEP 669 does not exist.

The profile function is called for every call and return of every function, so it does as little as it
can for code that is not traced: one dictionary lookup. A generator's or coroutine's suspension arrives as
a "return" event too, and its resumption as a "call"; the instruction the frame stopped at tells them
apart from a real call, a real return, and a return caused by an exception (which arrives with None).
Where that instruction points differs between interpreter versions:

- 3.10: a new frame has ``f_lasti == -1``; a suspended one points at its YIELD_VALUE (or, inside
  ``yield from``/``await``, at the instruction before YIELD_FROM).
- 3.11, 3.12: every call starts at ``RESUME`` with oparg 0; a suspended frame points at its YIELD_VALUE and
  resumes at the RESUME after it, except when an exception is thrown in (``close()``, ``throw()``), which
  resumes *at* the YIELD_VALUE.
- 3.13: a suspended frame already points at the RESUME after its yield (oparg 1-3).
"""

from __future__ import annotations

import dis
import sys
import threading
import types

from typeharvest.tracer.errors import raised_by_program
from typeharvest.tracer.recorder import Recorder

_YIELD_OPCODES = frozenset(dis.opmap[name] for name in ("YIELD_VALUE", "YIELD_FROM") if name in dis.opmap)
_RETURN_OPCODES = frozenset(dis.opmap[name] for name in ("RETURN_VALUE", "RETURN_CONST") if name in dis.opmap)
_NOT_AN_OPCODE = -2  # never equal to an opcode, nor to _opcode_at's -1 for "outside the code"
_YIELD_FROM = dis.opmap.get("YIELD_FROM", _NOT_AN_OPCODE)
_RESUME = dis.opmap.get("RESUME", _NOT_AN_OPCODE)
_RESUME_WHERE_MASK = 3  # RESUME's oparg: 0 at function start, 1-3 after a yield, yield from or await


class ProfileBackend:
    """Feeds a Recorder from ``sys.setprofile`` events.

    A profile function belongs to one thread, so sampling is cheap here too: in "units" scope it is set
    only in a thread while a sampled unit runs there; in "process" scope in every thread started after
    ``install`` and in the installing one.
    """

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self._active = False
        self._code_bytes: dict[int, bytes] = {}
        self._resumed_at: dict[int, int] = {}  # frame id → f_lasti when a suspended frame was resumed
        self._units = threading.local()

    def install(self) -> None:
        """Start listening (in "process" scope: in this thread and threads started from now on)."""
        self._active = True
        if self._recorder.everything:
            threading.setprofile(self._profile)
            sys.setprofile(self._profile)

    def uninstall(self) -> None:
        """Stop listening (other threads drop the profile function at their next event)."""
        self._active = False
        sys.setprofile(None)
        threading.setprofile(None)

    def enter_unit(self) -> None:
        """A sampled unit begins in this thread: listen here while it runs."""
        count = getattr(self._units, "count", 0)
        self._units.count = count + 1
        if count == 0 and self._active and not self._recorder.everything:
            sys.setprofile(self._profile)

    def exit_unit(self, *, keep_armed: bool) -> None:
        """The unit ended; the thread's last one stops listening (a thread's profile costs only it)."""
        self._units.count = max(0, getattr(self._units, "count", 0) - 1)
        if self._units.count == 0 and not self._recorder.everything:
            sys.setprofile(None)

    def after_fork_in_child(self) -> None:
        """Profile functions are per thread, and the forking thread keeps its own: nothing to do."""

    def restart(self) -> None:
        """Nothing to re-enable: exhausted functions are skipped by a flag the recorder resets."""

    def _profile(self, frame: types.FrameType, event: str, arg: object) -> None:
        try:
            if not self._active:
                sys.setprofile(None)
            elif event == "call":
                self._on_call(frame)
            elif event == "return":
                self._on_return(frame, arg)
        except Exception as exc:
            if raised_by_program(exc):
                raise
            self._recorder.error(exc)

    def _on_call(self, frame: types.FrameType) -> None:
        code = frame.f_code
        recorder = self._recorder
        entry = recorder.known_entry(code)
        if entry is None:
            entry = recorder.entry(code, frame)
            if entry.info is not None:
                # co_code is rebuilt on every access from 3.11 on: keep one copy per traced function.
                self._code_bytes[id(code)] = code.co_code
        if entry.info is None:
            return
        lasti = frame.f_lasti
        if recorder.is_pending(code, frame) and not _is_function_start(self._code_bytes[id(code)], lasti):
            self._resumed_at[id(frame)] = lasti
            return
        if not entry.exhausted and recorder.wants():
            recorder.started(entry, frame)
        else:
            recorder.skipped(frame)

    def _on_return(self, frame: types.FrameType, value: object) -> None:
        code = frame.f_code
        code_bytes = self._code_bytes.get(id(code))
        if code_bytes is None or not self._recorder.is_pending(code, frame):
            return
        lasti = frame.f_lasti
        resumed_at = self._resumed_at.pop(id(frame), None)
        opcode = _opcode_at(code_bytes, lasti)
        if opcode in _RETURN_OPCODES:
            self._recorder.returned(code, frame, value)
        elif opcode == _RESUME and _opcode_at(code_bytes, lasti + 1) & _RESUME_WHERE_MASK:
            self._recorder.yielded(code, frame, value)
        elif opcode in _YIELD_OPCODES or _opcode_at(code_bytes, lasti + 2) == _YIELD_FROM:
            if value is None and lasti == resumed_at:
                # An exception thrown in at this yield left the frame from the same instruction. (On 3.10 a
                # loop yielding None from one yield looks the same; those None yields are not recorded.)
                self._recorder.unwound(code, frame)
            else:
                self._recorder.yielded(code, frame, value)
        else:
            self._recorder.unwound(code, frame)


def _is_function_start(code_bytes: bytes, lasti: int) -> bool:
    if lasti < 0:
        return True  # 3.10
    return (
        _opcode_at(code_bytes, lasti) == _RESUME
        and not _opcode_at(code_bytes, lasti + 1) & _RESUME_WHERE_MASK
    )


def _opcode_at(code_bytes: bytes, offset: int) -> int:
    return code_bytes[offset] if 0 <= offset < len(code_bytes) else -1
