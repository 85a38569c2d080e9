"""Coverage over time, from a real git repository: record, history, backfill, diff-base, html, ready."""

import json
import subprocess
from html.parser import HTMLParser

import pytest

from typeharvest.records import FunctionInfo, FunctionKind, Observation, Parameter, ParameterKind, Signature
from typeharvest.store import write_observations

VERSIONS = [
    "def a(x):\n    return x\n\ndef b(y):\n    return y\n",
    "def a(x: int) -> int:\n    return x\n\ndef b(y):\n    return y\n",
    "def a(x: int) -> int:\n    return x\n\ndef b(y: str):\n    return y\n",
]


def git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path):
    git("init", "-q", "-b", "main", cwd=tmp_path)
    git("config", "user.email", "dev@example.com", cwd=tmp_path)
    git("config", "user.name", "Dev", cwd=tmp_path)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    for number, text in enumerate(VERSIONS):
        (tmp_path / "app" / "m.py").write_text(text)
        git("add", "-A", cwd=tmp_path)
        git("commit", "-q", "-m", f"version {number}", cwd=tmp_path)
    return tmp_path


def test_backfill_reads_the_history_from_git_without_touching_the_work_tree(cli, repo):
    (repo / "app" / "m.py").write_text(
        "def a(x: int) -> int:\n    return x\n\ndef b(y: str) -> str:\n    return y\n"
    )
    before = (repo / "app" / "m.py").read_text()
    result = cli("coverage", "app", "--backfill", "10", "--json", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert (repo / "app" / "m.py").read_text() == before
    history = json.loads(cli("coverage", "history", "--json", cwd=repo).stdout)
    assert [(row["full"], row["partial"], row["untyped"], row["branch"]) for row in history] == [
        (0, 0, 2, "main"),
        (1, 0, 1, "main"),
        (1, 1, 0, "main"),
    ]
    again = cli("coverage", "app", "--backfill", "10", "--json", cwd=repo)
    assert again.returncode == 0
    assert len(json.loads(cli("coverage", "history", "--json", cwd=repo).stdout)) == 3


def test_record_stores_a_snapshot_with_commit_and_branch(cli, repo):
    assert cli("coverage", "app", "--record", "--json", cwd=repo).returncode == 0
    (row,) = json.loads(cli("coverage", "history", "--json", cwd=repo).stdout)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True
    ).stdout.strip()
    assert (row["commit"], row["branch"], row["functions"], row["full"], row["percent"]) == (
        head,
        "main",
        2,
        1,
        50.0,
    )
    table = cli("coverage", "history", cwd=repo)
    assert head[:8] in table.stdout and "50.0" in table.stdout


def test_diff_base_reports_what_a_change_added_per_module(cli, repo):
    (repo / "app" / "m.py").write_text(VERSIONS[2].replace("def b(y: str):", "def b(y: str) -> str:"))
    result = cli("coverage", "app", "--diff-base", "HEAD~2", "--json", cwd=repo)
    diff = json.loads(result.stdout)["diff"]
    assert diff["before"]["full"] == 0
    assert diff["modules"] == [
        {
            "module": "app.m",
            "before_full": 0,
            "before_functions": 2,
            "after_full": 2,
            "after_functions": 2,
            "delta": 100.0,
        }
    ]
    text = cli("coverage", "app", "--diff-base", "HEAD~2", cwd=repo).stdout
    assert "against HEAD~2: 0.0% -> 100.0% (+100.0 points)" in text


class _Figures(HTMLParser):
    def __init__(self):
        super().__init__()
        self.totals = {}
        self.rows = []
        self.svg_points = None
        self._cells = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "p" and attributes.get("id") == "totals":
            self.totals = {k[5:]: int(v) for k, v in attributes.items() if k.startswith("data-")}
        elif tag == "tr" and "data-module" in attributes:
            self._cells = []
        elif tag == "polyline":
            self.svg_points = attributes["points"].split()
        elif tag in ("script", "link", "img"):
            raise AssertionError(f"external or scripted content: <{tag}>")

    def handle_data(self, data):
        if self._cells is not None and data.strip():
            self._cells.append(data.strip())

    def handle_endtag(self, tag):
        if tag == "tr" and self._cells is not None:
            self.rows.append(self._cells)
            self._cells = None


def test_the_html_page_holds_the_figures_and_the_trend(cli, repo, tmp_path):
    cli("coverage", "app", "--backfill", "3", "--json", cwd=repo)
    result = cli("coverage", "app", "--html", str(tmp_path / "report"), "--json", cwd=repo)
    assert result.returncode == 0, result.stderr
    page = _Figures()
    page.feed((tmp_path / "report" / "index.html").read_text())
    assert page.totals == {"functions": 2, "full": 1, "partial": 1, "untyped": 0}
    assert ["app.m", "2", "1", "1", "0", "50.0"] in page.rows
    assert len(page.svg_points) == 3


def test_ready_lists_untyped_functions_with_traces_most_called_first(cli, repo):
    parameters = (Parameter("y", ParameterKind.POSITIONAL_OR_KEYWORD),)
    traced_b = FunctionInfo("app.m", "b", str(repo / "app" / "m.py"), 4, FunctionKind.FUNCTION, parameters)
    traced_a = FunctionInfo("app.m", "a", str(repo / "app" / "m.py"), 1, FunctionKind.FUNCTION, parameters)
    write_observations(
        repo / "typeharvest.sqlite3",
        [
            Observation(traced_b, Signature(("builtins.str",), "builtins.str"), 42, 1.0, 2.0),
            Observation(traced_a, Signature(("builtins.int",), "builtins.int"), 99, 1.0, 2.0),
        ],
        {},
    )
    result = cli("coverage", "app", "--ready", "--json", cwd=repo)
    assert json.loads(result.stdout)["ready"] == [
        {
            "module": "app.m",
            "qualname": "b",
            "status": "partial",
            "calls": 42,
            "command": "typeharvest annotate app.m",
        }
    ]


def test_fail_under_exits_2_and_bad_paths_are_one_line_errors(cli, repo, tmp_path_factory):
    assert cli("coverage", "app", "--fail-under", "60", "--json", cwd=repo).returncode == 2
    assert cli("coverage", "app", "--fail-under", "50", "--json", cwd=repo).returncode == 0
    missing = cli("coverage", "nowhere", cwd=repo)
    assert (missing.returncode, missing.stderr) == (1, "error: no such file or directory: nowhere\n")
    elsewhere = tmp_path_factory.mktemp("not-a-repository")
    outside = cli("coverage", ".", "--diff-base", "HEAD", cwd=elsewhere)
    assert (outside.returncode, outside.stderr) == (1, f"error: not in a git repository: {elsewhere}\n")
    foreign = cli("coverage", str(elsewhere), "--diff-base", "HEAD", cwd=repo)
    assert (foreign.returncode, foreign.stderr) == (
        1,
        f"error: not inside the git repository at {repo}: {elsewhere}\n",
    )
