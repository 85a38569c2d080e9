"""The process-wide tracer the middleware share: one per process, and no trace lost to a SIGTERM."""

import signal
import subprocess
import sys
import textwrap

from typeharvest.store import TraceReader

PROGRAM = textwrap.dedent(
    """
    import os, signal, sys
    from typeharvest.integrations.wsgi import TypeHarvestWSGIMiddleware

    def work(value):
        return value

    def app(environ, start_response):
        start_response("200 OK", [])
        return [str(work(1)).encode()]

    if sys.argv[1] == "own-handler":
        signal.signal(signal.SIGTERM, lambda signum, frame: print("own handler ran", flush=True))
    wrapped = TypeHarvestWSGIMiddleware(app, db=sys.argv[2], sample_rate=1.0, flush_interval=3600)
    assert b"".join(wrapped({"REQUEST_METHOD": "GET"}, lambda status, headers: None)) == b"1"
    os.kill(os.getpid(), signal.SIGTERM)
    print("still running", flush=True)
    """
)


def run(mode, db, cwd):
    (cwd / "probe.py").write_text(PROGRAM)
    return subprocess.run(
        [sys.executable, "probe.py", mode, str(db)], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def calls_of_work(db):
    with TraceReader(db) as reader:
        return sum(o.calls for o in reader.observations("probe") if o.function.qualname == "work")


def test_a_sigterm_that_kills_the_process_writes_the_traces_first(tmp_path):
    result = run("default", tmp_path / "t.sqlite3", tmp_path)
    assert result.returncode == -signal.SIGTERM, result.stderr  # it still dies of the signal
    assert "still running" not in result.stdout
    assert calls_of_work(tmp_path / "t.sqlite3") == 1


def test_a_program_that_handles_sigterm_itself_keeps_its_handler(tmp_path):
    result = run("own-handler", tmp_path / "t.sqlite3", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["own handler ran", "still running"]
    assert calls_of_work(tmp_path / "t.sqlite3") == 1  # written at exit
