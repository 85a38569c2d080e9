"""Telling the tracer's own failures from the program's exceptions that surface inside a hook."""

from __future__ import annotations

import signal
import types


def raised_by_program(exc: BaseException) -> bool:
    """Whether ``exc`` comes from a signal handler of the program that ran while a hook was running.

    A hook runs Python code, and the interpreter runs a signal handler at whatever Python code is
    executing when the signal arrives: an exception the handler raises (a SIGALRM timeout, say) belongs to
    the program and must reach it, not be counted and dropped as a tracer error.
    """
    handlers = _signal_handler_codes()
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code in handlers:
            return True
        tb = tb.tb_next
    return False


def _signal_handler_codes() -> set[types.CodeType]:
    codes: set[types.CodeType] = set()
    for signum in signal.valid_signals():
        try:
            handler = signal.getsignal(signum)
        except (OSError, ValueError):
            continue
        if type(handler) is types.MethodType:
            handler = handler.__func__
        if type(handler) is types.FunctionType:
            codes.add(handler.__code__)
    return codes
