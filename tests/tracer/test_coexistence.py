"""The tracer lives beside coverage.py, sys.settrace users, signal handlers and async generators."""

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from typeharvest.store import TraceReader
from typeharvest.tracer import Tracer

M = __name__


def work(x):
    return x


@pytest.mark.parametrize("core", ["ctrace", "sysmon"])
def test_coverage_py_and_typeharvest_both_record_the_same_run(tmp_path, core):
    if core == "sysmon" and sys.version_info < (3, 12):
        pytest.skip("coverage.py's sys.monitoring core needs 3.12")
    (tmp_path / "work.py").write_text("def double(x):\n    return x * 2\n")
    (tmp_path / "main.py").write_text(
        textwrap.dedent(
            """
            import typeharvest, work
            with typeharvest.trace(db="t.sqlite3"):
                for i in range(10):
                    work.double(i)
            """
        )
    )
    env = {**os.environ, "COVERAGE_CORE": core}
    run = subprocess.run(
        [sys.executable, "-m", "coverage", "run", "--include=work.py", "main.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    report = subprocess.run(
        [sys.executable, "-m", "coverage", "json", "-o", "-"], cwd=tmp_path, capture_output=True, text=True
    )
    covered = json.loads(report.stdout)["files"]["work.py"]["executed_lines"]
    assert covered == [1, 2]
    with TraceReader(tmp_path / "t.sqlite3") as reader:
        (observation,) = reader.observations("work")
    assert observation.calls == 10
    assert observation.signature.return_type == "builtins.int"


def test_a_settrace_function_already_installed_keeps_receiving_events(sink):
    seen = []

    def tracer_function(frame, event, arg):
        if frame.f_code is work.__code__:
            seen.append(event)
        return tracer_function

    previous = sys.gettrace()
    sys.settrace(tracer_function)
    try:
        tracer = Tracer(sink, include=[M])
        tracer.start()
        work(1)
        tracer.stop()
    finally:
        sys.settrace(previous)
    assert "call" in seen and "return" in seen
    assert sink.calls("work") == 1


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs setitimer")
def test_a_signal_handler_runs_while_tracing(sink):
    fired = []

    def on_alarm(signum, frame):
        fired.append(signum)

    previous = signal.signal(signal.SIGALRM, on_alarm)
    tracer = Tracer(sink, include=[M], budget=0)
    tracer.start()
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.01)
        for i in itertools.count():
            work(i)
            if fired:
                break
    finally:
        tracer.stop()
        signal.signal(signal.SIGALRM, previous)
    assert fired == [signal.SIGALRM]
    assert sink.calls("work") > 0
    assert sum(sink.errors.values()) == 0


class Timeout(Exception):
    pass


def spin_until(deadline):
    # A loop of its own: CPython 3.13.0 sometimes lets an exception a signal handler raises at the
    # back-edge of a loop escape the ``try`` around that loop, tracer or not (1 run in ~20 here).
    while time.monotonic() < deadline:
        work(1)


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs setitimer")
def test_an_exception_from_a_signal_handler_reaches_the_program_even_inside_a_hook(sink):
    def on_alarm(signum, frame):
        raise Timeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    tracer = Tracer(sink, include=[M], budget=0)
    tracer.start()
    timeouts = 0
    try:
        for _ in range(20):  # twenty alarms: most arrive while a hook runs, the tracer's busiest code
            try:
                signal.setitimer(signal.ITIMER_REAL, 0.002)  # inside the try: a busy machine is slow
                spin_until(time.monotonic() + 5)
            except Timeout:
                timeouts += 1
    finally:
        # A harmless handler first: an alarm already delivered may still be waiting for its turn.
        signal.signal(signal.SIGALRM, lambda signum, frame: None)
        signal.setitimer(signal.ITIMER_REAL, 0)
        tracer.stop()
        signal.signal(signal.SIGALRM, previous)
    assert timeouts == 20
    assert sink.errors["Timeout"] == 0


async def ticker(n):
    for i in range(n):
        await asyncio.sleep(0)
        yield i
    yield "end"


def test_an_async_generator_records_its_yields_and_not_the_awaits(sink):
    async def consume():
        return [item async for item in ticker(3)]

    tracer = Tracer(sink, include=[M])
    tracer.start()
    assert asyncio.run(consume()) == [0, 1, 2, "end"]
    tracer.stop()
    assert {s.yield_type for s in sink.signatures("ticker")} == {"builtins.int | builtins.str"}


def test_an_infinite_generator_argument_is_never_advanced(sink):
    numbers = itertools.count()
    tracer = Tracer(sink, include=[M])
    tracer.start()
    work(numbers)
    tracer.stop()
    assert next(numbers) == 0
    assert {s.arg_types for s in sink.signatures("work")} == {("itertools.count",)}
