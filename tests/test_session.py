"""typeharvest.trace(): the Python API that wires the tracer to the store."""

import subprocess
import sys
import textwrap

import pytest

import typeharvest
from typeharvest.store import StoreError, TraceReader
from typeharvest.tracer import Tracer, TracerAlreadyActive


def square(x):
    return x * x


def test_trace_writes_the_blocks_calls_to_the_database(tmp_path):
    db = tmp_path / "t.sqlite3"
    with typeharvest.trace(db=db, include=[__name__]):
        square(3)
        square(2.0)
    with TraceReader(db) as reader:
        observations = reader.observations(__name__)
    assert {(o.signature.arg_types, o.signature.return_type, o.calls) for o in observations} == {
        (("builtins.int",), "builtins.int", 1),
        (("builtins.float",), "builtins.float", 1),
    }


def test_trace_refuses_a_bad_database_before_running_anything(tmp_path):
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"not sqlite at all" * 10)
    ran = []
    with pytest.raises(StoreError, match="not a typeharvest database"), typeharvest.trace(db=bad):
        ran.append(True)
    assert ran == []


def test_only_one_tracer_can_run_at_a_time(tmp_path):
    with typeharvest.trace(db=tmp_path / "a.sqlite3", include=[__name__]):
        second = Tracer(lambda observations, errors: None)
        with pytest.raises(TracerAlreadyActive):
            second.start()
    third = Tracer(lambda observations, errors: None)
    third.start()
    third.stop()
    third.stop()


def run_python(code, cwd):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_a_program_that_exits_while_tracing_still_flushes_at_exit(tmp_path):
    (tmp_path / "work.py").write_text("def f(a):\n    return [a]\n")
    result = run_python(
        """
        import typeharvest, work
        tracing = typeharvest.trace(db="t.sqlite3")
        tracing.__enter__()
        work.f("x")
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    with TraceReader(tmp_path / "t.sqlite3") as reader:
        (observation,) = reader.observations("work")
    assert observation.signature.return_type == "builtins.list[builtins.str]"


def test_tracing_and_flushing_import_only_the_standard_library(tmp_path):
    (tmp_path / "work.py").write_text("def f(a):\n    return a\n")
    result = run_python(
        """
        import sys, typeharvest, work
        with typeharvest.trace(db="t.sqlite3"):
            work.f(1)
        heavy = {"libcst", "mypy", "sqlite_utils", "click", "rich"} & {m.split(".")[0] for m in sys.modules}
        print(sorted(heavy))
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert (tmp_path / "t.sqlite3").exists()
