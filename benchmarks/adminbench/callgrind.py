"""Counting CPU instructions of a stretch of a Python program with valgrind's callgrind.

The process runs under ``valgrind --tool=callgrind --instr-atstart=no``: start-up and warm-up run without
instrumentation (fast, and not counted). Around the measured stretch the program calls two C functions of
a tiny library built here from valgrind's ``callgrind.h`` (through ctypes): ``bench_start`` switches
instrumentation on and zeroes the counters, ``bench_stop(label)`` dumps them (the dump's trigger names the
label) and switches instrumentation off. The instructions of every thread of the process in between are
what is reported; a process may measure several stretches under different labels.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

_SOURCE = r"""
#include <valgrind/callgrind.h>

void bench_start(void) {
    CALLGRIND_START_INSTRUMENTATION;
    CALLGRIND_ZERO_STATS;
}

void bench_stop(const char *label) {
    CALLGRIND_DUMP_STATS_AT(label);
    CALLGRIND_STOP_INSTRUMENTATION;
}

int bench_on_valgrind(void) {
    return RUNNING_ON_VALGRIND;
}
"""


def build_markers(directory: str | os.PathLike[str]) -> Path | str:
    """Compile the marker library into ``directory``; returns its path, or why it could not be built."""
    if shutil.which("valgrind") is None:
        return "valgrind is not installed (apt-get install -y valgrind)"
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return "no C compiler to build the callgrind markers"
    source = Path(directory, "bench_markers.c")
    library = Path(directory, "bench_markers.so")
    source.write_text(_SOURCE)
    result = subprocess.run(
        [compiler, "-O1", "-shared", "-fPIC", "-o", str(library), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or ["unknown error"])[0]
        return f"could not build the callgrind markers (valgrind headers missing?): {first}"
    return library


class Markers:
    """The measured stretch's start and stop, as seen by callgrind (no-ops when not under valgrind)."""

    def __init__(self, library: str | os.PathLike[str]) -> None:
        self._lib = ctypes.CDLL(os.fspath(library))
        self.on_valgrind = bool(self._lib.bench_on_valgrind())

    def start(self) -> None:
        self._lib.bench_start()

    def stop(self, label: str) -> None:
        self._lib.bench_stop(ctypes.c_char_p(label.encode()))


def command(out_file: str | os.PathLike[str], program: Sequence[str]) -> list[str]:
    """The valgrind command line that runs ``program`` with instrumentation off until ``Markers.start``."""
    return [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={os.fspath(out_file)}",
        *program,
    ]


def measured_instructions(out_file: str | os.PathLike[str], label: str) -> int:
    """The instruction count of the dump made by ``Markers.stop(label)`` (dumps are numbered .1, .2...)."""
    out = Path(out_file)
    for candidate in sorted(out.parent.glob(out.name + ".*")):
        text = candidate.read_text(errors="replace")
        if not re.search(rf"^desc: Trigger: Client Request: {re.escape(label)}$", text, re.MULTILINE):
            continue
        match = re.search(r"^(?:summary|totals):\s+(\d+)", text, re.MULTILINE)
        if match:
            return int(match.group(1))
    raise RuntimeError(f"no callgrind dump labelled {label!r} next to {out}")
