"""Accuracy benchmark: how close do typeharvest, MonkeyType and RightTyper come to the annotations that
real, well-annotated projects wrote by hand? See README.md beside this file.

    python benchmarks/accuracy/run.py [--project NAME]... [--tool NAME]... [--keep DIR] [--json OUT]
    python benchmarks/accuracy/run.py --self-test

It first makes (once) a virtualenv pinned by ``requirements.txt`` in the cache folder, then re-runs
itself inside it, so the tools, mypy and libcst are the pinned versions whatever interpreter started it.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import corpus

if TYPE_CHECKING:
    from benchmark import ProjectResult

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
REQUIREMENTS = HERE / "requirements.txt"
TOOL_NAMES = ("typeharvest", "MonkeyType", "RightTyper")
READY_MARK = ".typeharvest-accuracy-ready"


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line; ``--project`` and ``--tool`` narrow the run, by default everything runs."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", action="append", default=[], metavar="NAME", help="only this project")
    parser.add_argument("--tool", action="append", default=[], choices=TOOL_NAMES, help="only this tool")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep the trees and logs there")
    parser.add_argument("--json", metavar="OUT", help="also write the raw numbers to OUT")
    parser.add_argument("--self-test", action="store_true", help="check the scoring rules and exit")
    return parser.parse_args(argv)


def venv_path() -> Path:
    """The pinned virtualenv for this interpreter version, requirements and checkout.

    Its name hashes ``requirements.txt`` and the repository's path (typeharvest is installed editable
    from it), so a changed pin or another checkout gets its own virtualenv.
    """
    digest = hashlib.sha256(REQUIREMENTS.read_bytes() + str(REPO).encode()).hexdigest()[:12]
    return corpus.cache_dir() / f"venv-py{sys.version_info.major}.{sys.version_info.minor}-{digest}"


def ensure_venv(venv: Path) -> None:
    """Create the virtualenv unless a complete one exists: the pins with ``--no-deps`` (nothing unpinned
    slips in), typeharvest editable from this checkout (so the benchmark measures the working tree),
    then ``pip check``. A marker file written last tells a complete virtualenv from an interrupted one."""
    if (venv / READY_MARK).exists():
        return
    print(f"creating the benchmark's virtualenv in {venv}", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-qq", "--no-deps"]
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
    subprocess.run([*pip, "-e", str(REPO)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "check"], check=True)
    (venv / READY_MARK).write_text("")


def running_in(venv: Path) -> bool:
    """Whether this process is the virtualenv's interpreter."""
    return Path(sys.prefix).resolve() == venv.resolve()


def versions() -> dict[str, str]:
    """The interpreter's and every measured tool's version, and the typeharvest commit (``+dirty`` when
    its working tree differs)."""
    found = {"python": platform.python_version()}
    for dist in ("typeharvest", "MonkeyType", "righttyper", "mypy", "pytest", "libcst"):
        try:
            found[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            found[dist] = "not installed"
    git = ["git", "-C", str(REPO)]
    commit = subprocess.run(
        [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "typeharvest"], capture_output=True, text=True
    ).stdout
    found["typeharvest"] += f" ({commit or 'no git'}{'+dirty' if dirty.strip() else ''})"
    return found


def select(args: argparse.Namespace) -> tuple[list[corpus.Project], tuple[str, ...]]:
    """The projects and tools to run, in the corpus's and the table's order; an unknown name is an error."""
    projects = corpus.load_projects()
    unknown = set(args.project) - {project.name for project in projects}
    if unknown:
        raise SystemExit(f"error: unknown project(s) {', '.join(sorted(unknown))}")
    chosen = [project for project in projects if not args.project or project.name in args.project]
    missing = sorted({dep for project in chosen for dep in project.deps if _canonical(dep) not in pinned()})
    if missing:
        raise SystemExit(f"error: pin {', '.join(missing)} in {REQUIREMENTS} (a project's test dependency)")
    tools = tuple(tool for tool in TOOL_NAMES if not args.tool or tool in args.tool)
    return chosen, tools


def _canonical(name: str) -> str:
    """A distribution name as pip compares them: ``Text_Unidecode`` → ``text-unidecode``."""
    return name.lower().replace("_", "-").replace(".", "-")


def pinned() -> set[str]:
    """The distributions that ``requirements.txt`` pins."""
    lines = (line.split("#")[0].strip() for line in REQUIREMENTS.read_text().splitlines())
    return {_canonical(line.split("==")[0]) for line in lines if "==" in line}


def run_benchmark(args: argparse.Namespace, venv: Path, work: Path) -> int:
    """Run every selected project and tool, print the tables, write the JSON if asked."""
    from benchmark import run_project
    from report import as_json
    from tools import Runner

    projects, tools = select(args)
    for project in projects:  # every download verified before anything runs: a mismatch stops the run now
        corpus.fetch_sdist(project)
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = []
    for project in projects:
        runner = Runner(venv=venv, project=project, logs=logs)
        results.append(run_project(project, work, runner, tools, lambda line: print(line, file=sys.stderr)))
    wall = time.perf_counter() - started
    tool_seconds = {tool: sum(result.tools[tool].run.seconds() for result in results) for tool in tools}
    found = versions()
    print_report(results, tools, found, tool_seconds)
    print(f"wall time: {wall:.0f} s; logs and trees: {work if args.keep else '(deleted; use --keep DIR)'}")
    if args.json:
        meta: dict[str, object] = {"versions": found, "wall_seconds": round(wall, 1), "work": str(work)}
        meta["tool_seconds"] = {tool: round(seconds, 1) for tool, seconds in tool_seconds.items()}
        Path(args.json).write_text(json.dumps(as_json(results, meta), indent=1) + "\n")
    return 0


def print_report(
    results: list[ProjectResult],
    tools: tuple[str, ...],
    found: dict[str, str],
    tool_seconds: dict[str, float],
) -> None:
    """The score table, the runs table, the versions and times, and every problem met."""
    from report import problems, runs_table, score_table

    print(score_table(results, tools))
    print()
    print(runs_table(results, tools))
    print()
    print("versions: " + ", ".join(f"{name} {version}" for name, version in found.items()))
    print("tool time, trace + annotate: " + ", ".join(f"{t} {s:.0f} s" for t, s in tool_seconds.items()))
    issues = problems(results, tools)
    if issues:
        print("problems:\n  " + "\n  ".join(issues))


def main(argv: list[str]) -> int:
    """Self-test, or bootstrap the virtualenv and re-run inside it, then benchmark."""
    args = parse_args(argv)
    if sys.version_info < (3, 12):  # noqa: UP036 -- the check is for whoever starts it with an older one
        raise SystemExit("error: the accuracy benchmark needs Python >= 3.12 (RightTyper does)")
    if args.self_test:
        import scoring

        failures = scoring.self_test()
        print("\n".join(failures) or f"scoring: all {len(scoring.EXAMPLES)} examples pass")
        return 1 if failures else 0
    venv = venv_path()
    if not running_in(venv):
        ensure_venv(venv)
        python = str(venv / "bin" / "python")
        os.execv(python, [python, str(Path(__file__).resolve()), *argv])
    if args.keep:
        work = Path(args.keep).resolve()
        if work.exists() and any(work.iterdir()):
            raise SystemExit(f"error: {work} is not empty")
        return run_benchmark(args, venv, work)
    with tempfile.TemporaryDirectory(prefix="typeharvest-accuracy-") as folder:
        return run_benchmark(args, venv, Path(folder))


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except corpus.CorpusError as exc:
        sys.exit(f"error: {exc}")
