"""Running things in a project's tree: its test suite, the three tools, mypy and an import check.

Every command runs in a subprocess of the benchmark's pinned virtualenv, with the tree's source folder
as ``PYTHONPATH`` (the project is never installed), and its output goes to a log file. A tool that
fails is recorded as a one-line ``failure`` and the run goes on.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from corpus import Project

STEP_TIMEOUT = 900
EXCEPTION_LINE = re.compile(r"^[\w.]+(Error|Exception|Exit|Interrupt)(:|$)")
UNDECODED = re.compile(r"^(\d+) traces failed to decode")
MYPY_OPTIONS = (
    "--check-untyped-defs",
    "--ignore-missing-imports",
    "--no-incremental",
    "--cache-dir=/dev/null",
    "--no-error-summary",
    "--hide-error-context",
    "--show-error-codes",
    "--no-color-output",
)
# Variables of the caller that would change what the tools trace or where they write.
SCRUBBED_ENV = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "VIRTUAL_ENV",
    "TYPEHARVEST_DB",
    "MT_DB_PATH",
    "MONKEYTYPE_TRACE_MODULES",
)
IMPORT_CHECK = """
import importlib, json, sys
failures = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except BaseException as exc:
        failures[name] = (type(exc).__name__ + ": " + str(exc)).splitlines()[0][:300]
print(json.dumps(failures))
"""


@dataclasses.dataclass(frozen=True)
class Step:
    """What one subprocess did: exit code (None on a time-out), duration, and its log."""

    returncode: int | None
    seconds: float
    log: Path

    def lines(self) -> list[str]:
        """The command's non-empty output lines (the log's first line is the command itself)."""
        text = self.log.read_text(errors="replace").splitlines()[1:]
        return [line.strip() for line in text if line.strip()]

    def last_line(self) -> str:
        """The line that says why a command failed: the last Python exception line, else an ``ERROR``
        line joined to the next one, else the last line that is not a traceback's ``^^^`` marker."""
        lines = self.lines()
        for line in reversed(lines):
            if EXCEPTION_LINE.match(line):
                return line[:300]
        for index, line in enumerate(lines):
            if line.startswith("ERROR"):
                return " ".join(lines[index : index + 2])[:300]
        meaningful = [line for line in lines if line.strip("^~ ")]
        return meaningful[-1][:300] if meaningful else "(no output)"


@dataclasses.dataclass(frozen=True)
class TestCounts:
    """A pytest run's outcome, read from its JUnit XML report."""

    passed: int
    failed: int
    errors: int
    skipped: int

    def __str__(self) -> str:
        return f"{self.passed} passed, {self.failed} failed, {self.errors} errors"


@dataclasses.dataclass
class ToolRun:
    """One tool on one project: how long tracing and annotating took, and what went wrong."""

    tool: str
    failure: str | None = None
    notes: list[str] = dataclasses.field(default_factory=list)
    tests: TestCounts | None = None
    trace_seconds: float = 0.0
    annotate_seconds: float | None = None
    crashes: int = 0

    def seconds(self) -> float:
        """Trace and annotate time together."""
        return self.trace_seconds + (self.annotate_seconds or 0.0)


