"""Printing the results as plain-text tables, and as JSON."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from benchmark import ProjectResult
from tools import TestCounts

SCORE_COLUMNS = ("covered", "exact", "compat", "wrong", "mypy+", "import")


def _percent(count: int, total: int) -> str:
    """``count`` with its share of ``total``: ``812 58%``."""
    return f"{count} {round(100 * count / total) if total else 0}%"


def _signed(number: int | None) -> str:
    """``+3``, ``-1``, ``0``, or ``?`` when unknown."""
    return "?" if number is None else f"{number:+d}" if number else "0"


def _tool_cells(result: ProjectResult, tool: str, notes: list[str]) -> list[str]:
    """The six cells of one tool on one project; a failure becomes a numbered footnote."""
    outcome = result.tools.get(tool)
    if outcome is None:
        return ["not run", *["-"] * (len(SCORE_COLUMNS) - 1)]
    if outcome.run.failure:
        notes.append(f"{tool} on {result.project.name}: {outcome.run.failure}")
        return [f"failed [{len(notes)}]", *["-"] * (len(SCORE_COLUMNS) - 1)]
    counts, slots = outcome.counts, result.slots
    return [
        _percent(outcome.covered, slots),
        _percent(counts["exact"], slots),
        _percent(counts["compatible"], slots),
        _percent(counts["wrong"], slots),
        _signed(result.mypy_added(tool)),
        "fails" if outcome.import_failures else "ok",
    ]


def _total_cells(results: Sequence[ProjectResult], tool: str, slots: int) -> list[str]:
    """Sums over the projects where the tool produced a result (a failed project contributes nothing)."""
    scored = [result for result in results if tool in result.tools and not result.tools[tool].run.failure]
    if not scored:
        return ["-"] * len(SCORE_COLUMNS)
    outcomes = [result.tools[tool] for result in scored]
    added = [result.mypy_added(tool) for result in scored]
    fails = sum(1 for outcome in outcomes if outcome.import_failures)
    return [
        _percent(sum(outcome.covered for outcome in outcomes), slots),
        _percent(sum(outcome.counts["exact"] for outcome in outcomes), slots),
        _percent(sum(outcome.counts["compatible"] for outcome in outcomes), slots),
        _percent(sum(outcome.counts["wrong"] for outcome in outcomes), slots),
        _signed(None if None in added else sum(number or 0 for number in added)),
        f"{fails} fail" if fails else "ok",
    ]


def _layout(rows: list[list[str]], groups: Sequence[tuple[str, int]], total_row: bool) -> str:
    """Align ``rows`` (the first is the header) in columns, under a line naming the column groups."""
    widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]))]
    lines = []
    group_line, column = "", 0
    for name, span in groups:
        width = sum(widths[column : column + span]) + 2 * (span - 1)
        group_line += f"{name:<{width}}" + (" | " if column + span < len(widths) else "")
        column += span
    lines.append(group_line.rstrip())
    for row in rows:
        cells = []
        column = 0
        for _, span in groups:
            part = "  ".join(
                f"{row[i]:<{widths[i]}}" if i == 0 else f"{row[i]:>{widths[i]}}"
                for i in range(column, column + span)
            )
            cells.append(part)
            column += span
        lines.append(" | ".join(cells).rstrip())
    rule = "-" * max(len(line) for line in lines)
    lines.insert(2, rule)
    if total_row:
        lines.insert(len(lines) - 1, rule)
    return "\n".join(lines)


def score_table(results: Sequence[ProjectResult], tools: Sequence[str]) -> str:
    """Rows = projects and a total; column groups = the tools; then the footnotes of failed tools."""
    notes: list[str] = []
    header = ["project", "slots", *[column for _ in tools for column in SCORE_COLUMNS]]
    rows = [header]
    for result in results:
        row = [result.project.name, str(result.slots)]
        for tool in tools:
            row += _tool_cells(result, tool, notes)
        rows.append(row)
    total = sum(result.slots for result in results)
    rows.append(
        ["total", str(total), *[cell for tool in tools for cell in _total_cells(results, tool, total)]]
    )
    groups = [("", 2), *[(tool, len(SCORE_COLUMNS)) for tool in tools]]
    footnotes = [f"[{index}] {note}" for index, note in enumerate(notes, 1)]
    return "\n".join([_layout(rows, groups, total_row=True), *footnotes])


def _tests(counts: TestCounts | None) -> str:
    """``2433/1/0`` (passed/failed/errors), or ``no report``."""
    return "no report" if counts is None else f"{counts.passed}/{counts.failed}/{counts.errors}"


def runs_table(results: Sequence[ProjectResult], tools: Sequence[str]) -> str:
    """Per project and tool: the test suite's outcome under the tool, and the time it took."""
    header = ["project", "tests original", "tests stripped"]
    header += [what for _ in tools for what in ("tests", "trace s", "annotate s")]
    rows = [header]
    for result in results:
        row = [result.project.name, _tests(result.original_tests), _tests(result.stripped_tests)]
        for tool in tools:
            outcome = result.tools.get(tool)
            if outcome is None:
                row += ["-", "-", "-"]
                continue
            run = outcome.run
            annotate = "-" if run.annotate_seconds is None else f"{run.annotate_seconds:.1f}"
            row += [_tests(run.tests), f"{run.trace_seconds:.1f}", annotate]
        rows.append(row)
    groups = [
        ("tests: passed/failed/errors", 3),
        *[(f"{tool}: tests under it, seconds", 3) for tool in tools],
    ]
    return _layout(rows, groups, total_row=False)


