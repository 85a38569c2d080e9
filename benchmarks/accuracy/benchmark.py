"""The benchmark proper, run inside the pinned virtualenv: per project, prepare the stripped tree, run
each tool in its own copy, and score the copy against the project's own annotations."""

from __future__ import annotations

import dataclasses
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from annotations import RETURN, TreeFacts, module_files, read_tree, strip_tree
from corpus import CorpusError, Project, fetch_sdist, unpack_sdist
from scoring import Context, Names, verdict
from tools import Runner, TestCounts, ToolRun, run_monkeytype, run_righttyper, run_typeharvest

TOOLS = ("typeharvest", "MonkeyType", "RightTyper")
VERDICTS = ("exact", "compatible", "wrong", "missing")


@dataclasses.dataclass
class ToolResult:
    """One tool's scores on one project."""

    run: ToolRun
    counts: Counter[str]
    mypy_errors: int | None
    mypy_note: str
    import_failures: dict[str, str]
    unparsable: dict[str, str]
    details: list[dict[str, str]]

    @property
    def covered(self) -> int:
        """Ground-truth slots the tool annotated."""
        return self.counts["exact"] + self.counts["compatible"] + self.counts["wrong"]


@dataclasses.dataclass
class ProjectResult:
    """Everything measured on one project."""

    project: Project
    slots: int
    overloaded: int
    removed: int
    original_tests: TestCounts | None
    stripped_tests: TestCounts | None
    mypy_stripped: int | None
    mypy_note: str
    tools: dict[str, ToolResult] = dataclasses.field(default_factory=dict)

    def mypy_added(self, tool: str) -> int | None:
        """The tool's annotated tree's mypy errors minus the stripped tree's (None if either is unknown)."""
        outcome = self.tools.get(tool)
        if outcome is None or outcome.mypy_errors is None or self.mypy_stripped is None:
            return None
        return outcome.mypy_errors - self.mypy_stripped


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A project's trees and the facts every tool is scored against."""

    stripped: Path
    truth: TreeFacts
    importable: list[str]


def names_in(facts: TreeFacts, module: str, type_params: frozenset[str]) -> Names:
    """What names mean in ``module`` of a tree: its type variables (and the function's own type
    parameters), the project's type aliases, and the module's ``from m import X as Y`` renames."""
    aliases = {**facts.aliases, **facts.renames.get(module, {})}
    return Names(facts.typevars.get(module, frozenset()) | type_params, aliases)


def score(truth: TreeFacts, tool: TreeFacts) -> tuple[Counter[str], list[dict[str, str]]]:
    """The verdict of every ground-truth slot, counted, and one record per slot for the JSON output."""
    counts: Counter[str] = Counter()
    details = []
    for (module, qualname, slot), truth_text in sorted(truth.slots().items()):
        function = truth.functions[(module, qualname)]
        tool_function = tool.functions.get((module, qualname))
        tool_text = tool_function.annotations.get(slot) if tool_function else None
        context = Context(
            class_bases=truth.class_bases,
            enclosing_class=function.enclosing_class,
            generator_return=slot == RETURN and function.is_generator,
        )
        tool_params = tool_function.type_params if tool_function else frozenset()
        truth_names = names_in(truth, module, function.type_params)
        tool_names = names_in(tool, module, tool_params)
        result = verdict(tool_text, truth_text, context, (tool_names, truth_names))
        counts[result] += 1
        details.append(
            {"module": module, "qualname": qualname, "slot": slot, "truth": truth_text}
            | {"tool": tool_text or "", "verdict": result}
        )
    return counts, details


def prepare(project: Project, folder: Path, runner: Runner) -> tuple[Prepared, ProjectResult]:
    """Unpack the verified sdist, record the truth, strip, and check that stripping changed nothing else
    that matters: every module that imported before still imports (else the run stops)."""
    original = unpack_sdist(fetch_sdist(project), folder / "original")
    truth = read_tree(runner.src(original), project.packages)
    stripped = folder / "stripped" / original.name
    shutil.copytree(original, stripped, symlinks=True)
    removed = strip_tree(runner.src(stripped), project.packages)
    left = [
        f"{function.module}:{function.qualname} {slot}"
        for function in read_tree(runner.src(stripped), project.packages).functions.values()
        for slot, annotation in function.annotations.items()
        if annotation is not None
    ]
    if left:
        raise CorpusError(f"{project.name}: {len(left)} annotations survived stripping, e.g. {left[0]}")
    modules = [name for name, _ in module_files(runner.src(original), project.packages)]
    modules = [name for name in modules if not name.endswith("__main__")]
    failing_before = runner.import_failures("original", original, modules)
    broken = set(runner.import_failures("stripped", stripped, modules)) - set(failing_before)
    if broken:
        raise CorpusError(f"{project.name}: stripping broke the import of {', '.join(sorted(broken))}")
    mypy_stripped, mypy_note = runner.mypy_errors("stripped", stripped)
    result = ProjectResult(
        project=project,
        slots=len(truth.slots()),
        overloaded=truth.overloaded_count(),
        removed=removed,
        original_tests=runner.run_tests("tests-original", original),
        stripped_tests=runner.run_tests("tests-stripped", stripped),
        mypy_stripped=mypy_stripped,
        mypy_note=mypy_note,
    )
    importable = [name for name in modules if name not in failing_before]
    return Prepared(stripped, truth, importable), result


def run_tool(tool: str, runner: Runner, prepared: Prepared, folder: Path) -> ToolResult:
    """Run one tool in a fresh copy of the stripped tree, then score, type-check and import the copy."""
    tree = folder / tool / prepared.stripped.name
    shutil.copytree(prepared.stripped, tree, symlinks=True)
    launchers: dict[str, Callable[[], ToolRun]] = {
        "typeharvest": lambda: run_typeharvest(runner, tree),
        "MonkeyType": lambda: run_monkeytype(runner, tree, prepared.stripped),
        "RightTyper": lambda: run_righttyper(runner, tree),
    }
    run = launchers[tool]()
    facts = read_tree(runner.src(tree), runner.project.packages)
    counts, details = score(prepared.truth, facts)
    mypy_errors, mypy_note = runner.mypy_errors(tool, tree)
    failures = runner.import_failures(tool, tree, prepared.importable)
    return ToolResult(run, counts, mypy_errors, mypy_note, failures, facts.unparsable, details)


def run_project(
    project: Project, work: Path, runner: Runner, tools: tuple[str, ...], log: Callable[[str], None]
) -> ProjectResult:
    """Prepare one project and run every selected tool on it."""
    folder = work / project.name
    log(f"{project.name}: preparing {project.dist} {project.version}")
    prepared, result = prepare(project, folder, runner)
    log(
        f"{project.name}: {result.slots} slots ({result.overloaded} overloaded defs left out); "
        f"tests untraced on the stripped tree: {result.stripped_tests}; mypy: {result.mypy_stripped} errors"
    )
    for tool in tools:
        log(f"{project.name}: {tool}")
        outcome = run_tool(tool, runner, prepared, folder)
        result.tools[tool] = outcome
        failure = f" FAILED: {outcome.run.failure}" if outcome.run.failure else ""
        log(f"{project.name}: {tool}: {outcome.covered} covered, tests {outcome.run.tests}{failure}")
    return result