@dataclasses.dataclass(frozen=True)
class Runner:
    """Runs commands of the pinned virtualenv against one copy of a project's sdist."""

    venv: Path
    project: Project
    logs: Path

    def python(self) -> str:
        """The virtualenv's interpreter."""
        return str(self.venv / "bin" / "python")

    def script(self, name: str) -> str:
        """A console script of the virtualenv (``typeharvest``, ``monkeytype``)."""
        return str(self.venv / "bin" / name)

    def src(self, root: Path) -> Path:
        """The folder that holds the project's packages in a tree rooted at ``root``."""
        return root / self.project.src if self.project.src else root

    def env(self, root: Path, **extra: str) -> dict[str, str]:
        """The environment of every command: the caller's, scrubbed, with the tree on PYTHONPATH.

        ``PYTHONHASHSEED`` is fixed so that the order of sets of strings adds no run-to-run variation;
        MonkeyType still varies, since it also builds unions from sets of type objects (ordered by
        address), and RightTyper samples at random.
        """
        env = {key: value for key, value in os.environ.items() if key not in SCRUBBED_ENV}
        env.update(PYTHONPATH=str(self.src(root)), PYTHONHASHSEED="0", NO_COLOR="1", **extra)
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return env

    def run(self, name: str, command: list[str], cwd: Path, env: dict[str, str]) -> Step:
        """Run ``command``, its output to ``logs/<project>-<name>.log``; a time-out is returncode None."""
        log = self.logs / f"{self.project.name}-{name}.log"
        started = time.perf_counter()
        with log.open("w") as out:
            out.write(f"$ (cd {cwd} && {' '.join(command)})\n")
            out.flush()
            try:
                code: int | None = subprocess.run(
                    command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=STEP_TIMEOUT
                ).returncode
            except subprocess.TimeoutExpired:
                out.write(f"TimeoutError: killed after {STEP_TIMEOUT} s\n")
                code = None
            except OSError as exc:
                out.write(f"OSError: cannot start {command[0]}: {exc}\n")
                code = None
        return Step(code, time.perf_counter() - started, log)

    def pytest_args(self, name: str) -> tuple[list[str], Path]:
        """The project's test arguments plus a JUnit report (how outcomes are counted) and no cache."""
        report = self.logs / f"{self.project.name}-{name}.xml"
        extra = ["-q", "--color=no", "-p", "no:cacheprovider", f"--junitxml={report}"]
        return ["-m", "pytest", *self.project.test_args, *extra], report

    def run_tests(self, name: str, root: Path) -> TestCounts | None:
        """The project's test suite on the tree at ``root``, untraced."""
        args, report = self.pytest_args(name)
        self.run(name, [self.python(), *args], root, self.env(root))
        return read_junit(report)

    def mypy_errors(self, name: str, root: Path) -> tuple[int | None, str]:
        """mypy's error count on the project's packages (same options for every tree), or None and why.

        A config file with only ``[mypy]`` replaces the project's own settings, so that the stripped and
        every annotated tree are checked identically.
        """
        config = self.logs / "mypy.ini"
        config.write_text("[mypy]\n")
        src = self.src(root)
        targets = [
            package if (src / package).is_dir() else f"{package}.py" for package in self.project.packages
        ]
        command = [self.python(), "-m", "mypy", f"--config-file={config}", *MYPY_OPTIONS, *targets]
        step = self.run(f"mypy-{name}", command, src, self.env(root))
        output = step.log.read_text(errors="replace")
        if step.returncode not in (0, 1):
            return None, f"mypy exited {step.returncode}: {step.last_line()}"
        return sum(1 for line in output.splitlines() if ": error:" in line), ""

    def import_failures(self, name: str, root: Path, modules: list[str]) -> dict[str, str]:
        """Module → first line of the exception, for each module that fails to import (one process)."""
        step = self.run(f"import-{name}", [self.python(), "-c", IMPORT_CHECK, *modules], root, self.env(root))
        lines = step.log.read_text(errors="replace").strip().splitlines()
        try:
            result = json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError):
            return {"*": f"import check exited {step.returncode}: {step.last_line()}"}
        return {str(key): str(value) for key, value in result.items()}


def read_junit(report: Path) -> TestCounts | None:
    """Counts from a JUnit XML file, or None if pytest never wrote one (it crashed or was killed)."""
    try:
        suites = ElementTree.parse(report).getroot()
    except (OSError, ElementTree.ParseError):
        return None
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites.iter("testsuite"):
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    passed = totals["tests"] - totals["failures"] - totals["errors"] - totals["skipped"]
    return TestCounts(passed, totals["failures"], totals["errors"], totals["skipped"])


def in_packages(module: str, packages: tuple[str, ...]) -> bool:
    """Whether ``module`` is one of the packages or inside one."""
    return any(module == package or module.startswith(f"{package}.") for package in packages)


def run_typeharvest(runner: Runner, root: Path) -> ToolRun:
    """``typeharvest run`` over the test suite, then ``typeharvest annotate`` writing inline annotations.

    ``annotate`` checks its own output with mypy and withdraws annotations that add errors; it is
    expected to print a summary and exit 0. Any other exit is the tool's failure on this project.
    """
    result = ToolRun("typeharvest")
    db = runner.logs / f"{runner.project.name}-typeharvest.sqlite3"
    includes = [arg for package in runner.project.packages for arg in ("--include", package)]
    pytest_args, report = runner.pytest_args("typeharvest-tests")
    command = [runner.script("typeharvest"), "run", "--db", str(db), *includes, *pytest_args]
    trace = runner.run("typeharvest-run", command, root, runner.env(root))
    result.trace_seconds, result.tests = trace.seconds, read_junit(report)
    if result.tests is None:
        result.failure = f"typeharvest run exited {trace.returncode}: {trace.last_line()}"
        return result
    src = str(runner.src(root))
    command = [
        runner.script("typeharvest"),
        "annotate",
        *runner.project.packages,
        "--db",
        str(db),
        "--src",
        src,
    ]
    annotate = runner.run("typeharvest-annotate", command, root, runner.env(root))
    result.annotate_seconds = annotate.seconds
    if annotate.returncode != 0:
        result.failure = f"typeharvest annotate exited {annotate.returncode}: {annotate.last_line()}"
    else:
        result.notes += [f"annotate said: {line[:300]}" for line in annotate.lines()[:2]]
    return result


