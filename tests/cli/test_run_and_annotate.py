"""The whole path through every part: run a program under tracing, store, and print a stub."""

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent.parent / "fixtures" / "sampleapp"


@pytest.fixture(scope="module")
def traced_app(cli, tmp_path_factory):
    """The sample app, run once under `typeharvest run`, with its database."""
    app = tmp_path_factory.mktemp("app")
    shutil.copytree(FIXTURE, app, dirs_exist_ok=True)
    result = cli("run", "drive.py", cwd=app)
    assert result.returncode == 0, result.stderr
    return app


@pytest.fixture(scope="module")
def stub(cli, traced_app):
    result = cli("annotate", "sampleapp.core", "--stub", "--out", "-", cwd=traced_app)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_run_writes_a_real_sqlite_database_in_the_working_directory(traced_app):
    with sqlite3.connect(traced_app / "typeharvest.sqlite3") as connection:
        functions = {row[0] for row in connection.execute("SELECT qualname FROM functions")}
        (calls,) = connection.execute("SELECT sum(calls) FROM signatures").fetchone()
    assert {"double", "Point.scaled", "Point.origin", "countdown", "fetch"} <= functions
    assert "<module>" not in functions
    assert calls >= 16


@pytest.mark.parametrize(
    "line",
    [
        "def double(n: int) -> int: ...",
        "def greet(name: str) -> str: ...",
        "def nothing() -> None: ...",
        "def always_seven() -> int: ...",
        "def total(numbers: list[int]) -> int: ...",
        "def word_lengths(words: list[str]) -> dict[str, int]: ...",
        "def maybe_find(items: list[int], wanted: int) -> int | None: ...",
        "def countdown(n: int) -> Iterator[int]: ...",
        "def collect(*args: int, **kwargs: str) -> int: ...",
        "async def fetch(key: str) -> str: ...",
        "def lookup(key: str, default: float | None = None, *, retries: int = 3) -> float | None: ...",
        "    def __init__(self, x: int, y: int) -> None: ...",
        "    def scaled(self, factor: int) -> Point: ...",
        "    def origin(cls) -> Point: ...",
        "    def distance(a: Point, b: Point) -> float: ...",
    ],
)
def test_the_stub_has_the_observed_signature(stub, line):
    assert line in stub.splitlines()


def test_the_stub_describes_the_whole_module_and_imports_what_it_uses(stub):
    lines = stub.splitlines()
    assert "from collections.abc import Iterator" in lines
    assert "    @classmethod" in lines and "    @staticmethod" in lines
    assert "def explode(value) -> None: ..." in lines  # never called: in the stub, without traced types


def test_mypy_accepts_the_stub_and_uses_it_for_callers(traced_app, stub, tmp_path):
    from mypy import api

    package = tmp_path / "sampleapp"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "core.pyi").write_text(stub)
    (tmp_path / "caller.py").write_text(
        "from sampleapp.core import double, greet\nreveal_type(double(2))\ngreet(3)\n"
    )
    (tmp_path / "mypy.ini").write_text("[mypy]\n")
    config = ["--config-file", str(tmp_path / "mypy.ini"), "--no-incremental", "--cache-dir", os.devnull]
    out, _, _ = api.run([*config, str(tmp_path / "caller.py")])
    assert 'Revealed type is "int"' in out or 'Revealed type is "builtins.int"' in out
    assert 'Argument 1 to "greet" has incompatible type "int"; expected "str"' in out
    assert "core.pyi" not in out, out


def test_list_modules_reports_functions_and_calls(cli, traced_app):
    result = cli("list-modules", "--json", cwd=traced_app)
    assert result.returncode == 0, result.stderr
    (row,) = [m for m in json.loads(result.stdout) if m["module"] == "sampleapp.core"]
    assert row["functions"] == 15
    assert row["calls"] >= 16


def test_stats_json_has_the_keys_other_tools_read(cli, traced_app):
    result = cli("stats", "--json", cwd=traced_app)
    data = json.loads(result.stdout)
    assert {"functions", "signatures", "calls", "tracer_errors"} <= data.keys()
    assert data["tracer_errors"] == 0
    assert data["functions"] >= 15


