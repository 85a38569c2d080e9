"""Observations leave the hot path on a background thread, survive fork and SIGKILL, and the governor acts."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from typeharvest.store import TraceReader
from typeharvest.tracer import Tracer
from typeharvest.tracer.governor import MIN_RATE, OverheadGovernor

M = __name__


def work(x):
    return [x]


def test_the_background_thread_flushes_while_tracing_runs(sink):
    tracer = Tracer(sink, include=[M], flush_interval=0.05)
    tracer.start()
    work(1)
    assert sink.flushed.wait(10), "no flush within 10 s"
    assert sink.calls("work") == 1
    work("a")
    tracer.stop()
    assert sink.calls("work") == 2


def test_a_failing_sink_is_counted_and_never_raised(sink):
    def broken(observations, errors):
        raise OSError("disk full")

    tracer = Tracer(broken, include=[M])
    tracer.start()
    work(1)
    tracer.stop()
    assert tracer.status().flush_failures == 1


def run_script(code, cwd, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def calls_by_function(db, module="work"):
    with TraceReader(db) as reader:
        totals = {}
        for observation in reader.observations(module):
            name = observation.function.qualname
            totals[name] = totals.get(name, 0) + observation.calls
        return totals


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "work.py").write_text("def before_fork(x):\n    return x\n\ndef in_child(x):\n    return x\n")
    return tmp_path


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_starts_empty_and_flushes_its_own_calls(workdir):
    process = run_script(
        """
        import os, threading, typeharvest, work
        with typeharvest.trace(db="t.sqlite3", budget=0, flush_interval=60) as tracer:
            work.before_fork(1)
            pid = os.fork()
            if pid == 0:
                work.in_child("child")
                alive = [t.name for t in threading.enumerate() if t.name == "typeharvest-flusher"]
                tracer.stop()
                os._exit(0 if alive else 3)
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0, status
        """,
        workdir,
    )
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert calls_by_function(workdir / "t.sqlite3") == {"before_fork": 1, "in_child": 1}


def test_a_process_killed_with_sigkill_loses_at_most_one_flush_interval(workdir):
    process = run_script(
        """
        import sys, time, typeharvest, work
        with typeharvest.trace(db="t.sqlite3", budget=0, flush_interval=0.1):
            for i in range(100):
                work.before_fork(i)
            print("called", flush=True)
            time.sleep(60)
        """,
        workdir,
    )
    assert process.stdout.readline() == "called\n"
    time.sleep(1.0)  # ten flush intervals
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert calls_by_function(workdir / "t.sqlite3") == {"before_fork": 100}


def test_the_governor_lowers_sampling_when_recording_exceeds_its_share(sink):
    tracer = Tracer(sink, include=[M], overhead_target=1e-6, flush_interval=0.05, budget=0)
    tracer.start()
    deadline = time.monotonic() + 10
    while tracer.status().governor.throttles == 0 and time.monotonic() < deadline:
        work(1)
    tracer.stop()
    report = tracer.status().governor
    assert report.throttles >= 1
    assert report.rate < 1.0
    assert report.last_overhead > 1e-6


def test_the_governor_scales_down_in_proportion_and_recovers_when_cheap():
    governor = OverheadGovernor(configured_rate=0.5, target=0.02)
    assert governor.update(busy_ns=100, wall_ns=1000) == pytest.approx(0.5 * 0.02 / 0.1 * 0.8)
    assert governor.report.throttles == 1
    lowered = governor.rate
    assert governor.update(busy_ns=1, wall_ns=1000) == pytest.approx(lowered * 2)
    for _ in range(20):
        governor.update(busy_ns=0, wall_ns=1000)
    assert governor.rate == 0.5
    for _ in range(50):
        governor.update(busy_ns=1000, wall_ns=1000)
    assert governor.rate == MIN_RATE


def test_threads_meeting_a_new_function_at_the_same_moment_lose_no_calls(sink):
    # A thread switch every microsecond makes the two threads' first sight of each function interleave.
    namespace = {"__name__": M}
    for index in range(200):
        exec(compile(f"def fresh_{index}(value):\n    return value\n", __file__, "exec"), namespace)
    functions = [namespace[f"fresh_{index}"] for index in range(200)]
    start = threading.Barrier(2)

    def call_each():
        for function in functions:
            start.wait()
            function(1)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    tracer = Tracer(sink, include=[M], budget=0)
    tracer.start()
    try:
        threads = [threading.Thread(target=call_each) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        tracer.stop()
        sys.setswitchinterval(interval)
    assert [sink.calls(function.__qualname__) for function in functions] == [2] * 200


def test_flushing_while_a_sampled_unit_keeps_events_armed_does_not_deadlock(tmp_path):
    # The flush builds records (Python code) while holding the recorder's lock, and armed events call
    # back into the recorder from that very thread. A deadlock hangs the process: hence a subprocess.
    (tmp_path / "probe.py").write_text(
        textwrap.dedent(
            """
            from typeharvest.tracer import Tracer

            def work(x):
                return x

            seen = []
            tracer = Tracer(lambda observations, errors: seen.extend(observations), include=["probe"],
                            scope="units", flush_interval=60)
            tracer.start()
            with tracer.sampled():
                work(1)
                tracer.flush()
                work(2)
            tracer.stop()
            print(sum(o.calls for o in seen))
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-c", "import probe"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2"
