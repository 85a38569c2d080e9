"""A database written by the real `monkeytype run` is imported, counted and annotated."""

import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from typeharvest.store import StoreError, TraceReader
from typeharvest.store.monkeytype_import import import_monkeytype, type_string

pytest.importorskip("monkeytype")


def run(*args, cwd, env=None):
    result = subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def monkeytype_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mt")
    (folder / "work.py").write_text(
        textwrap.dedent(
            """
            def pair(a, b=None):
                return [a, b]

            def lengths(words):
                return {w: len(w) for w in words}

            def countdown(n):
                while n:
                    yield str(n)
                    n -= 1
            """
        )
    )
    (folder / "drive.py").write_text(
        "import work\nfor _ in range(3):\n    work.pair(1)\nwork.pair('x', 2.5)\n"
        "work.lengths(['a', 'bb'])\nlist(work.countdown(2))\n"
    )
    run(
        "-m",
        "monkeytype",
        "run",
        "drive.py",
        cwd=folder,
        env={"MT_DB_PATH": str(folder / "monkeytype.sqlite3")},
    )
    return folder


def test_the_call_traces_become_counted_signatures(monkeytype_db, tmp_path):
    with sqlite3.connect(monkeytype_db / "monkeytype.sqlite3") as connection:
        (rows,) = connection.execute("SELECT count(*) FROM monkeytype_call_traces").fetchone()
    db = tmp_path / "th.sqlite3"
    result = import_monkeytype(monkeytype_db / "monkeytype.sqlite3", db)
    assert result.calls == rows >= 6  # MonkeyType on 3.13 also logs some generator resumptions
    assert result.skipped_rows == 0
    with TraceReader(db) as reader:
        seen = {(o.function.qualname, o.signature, o.calls) for o in reader.observations("work")}
    pair = {(s.arg_types, s.return_type, calls) for name, s, calls in seen if name == "pair"}
    assert pair == {
        (("builtins.int", "builtins.NoneType"), "builtins.list[builtins.NoneType | builtins.int]", 3),
        (("builtins.str", "builtins.float"), "builtins.list[builtins.float | builtins.str]", 1),
    }
    countdown = {s.yield_type for name, s, _ in seen if name == "countdown"}
    assert countdown == ({"builtins.str"} if monkeytype_records_yields(monkeytype_db) else {""})


def monkeytype_records_yields(folder):
    """MonkeyType loses every generator's yield type on Python 3.13 (its issue #353)."""
    with sqlite3.connect(folder / "monkeytype.sqlite3") as connection:
        rows = connection.execute(
            "SELECT count(*) FROM monkeytype_call_traces"
            " WHERE qualname = 'countdown' AND yield_type IS NOT NULL"
        ).fetchone()
    return rows[0] > 0


def test_imported_traces_annotate_like_our_own(monkeytype_db, tmp_path):
    db = tmp_path / "th.sqlite3"
    run("-m", "typeharvest", "import-monkeytype", "monkeytype.sqlite3", "--db", str(db), cwd=monkeytype_db)
    stub = run(
        "-m", "typeharvest", "annotate", "work", "--stub", "--out", "-", "--db", str(db), cwd=monkeytype_db
    )
    lines = stub.splitlines()
    assert "def pair(a: int | str, b: float | None = None) -> list[float | str | None]: ..." in lines
    assert "def lengths(words: list[str]) -> dict[str, int]: ..." in lines
    if monkeytype_records_yields(monkeytype_db):
        assert "def countdown(n: int) -> Iterator[str]: ..." in lines
    else:
        assert "def countdown(n: int) -> Generator[Incomplete]: ..." in lines  # stubgen's guess stays


def test_monkeytype_json_types_are_spelled_as_typeharvest_spells_them():
    def t(module, qualname, *elements):
        spec = {"module": module, "qualname": qualname}
        if elements:
            spec["elem_types"] = list(elements)
        return spec

    integer, text = t("builtins", "int"), t("builtins", "str")
    assert type_string(t("typing", "Dict", text, t("typing", "List", integer))) == (
        "builtins.dict[builtins.str, builtins.list[builtins.int]]"
    )
    assert type_string(t("typing", "Union", integer, t("builtins", "NoneType"))) == (
        "builtins.NoneType | builtins.int"
    )
    assert type_string({"module": "typing", "qualname": "Tuple", "elem_types": []}) == "builtins.tuple[()]"
    assert type_string(t("app.models", "Outer.Inner")) == "app.models:Outer.Inner"


def test_a_file_that_is_not_a_monkeytype_database_is_a_one_line_error(tmp_path):
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE x (y)").connection.close()
    with pytest.raises(StoreError, match="not a MonkeyType trace database"):
        import_monkeytype(other, tmp_path / "th.sqlite3")
    with pytest.raises(StoreError, match="MonkeyType database not found"):
        import_monkeytype(tmp_path / "missing.sqlite3", tmp_path / "th.sqlite3")