def test_run_of_a_module_with_dash_m_and_the_database_from_the_environment(cli, tmp_path):
    shutil.copytree(FIXTURE, tmp_path, dirs_exist_ok=True)
    (tmp_path / "sampleapp" / "__main__.py").write_text("from sampleapp.core import double\ndouble(1)\n")
    db = tmp_path / "elsewhere.sqlite3"
    result = cli("run", "-m", "sampleapp", cwd=tmp_path, env={"TYPEHARVEST_DB": str(db)})
    assert result.returncode == 0, result.stderr
    stub = cli("annotate", "sampleapp.core", "--stub", "--out", "-", "--db", str(db), cwd=tmp_path)
    assert "def double(n: int) -> int: ..." in stub.stdout.splitlines()


def test_a_raising_program_keeps_its_traceback_exit_code_and_traces(cli, tmp_path):
    shutil.copytree(FIXTURE, tmp_path, dirs_exist_ok=True)
    result = cli("run", "drive.py", "--explode", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[-1] == "ValueError: boom"
    assert "typeharvest" not in result.stderr and "runpy" not in result.stderr
    stub = cli("annotate", "sampleapp.core", "--stub", "--out", "-", cwd=tmp_path)
    assert "def explode(value: str) -> None: ..." in stub.stdout.splitlines()


def test_the_programs_own_exit_code_and_arguments_pass_through(cli, tmp_path):
    (tmp_path / "exits.py").write_text("import sys\nsys.exit(int(sys.argv[1]) + len(sys.argv))\n")
    assert cli("run", "exits.py", "3", "--flag", cwd=tmp_path).returncode == 6


def test_an_unknown_module_is_a_one_line_error(cli, traced_app):
    result = cli("annotate", "x.y", "--stub", "--out", "-", cwd=traced_app)
    assert result.returncode == 1
    assert result.stderr == f"error: no traces for module 'x.y' in {traced_app / 'typeharvest.sqlite3'}\n"


def test_a_missing_database_is_a_one_line_error_naming_it(cli, tmp_path):
    for command in (["annotate", "m", "--stub", "--out", "-"], ["list-modules"], ["stats", "--json"]):
        result = cli(*command, "--db", "nope.sqlite3", cwd=tmp_path)
        assert result.returncode == 1
        assert result.stderr == f"error: database not found: {tmp_path / 'nope.sqlite3'}\n"
    assert not (tmp_path / "nope.sqlite3").exists()


def test_a_file_that_is_not_a_typeharvest_database_is_refused_and_left_untouched(cli, tmp_path):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
    connection.close()
    before = other.read_bytes()
    (tmp_path / "prog.py").write_text("print('ran')\n")
    for command in (["run", "--db", str(other), "prog.py"], ["stats", "--db", str(other)]):
        result = cli(*command, cwd=tmp_path)
        assert result.returncode == 1
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
        assert str(other) in result.stderr
        assert "ran" not in result.stdout
    assert other.read_bytes() == before


def test_bad_arguments_are_one_line_errors(cli, tmp_path):
    assert cli("run", cwd=tmp_path).stderr == "error: give a script to run, or -m MODULE\n"
    missing = cli("run", "missing.py", cwd=tmp_path)
    assert (missing.returncode, missing.stderr) == (1, "error: no such file: missing.py\n")
    no_module = cli("run", "-m", "no_such_module_here", cwd=tmp_path)
    assert (no_module.returncode, no_module.stderr) == (1, "error: no module named 'no_such_module_here'\n")
    unknown = cli("frobnicate", cwd=tmp_path)
    assert unknown.returncode == 1 and unknown.stderr.startswith("error: ")


def test_a_program_that_uses_click_does_not_see_typeharvests_own_click_context(cli, tmp_path):
    (tmp_path / "prog.py").write_text(
        "import click\nprint(click.get_current_context(silent=True))\n"
        "@click.command()\n@click.option('--n', default=1)\ndef main(n):\n"
        "    print('n', n, click.get_current_context().parent)\n"
        "main(['--n', '2'], standalone_mode=False)\n"
    )
    result = cli("run", "prog.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["None", "n 2 None"]