def run_monkeytype(runner: Runner, root: Path, stripped: Path) -> ToolRun:
    """``monkeytype run -m pytest``, then ``monkeytype apply`` for every traced module of the project.

    Each module is applied *alone*, in a scratch copy of the stripped tree, and the rewritten file is
    then copied into ``root``: ``apply`` imports the module it rewrites, so one application that breaks
    an import (MonkeyType can add an import cycle) would otherwise make every later one crash, and the
    score would measure the order of the modules. Whether the combined result imports is still checked.
    """
    result = ToolRun("MonkeyType")
    env = runner.env(root, MT_DB_PATH=str(runner.logs / f"{runner.project.name}-monkeytype.sqlite3"))
    pytest_args, report = runner.pytest_args("monkeytype-tests")
    trace = runner.run("monkeytype-run", [runner.script("monkeytype"), "run", *pytest_args], root, env)
    result.trace_seconds, result.tests = trace.seconds, read_junit(report)
    if result.tests is None:
        result.failure = f"monkeytype run exited {trace.returncode}: {trace.last_line()}"
        return result
    listing = runner.run("monkeytype-list", [runner.script("monkeytype"), "list-modules"], root, env)
    lines = listing.log.read_text().splitlines()[1:]
    modules = sorted(line.strip() for line in lines if in_packages(line.strip(), runner.project.packages))
    scratch = root.parent / f"{root.name}-monkeytype-scratch"
    shutil.copytree(stripped, scratch, symlinks=True)
    scratch_env = {**env, "PYTHONPATH": str(runner.src(scratch))}
    result.annotate_seconds = 0.0
    undecoded = sum(
        apply_one(runner, module, (scratch, stripped, root), scratch_env, result) for module in modules
    )
    shutil.rmtree(scratch)
    if undecoded:
        result.notes.append(f"apply: {undecoded} distinct traces failed to decode (MonkeyType skips them)")
    return result


def apply_one(
    runner: Runner, module: str, trees: tuple[Path, Path, Path], env: dict[str, str], result: ToolRun
) -> int:
    """``monkeytype apply MODULE`` in the scratch tree; copy the file it rewrote to the result tree and
    restore the scratch copy. A non-zero exit is a crash: counted, noted, and the run goes on.

    ``trees`` is (scratch, stripped, result). Returns how many traces MonkeyType could not decode.
    """
    scratch, stripped, root = trees
    step = runner.run(
        f"monkeytype-apply-{module}", [runner.script("monkeytype"), "apply", module], scratch, env
    )
    result.annotate_seconds = (result.annotate_seconds or 0.0) + step.seconds
    if step.returncode != 0:
        result.crashes += 1
        result.notes.append(f"apply {module} crashed: {step.last_line()}")
    for path in runner.src(scratch).rglob("*.py"):
        relative = path.relative_to(scratch)
        if path.read_bytes() != (stripped / relative).read_bytes():
            shutil.copyfile(path, root / relative)
            shutil.copyfile(stripped / relative, path)
    return sum(int(match.group(1)) for line in step.lines() if (match := UNDECODED.match(line)))


def righttyper_usable(runner: Runner) -> str | None:
    """None if RightTyper runs on this interpreter, else a one-line reason."""
    command = [runner.python(), "-m", "righttyper", "--version"]
    # In the logs folder: RightTyper creates righttyper.log in its working directory on import.
    check = subprocess.run(command, cwd=runner.logs, capture_output=True, text=True, timeout=120)
    if check.returncode == 0:
        return None
    lines = (check.stderr or check.stdout).strip().splitlines()
    return f"did not install/run: {lines[-1] if lines else f'exit {check.returncode}'}"


def run_righttyper(runner: Runner, root: Path) -> ToolRun:
    """``python -m righttyper --output-files --overwrite -m pytest``: it rewrites the files it saw in place
    at exit (keeping ``.bak`` copies, which scoring ignores), so its annotate time is inside its run's.
    Its default sampling is kept; ``--python-version`` (the syntax it writes) is this interpreter's,
    when it knows it."""
    result = ToolRun("RightTyper")
    reason = righttyper_usable(runner)
    if reason is not None:
        result.failure = reason
        return result
    options = ["--output-files", "--overwrite"]
    if sys.version_info[:2] <= (3, 13):
        options += ["--python-version", f"{sys.version_info.major}.{sys.version_info.minor}"]
    pytest_args, report = runner.pytest_args("righttyper-tests")
    command = [runner.python(), "-m", "righttyper", *options, *pytest_args]
    step = runner.run("righttyper-run", command, root, runner.env(root))
    result.trace_seconds, result.tests = step.seconds, read_junit(report)
    if result.tests is None:
        result.failure = f"righttyper exited {step.returncode}: {step.last_line()}"
    return result
