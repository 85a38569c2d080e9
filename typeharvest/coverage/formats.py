"""The coverage report as a terminal table, Markdown for CI comments, and a self-contained HTML page."""

from __future__ import annotations

import html
from typing import Literal

from rich.console import Console
from rich.table import Table

from typeharvest.coverage.report import Counts, CoverageReport, ModuleCoverage

SortKey = Literal["untyped", "percent", "module", "functions"]


def sorted_modules(report: CoverageReport, sort: SortKey) -> list[ModuleCoverage]:
    """Modules in report order: most untyped (then partially typed) first unless told otherwise."""
    modules = list(report.modules)
    if sort == "module":
        return sorted(modules, key=lambda m: m.module)
    if sort == "percent":
        return sorted(modules, key=lambda m: (m.counts.percent, m.module))
    if sort == "functions":
        return sorted(modules, key=lambda m: (-m.counts.functions, m.module))
    return sorted(modules, key=lambda m: (-m.counts.untyped, -m.counts.partial, m.module))


def _figures(counts: Counts) -> list[str]:
    return [
        str(counts.functions),
        str(counts.full),
        str(counts.partial),
        str(counts.untyped),
        f"{counts.percent:.1f}",
    ]


_COLUMNS = ("module", "functions", "full", "partial", "untyped", "typed %")


def print_table(report: CoverageReport, sort: SortKey, console: Console) -> None:
    """A rich table, with the totals as its last row and skipped files listed after it."""
    table = Table(title="Typed-function coverage")
    table.add_column(_COLUMNS[0], overflow="fold")
    for column in _COLUMNS[1:]:
        table.add_column(column, justify="right")
    for module in sorted_modules(report, sort):
        table.add_row(module.module, *_figures(module.counts))
    table.add_section()
    table.add_row("TOTAL", *_figures(report.totals), style="bold")
    console.print(table)
    for path, message in report.errors:
        console.print(f"skipped {path}: {message}", style="yellow", markup=False)


def markdown(report: CoverageReport, sort: SortKey) -> str:
    """A Markdown table for a pull-request comment."""
    totals = report.totals
    lines = [
        f"**Typed-function coverage: {totals.percent:.1f}%** "
        f"({totals.full} of {totals.functions} functions fully typed, {totals.partial} partially)",
        "",
        "| " + " | ".join(_COLUMNS) + " |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for module in sorted_modules(report, sort):
        lines.append("| " + " | ".join([f"`{module.module}`", *_figures(module.counts)]) + " |")
    lines.append("| " + " | ".join(["**total**", *_figures(totals)]) + " |")
    return "\n".join(lines) + "\n"


def escape(text: object) -> str:
    """HTML-escape anything shown in the page."""
    return html.escape(str(text), quote=True)
