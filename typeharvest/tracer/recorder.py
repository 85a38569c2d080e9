"""What the interpreter hooks do with an event, independent of which hook delivered it.

The backends translate their interpreter's events into four calls — a function started, yielded, returned,
or was unwound by an exception — and the recorder turns them into aggregated signatures: the same function
with the same types is one entry with a count, so memory grows with the number of *distinct* signatures,
not with the number of calls, and both are capped.

A method that returns its receiver (``return self``, ``return cls``) has its return type recorded as
``typeharvest.Self[<type>]``: the annotator may write ``-> Self`` only when the receiver itself came back
in every call, which the type alone cannot tell. The receiver is the first argument as read when the call
starts, held only until the call ends, and compared with ``is``.

It also keeps each function's budget: once a function has been recorded ``call_budget`` times in a row
without showing a new signature it is *exhausted*, and the backends stop listening to it until ``rearm``.
In the "units" scope a function is also exhausted after ``unit_budget`` sampled units in which it ran
without a new signature, and both budgets shrink with the sampling rate: at a low rate a sampled request
is rare, and it should not pay, unit after unit, for recording every function that only ever shows the
same types (see ``budgets``).
"""

from __future__ import annotations

import gc
import math
import random
import sys
import threading
import time
import types
from collections import Counter
from dataclasses import dataclass, field, replace

from typeharvest.records import (
    NOT_OBSERVED,
    FunctionInfo,
    FunctionKind,
    Observation,
    ParameterKind,
    Signature,
)
from typeharvest.tracer.config import TracerConfig
from typeharvest.tracer.sampling import is_sampled
from typeharvest.tracer.selection import CodeSelector, code_hashes
from typeharvest.tracer.typenames import (
    UNION_SEPARATOR,
    UNKNOWN,
    TypeNamer,
    is_async_generator_wrapper,
    is_staticmethod,
)

_SignatureKey = tuple[tuple[str, ...], str, str]

#: How a return type is marked when the call returned its own receiver.
SELF_MARK = "typeharvest.Self"
_POSITIONAL = (ParameterKind.POSITIONAL_ONLY, ParameterKind.POSITIONAL_OR_KEYWORD)
#: The receiver of a call that has none: never an object the traced program can return.
_NO_RECEIVER: object = object()


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
    receiver_name: str | None = None  # the first parameter of a method or classmethod (``self``, ``cls``)
    records_yields: bool = False
    unwraps_yields: bool = False
    exhausted: bool = False
    since_new: int = 0  # recorded calls in a row that showed no new signature
    quiet_units: int = 0  # sampled units it ran in, in a row, without a new signature
    last_unit: int = -1  # the serial of the last sampled unit it was recorded in
    running: int = 0  # recorded calls started and not yet finished (recursion, threads, suspended generators)
    running_at_reap: int = -1  # ``running`` as ``reap`` left it: nothing to find until it changes or a rearm
    seen: set[_SignatureKey] = field(default_factory=set)
    tallies: dict[_SignatureKey, _Tally] = field(default_factory=dict)


@dataclass(slots=True)
class _PendingCall:
    entry: CodeEntry
    arg_types: tuple[str, ...]
    yield_types: set[str] | None
    receiver: object = _NO_RECEIVER  # the first argument as the call started, for ``return self``