def problems(results: Sequence[ProjectResult], tools: Sequence[str]) -> list[str]:
    """Every tool crash, broken import, unparsable file and mypy failure, one line each."""
    lines = []
    for result in results:
        name = result.project.name
        if result.mypy_note:
            lines.append(f"{name}: stripped tree: {result.mypy_note}")
        for tool in tools:
            outcome = result.tools.get(tool)
            if outcome is None:
                continue
            lines += [f"{name}: {tool}: {note}" for note in outcome.run.notes]
            if outcome.import_failures:
                module, why = next(iter(outcome.import_failures.items()))
                more = len(outcome.import_failures) - 1
                also = f" (and {more} more modules)" if more else ""
                lines.append(f"{name}: {tool}: import {module} fails{also}: {why}")
            lines += [
                f"{name}: {tool}: wrote unparsable {module}: {why}"
                for module, why in outcome.unparsable.items()
            ]
            if outcome.mypy_note:
                lines.append(f"{name}: {tool}: {outcome.mypy_note}")
    return lines


def _tests_json(counts: TestCounts | None) -> dict[str, int] | None:
    """A test outcome as a JSON object (None if pytest wrote no report)."""
    return dataclasses.asdict(counts) if counts else None


def _tool_json(result: ProjectResult, tool: str) -> dict[str, object]:
    """One tool's numbers on one project, with the verdict of every slot."""
    outcome = result.tools[tool]
    run = outcome.run
    return {
        "failure": run.failure,
        "covered": outcome.covered,
        "counts": dict(outcome.counts),
        "mypy_errors": outcome.mypy_errors,
        "mypy_added": result.mypy_added(tool),
        "import_failures": outcome.import_failures,
        "unparsable": outcome.unparsable,
        "tests": _tests_json(run.tests),
        "trace_seconds": round(run.trace_seconds, 2),
        "annotate_seconds": None if run.annotate_seconds is None else round(run.annotate_seconds, 2),
        "crashes": run.crashes,
        "notes": run.notes,
        "slots": outcome.details,
    }


def as_json(results: Sequence[ProjectResult], meta: dict[str, object]) -> dict[str, object]:
    """The raw numbers: per project, the baseline and each tool's counts, runs and per-slot verdicts."""
    return {
        "meta": meta,
        "projects": [
            {
                "project": dataclasses.asdict(result.project),
                "slots": result.slots,
                "overloaded_defs_left_out": result.overloaded,
                "annotations_removed": result.removed,
                "tests_original": _tests_json(result.original_tests),
                "tests_stripped": _tests_json(result.stripped_tests),
                "mypy_errors_stripped": result.mypy_stripped,
                "tools": {tool: _tool_json(result, tool) for tool in result.tools},
            }
            for result in results
        ],
    }
