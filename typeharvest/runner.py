"""Run a program under tracing the way ``python SCRIPT`` or ``python -m MODULE`` would run it."""

from __future__ import annotations

import importlib.util
import os
import runpy
import sys
import traceback
import types
from collections.abc import Sequence
from pathlib import Path

from typeharvest.session import trace


class ProgramNotFound(Exception):
    """The script or module to run does not exist."""


# Compared with code objects' filenames, which for a frozen runpy are "<frozen runpy>", not a path.
_OWN_FILES = frozenset({__file__, runpy.run_path.__code__.co_filename})


def run_program(
    target: str,
    args: Sequence[str],
    *,
    as_module: bool,
    db: str | None,
    include: Sequence[str],
    sample_rate: float = 1.0,
) -> int:
    """Run ``target`` with ``args`` as its ``sys.argv[1:]``; return the exit code Python would give.

    The program's exceptions are printed as Python prints them (without typeharvest's own frames) and
    turned into exit code 1; traces recorded up to that point are kept.
    """
    if as_module:
        sys.path.insert(0, os.getcwd())
        try:
            found = importlib.util.find_spec(target) is not None
        except ImportError:
            found = False
        if not found:
            raise ProgramNotFound(f"no module named {target!r}")
    else:
        if not Path(target).is_file():
            raise ProgramNotFound(f"no such file: {target}")
        sys.path.insert(0, str(Path(target).resolve().parent))
    sys.argv = [target, *args]
    with trace(db=db, include=include, sample_rate=sample_rate, source="run"):
        try:
            if as_module:
                runpy.run_module(target, run_name="__main__", alter_sys=True)
            else:
                runpy.run_path(target, run_name="__main__")
        except SystemExit as exc:
            return _exit_code(exc)
        except KeyboardInterrupt as exc:
            _print_program_traceback(exc)
            return 130
        except Exception as exc:
            _print_program_traceback(exc)
            return 1
    return 0


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def _print_program_traceback(exc: BaseException) -> None:
    tb: types.TracebackType | None = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename in _OWN_FILES:
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb)
