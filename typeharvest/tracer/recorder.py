"""What the interpreter hooks do with an event, independent of which hook delivered it.

The backends translate their interpreter's events into four calls — a function started, yielded, returned,
or was unwound by an exception — and the recorder turns them into aggregated signatures: the same function
with the same types is one entry with a count, so memory grows with the number of *distinct* signatures,
not with the number of calls.
"""

from __future__ import annotations

import threading
import time
import types
from collections import Counter
from dataclasses import dataclass, field

from typeharvest.records import (
    NOT_OBSERVED,
    FunctionInfo,
    FunctionKind,
    Observation,
    Signature,
)
from typeharvest.tracer.selection import CodeSelector
from typeharvest.tracer.typenames import UNION_SEPARATOR, TypeNamer

_SignatureKey = tuple[tuple[str, ...], str, str]


@dataclass(slots=True)
class _Tally:
    calls: int
    first_seen: float


@dataclass(slots=True)
class CodeEntry:
    """What the recorder knows about one code object; ``info`` is None when it is not traced."""

    code: types.CodeType  # held so that id(code) stays unique while the entry exists
    info: FunctionInfo | None
    parameter_names: tuple[str, ...] = ()
    records_yields: bool = False
    tallies: dict[_SignatureKey, _Tally] = field(default_factory=dict)


@dataclass(slots=True)
class _PendingCall:
    entry: CodeEntry
    arg_types: tuple[str, ...]
    yield_types: set[str] | None


class Recorder:
    """Aggregates the events of traced functions; every method is safe to call from any thread."""

    def __init__(self, selector: CodeSelector, namer: TypeNamer) -> None:
        self._selector = selector
        self._namer = namer
        self._entries: dict[int, CodeEntry] = {}
        self._pending: dict[int, _PendingCall] = {}
        self._errors: Counter[str] = Counter()
        self._lock = threading.Lock()

    def entry(self, code: types.CodeType, frame: types.FrameType) -> CodeEntry:
        """The (cached) decision for ``code``, made from the first frame that runs it."""
        entry = self._entries.get(id(code))
        if entry is None or entry.code is not code:
            info = self._selector.select(code, frame.f_globals)
            entry = CodeEntry(code, info)
            if info is not None:
                entry.parameter_names = tuple(p.name for p in info.parameters)
                entry.records_yields = info.kind in (FunctionKind.GENERATOR, FunctionKind.ASYNC_GENERATOR)
            self._entries[id(code)] = entry
        return entry

    def known_entry(self, code: types.CodeType) -> CodeEntry | None:
        """The entry for ``code`` if a decision was already made."""
        entry = self._entries.get(id(code))
        return entry if entry is not None and entry.code is code else None

    def started(self, entry: CodeEntry, frame: types.FrameType) -> None:
        """A traced function began executing: read its arguments before the body can rebind them."""
        frame_locals = frame.f_locals
        name_of = self._namer.name_of
        arg_types = tuple(
            name_of(frame_locals[name]) if name in frame_locals else NOT_OBSERVED
            for name in entry.parameter_names
        )
        stale = self._pending.get(id(frame))
        if stale is not None:
            # A frame at this address is starting, so the call we had there ended without telling us: a
            # generator closed at a plain yield (3.13 does not run its frame to close it) or dropped.
            self._tally(stale, NOT_OBSERVED)
        self._pending[id(frame)] = _PendingCall(entry, arg_types, set() if entry.records_yields else None)

    def is_pending(self, code: types.CodeType, frame: types.FrameType) -> bool:
        """Whether ``frame`` is a started, unfinished call of ``code`` (a generator being resumed)."""
        call = self._pending.get(id(frame))
        return call is not None and call.entry.code is code

    def yielded(self, code: types.CodeType, frame: types.FrameType, value: object) -> None:
        """A traced generator yielded; coroutines' yields are the event loop's business and are ignored."""
        call = self._pending.get(id(frame))
        if call is not None and call.entry.code is code and call.yield_types is not None:
            call.yield_types.add(self._namer.name_of(value))

    def returned(self, code: types.CodeType, frame: types.FrameType, value: object) -> None:
        """A traced call returned ``value`` (for a coroutine: the awaited result)."""
        call = self._pending.pop(id(frame), None)
        if call is not None and call.entry.code is code:
            self._tally(call, self._namer.name_of(value))

    def unwound(self, code: types.CodeType, frame: types.FrameType) -> None:
        """A traced call ended by an exception: its arguments and yields were real; it returned nothing."""
        call = self._pending.pop(id(frame), None)
        if call is not None and call.entry.code is code:
            self._tally(call, NOT_OBSERVED)

    def error(self, exc: BaseException) -> None:
        """Count a failure inside a hook, which must never reach the host program."""
        self._errors[type(exc).__name__] += 1

    def finish_pending(self) -> None:
        """Tally calls still running when tracing stops (an abandoned generator, the caller of ``stop``)."""
        pending, self._pending = self._pending, {}
        for call in pending.values():
            self._tally(call, NOT_OBSERVED)

    def drain(self) -> tuple[list[Observation], dict[str, int]]:
        """Hand over everything aggregated so far and start afresh."""
        now = time.time()
        observations: list[Observation] = []
        with self._lock:
            errors = dict(self._errors)
            self._errors.clear()
            for entry in list(self._entries.values()):
                if entry.info is None or not entry.tallies:
                    continue
                tallies, entry.tallies = entry.tallies, {}
                for (arg_types, return_type, yield_type), tally in tallies.items():
                    observations.append(
                        Observation(
                            function=entry.info,
                            signature=Signature(arg_types, return_type, yield_type),
                            calls=tally.calls,
                            first_seen=tally.first_seen,
                            last_seen=now,
                        )
                    )
        return observations, errors

    def _tally(self, call: _PendingCall, return_type: str) -> None:
        yields = UNION_SEPARATOR.join(sorted(call.yield_types)) if call.yield_types else NOT_OBSERVED
        key = (call.arg_types, return_type, yields)
        with self._lock:
            tally = call.entry.tallies.get(key)
            if tally is None:
                call.entry.tallies[key] = _Tally(1, time.time())
            else:
                tally.calls += 1