class Recorder:
    """Aggregates the events of traced functions; every method is safe to call from any thread."""

    def __init__(self, config: TracerConfig, selector: CodeSelector, namer: TypeNamer) -> None:
        self.config = config
        self._selector = selector
        self._namer = namer
        self._entries: dict[int, CodeEntry] = {}
        self._pending: dict[int, _PendingCall] = {}
        self._errors: Counter[str] = Counter()
        self._lock = threading.Lock()
        # Storing a new entry takes its own lock: ``entry`` runs in the interpreter's callbacks, and those
        # fire in the flusher thread too while ``drain`` holds ``_lock`` (the dataclass constructors it
        # calls are Python code): sharing ``_lock`` would deadlock the flusher, and then ``stop``.
        self._entries_lock = threading.Lock()
        self._buffered = 0
        self._random = random.Random(config.seed)
        #: Whether every call in every thread is a candidate ("process" scope) or only calls in sampled units.
        self.everything = config.scope == "process"
        #: The probability that a candidate call is recorded (process scope); lowered by the governor.
        self.call_rate = config.sample_rate if self.everything else 1.0
        #: Nanoseconds spent recording calls: what the overhead governor weighs against wall time.
        self.busy_ns = 0
        #: The serial number of the latest sampled unit of work ("units" scope).
        self.unit = 0
        self.call_budget, self.unit_budget = budgets(config)
        #: How many code objects have been looked at so far (a unit that adds none found no new code).
        self.entries_made = 0

    def entry(self, code: types.CodeType, frame: types.FrameType) -> CodeEntry:
        """The (cached) decision for ``code``, made from the first frame that runs it."""
        entry = self._entries.get(id(code))
        if entry is None or entry.code is not code:
            info = self._selector.select(code, frame.f_globals)
            entry = CodeEntry(code, info)
            if info is not None:
                entry.parameter_names = tuple(p.name for p in info.parameters)
                entry.receiver_name = receiver_name(info, frame.f_globals)
                entry.records_yields = info.kind in (FunctionKind.GENERATOR, FunctionKind.ASYNC_GENERATOR)
                entry.unwraps_yields = info.kind is FunctionKind.ASYNC_GENERATOR
            with self._entries_lock:
                # Two threads may meet a new function at once: the first entry stored is the one both
                # use, else the loser's recorded calls would be tallied in an entry nobody drains.
                current = self._entries.get(id(code))
                if current is not None and current.code is code:
                    return current
                self._entries[id(code)] = entry
                self.entries_made += 1
        return entry

    def live_codes(self) -> list[types.CodeType]:
        """The code of every traced function not switched off: all that a settled unit needs to hear."""
        return [entry.code for entry in list(self._entries.values()) if entry.info and not entry.exhausted]

    def known_entry(self, code: types.CodeType) -> CodeEntry | None:
        """The entry for ``code`` if a decision was already made."""
        entry = self._entries.get(id(code))
        return entry if entry is not None and entry.code is code else None

    def wants(self) -> bool:
        """Whether a call starting now, in this thread and context, is to be recorded."""
        if not self.everything:
            return is_sampled()
        return self.call_rate >= 1.0 or self._random.random() < self.call_rate

    def started(self, entry: CodeEntry, frame: types.FrameType) -> None:
        """A traced function began executing: read its arguments before the body can rebind them."""
        began = time.perf_counter_ns()
        get = frame.f_locals.get
        values = [get(name, _NO_RECEIVER) for name in entry.parameter_names]
        name_of = self._namer.name_of
        arg_types = tuple([NOT_OBSERVED if value is _NO_RECEIVER else name_of(value) for value in values])
        # The receiver is the first parameter (an absent one is no receiver).
        receiver = values[0] if entry.receiver_name is not None else _NO_RECEIVER
        stale = self._pending.get(id(frame))
        if stale is not None:
            # A frame at this address is starting, so the call we had there ended without telling us: it
            # raised, or it is a generator that was closed or dropped.
            self._tally(stale, NOT_OBSERVED)
        self._pending[id(frame)] = _PendingCall(
            entry, arg_types, set() if entry.records_yields else None, receiver
        )
        entry.running += 1
        self.busy_ns += time.perf_counter_ns() - began

    def any_pending(self) -> bool:
        """Whether any call is being recorded right now (in any thread)."""
        return bool(self._pending)

    def skipped(self, frame: types.FrameType) -> None:
        """A call starts in ``frame`` without being recorded: a call we had at that address is over."""
        if self._pending:
            stale = self._pending.pop(id(frame), None)
            if stale is not None:
                self._tally(stale, NOT_OBSERVED)

    def is_pending(self, code: types.CodeType, frame: types.FrameType) -> bool:
        """Whether ``frame`` is a started, unfinished call of ``code`` (a generator being resumed)."""
        call = self._pending.get(id(frame))
        return call is not None and call.entry.code is code

    def yielded(self, code: types.CodeType, frame: types.FrameType, value: object) -> bool:
        """A traced generator yielded; coroutines' yields are the event loop's business and are ignored.

        Returns whether a recorded call was running in ``frame``.
        """
        call = self._pending.get(id(frame))
        if call is None:
            return False
        if call.entry.code is not code or call.yield_types is None:
            return True
        if call.entry.unwraps_yields:
            # An async generator's own yields arrive wrapped; its other yields are awaits suspending it.
            if not is_async_generator_wrapper(value):
                return True
            (value,) = gc.get_referents(value)
        began = time.perf_counter_ns()
        name = self._namer.name_of(value)
        if name != UNKNOWN:
            call.yield_types.add(name)
        self.busy_ns += time.perf_counter_ns() - began
        return True

    def returned(self, code: types.CodeType, frame: types.FrameType, value: object) -> bool:
        """A traced call returned ``value`` (for a coroutine: the awaited result).

        Returns whether a recorded call was running in ``frame``.
        """
        call = self._pending.pop(id(frame), None)
        if call is None:
            return False
        if call.entry.code is not code:
            self._tally(call, NOT_OBSERVED)  # a call that raised, at an address this frame reuses
        else:
            began = time.perf_counter_ns()
            name = self._namer.name_of(value)
            if value is call.receiver and name != UNKNOWN:
                name = f"{SELF_MARK}[{name}]"
            self._tally(call, name)
            self.busy_ns += time.perf_counter_ns() - began
        return True

    def unwound(self, code: types.CodeType, frame: types.FrameType) -> None:
        """A traced call ended by an exception: its arguments and yields were real; it returned nothing."""
        call = self._pending.pop(id(frame), None)
        if call is not None:
            self._tally(call, NOT_OBSERVED)  # this call, or an earlier one at the same address: both raised

    def reap(self, entry: CodeEntry) -> bool:
        """Tally the recorded calls of ``entry`` that ended by an exception; whether none is left running.

        Why: a call that raises sends no return event, and ``running`` would keep counting it until a
        later call happened to start at its frame's address; meanwhile the backends may not switch the
        exhausted function off (a running call's return would go unheard), and it calls back for ever.
        A plain function's call is running only while its frame is on some thread's stack; generators and
        coroutines also live suspended, off every stack, so theirs are left to the address rule.
        """
        if entry.info is None or entry.info.kind is not FunctionKind.FUNCTION:
            return entry.running == 0
        if entry.running == entry.running_at_reap:
            return False  # nothing started or ended since the calls were all found on a stack
        calls = [(key, call) for key, call in list(self._pending.items()) if call.entry is entry]
        on_stack: set[int] = set()
        for frame in sys._current_frames().values():
            walked: types.FrameType | None = frame
            while walked is not None:
                on_stack.add(id(walked))
                walked = walked.f_back
        for key, call in calls:
            if key not in on_stack and self._pending.get(key) is call:
                self._pending.pop(key, None)
                self._tally(call, NOT_OBSERVED)
        entry.running_at_reap = entry.running
        return entry.running == 0

    def error(self, exc: BaseException) -> None:
        """Count a failure inside a hook, which must never reach the host program."""
        self._errors[type(exc).__name__] += 1

    def rearm(self) -> None:
        """Give every exhausted function a quarter of a budget more, so types that appear later are seen too.

        Functions still spending their first budget keep counting: at a low sampling rate they would
        otherwise never get there, and every sampled unit would keep paying for them.
        """
        renewal = max(1, self.call_budget // 4)
        unit_renewal = max(1, self.unit_budget // 4)
        for entry in list(self._entries.values()):
            if entry.exhausted:
                entry.exhausted = False
                entry.running_at_reap = -1  # its calls are recorded again, and any of them may raise
                entry.since_new = max(0, self.call_budget - renewal)
                entry.quiet_units = max(0, self.unit_budget - 1 - unit_renewal)
                entry.last_unit = self.unit

    def finish_pending(self) -> None:
        """Tally calls still running when tracing stops (an abandoned generator, the caller of ``stop``)."""
        pending, self._pending = self._pending, {}
        for call in pending.values():
            self._tally(call, NOT_OBSERVED)

    def forget_buffer(self) -> None:
        """Drop what was aggregated and pending: a forked child must not write its parent's observations."""
        self._lock = threading.Lock()  # another thread of the parent may have held it at fork()
        self._entries_lock = threading.Lock()
        self._pending = {}
        self._errors = Counter()
        self._buffered = 0
        for entry in list(self._entries.values()):
            entry.tallies = {}
            entry.running = 0

    def drain(self) -> tuple[list[Observation], dict[str, int]]:
        """Hand over everything aggregated so far and start afresh.

        The functions' code hashes are read from their source here, in the flusher's thread, a batch at a
        time, not when a request first meets them. A function met after that batch was hashed keeps its
        observations for the next drain (the last one, at ``stop``, meets no new function).
        """
        self._hash_sources()
        now = time.time()
        observations: list[Observation] = []
        with self._lock:
            errors = dict(self._errors)
            self._errors.clear()
            self._buffered = 0
            for entry in list(self._entries.values()):
                if entry.info is None or not entry.tallies:
                    continue
                if not entry.info.code_hash:
                    self._buffered += len(entry.tallies)  # kept for the next drain
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

    def _hash_sources(self) -> None:
        """Give every traced function met so far its ``code_hash``. Outside ``_lock``: it reads files, and
        runs Python code that a process-wide tracer may be recording (whose tallies take the lock)."""
        unhashed = [
            (entry, info)
            for entry in list(self._entries.values())
            if (info := entry.info) is not None and not info.code_hash
        ]
        digests = code_hashes([entry.code for entry, _ in unhashed])
        for (entry, info), digest in zip(unhashed, digests, strict=True):
            entry.info = replace(info, code_hash=digest)

    def _tally(self, call: _PendingCall, return_type: str) -> None:
        yields = UNION_SEPARATOR.join(sorted(call.yield_types)) if call.yield_types else NOT_OBSERVED
        key = (call.arg_types, return_type, yields)
        entry = call.entry
        config = self.config
        with self._lock:
            entry.running = max(0, entry.running - 1)
            if key in entry.seen:
                entry.since_new += 1
                if self.unit_budget and entry.last_unit != self.unit:
                    entry.last_unit = self.unit
                    entry.quiet_units += 1
                if self.call_budget and (
                    entry.since_new >= self.call_budget or 0 < self.unit_budget <= entry.quiet_units
                ):
                    entry.exhausted = True
            elif len(entry.seen) >= config.max_signatures_per_function:
                self._errors["signature_cap"] += 1
                return
            else:
                entry.seen.add(key)
                entry.since_new = entry.quiet_units = 0
                entry.last_unit = self.unit
            tally = entry.tallies.get(key)
            if tally is not None:
                tally.calls += 1
            elif self._buffered >= config.max_buffered_signatures:
                self._errors["buffer_full"] += 1
            else:
                entry.tallies[key] = _Tally(1, time.time())
                self._buffered += 1


def budgets(config: TracerConfig) -> tuple[int, int]:
    """How many recorded calls, and how many sampled units, in a row without a new signature exhaust a
    function (0: no such limit).

    In the "process" scope, ``budget`` calls. In the "units" scope the configured budget holds at a
    sampling rate of 1.0 and shrinks with the rate: ``budget * sqrt(rate)`` calls (at least 20) and
    ``budget * rate`` units (at least 2) — at 0.01, 20 calls or 2 quiet sampled requests. What a rare
    sampled request would find by recording a function's two-hundredth identical call it is unlikely to
    find; what it costs, every unsampled request pays for in throughput.
    """
    if not config.budget:
        return 0, 0
    if config.scope != "units":
        return config.budget, 0
    calls = max(min(config.budget, 20), round(config.budget * math.sqrt(config.sample_rate)))
    return calls, max(2, round(config.budget * config.sample_rate))


def receiver_name(info: FunctionInfo, namespace: dict[str, object]) -> str | None:
    """The name of the parameter that receives ``self``/``cls`` in a call of ``info``, or None.

    Why: only a method can return its receiver, and deciding it once per function keeps the per-call cost
    to one lookup and one ``is``. A method is a function defined in a class body (its qualified name has a
    dot, and the part before the last is not ``<locals>``) whose first parameter is positional; a
    ``@staticmethod`` is left out when its class can be found in the module's ``namespace``.
    """
    parts = info.qualname.split(".")
    if len(parts) < 2 or parts[-2] == "<locals>":
        return None
    if not info.parameters or info.parameters[0].kind not in _POSITIONAL:
        return None
    if is_staticmethod(namespace, info.qualname):
        return None
    return info.parameters[0].name
