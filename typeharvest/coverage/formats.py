"""The coverage report as a terminal table, Markdown for CI comments, and a self-contained HTML page."""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from typing import Literal

from rich.console import Console
from rich.table import Table

from typeharvest.coverage.report import CoverageReport, ModuleCoverage
from typeharvest.records import CoverageCounts, CoverageSnapshot

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


def _figures(counts: CoverageCounts) -> list[str]:
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


def trend_svg(history: Sequence[CoverageSnapshot], width: int = 640, height: int = 160) -> str:
    """An inline SVG line of the typed percentage over the snapshots (oldest left), 0-100 % scale."""
    points = [snapshot.totals.percent for snapshot in history]
    if not points:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0"></svg>'
    step = width / max(1, len(points) - 1)
    coordinates = " ".join(
        f"{i * step:.1f},{height - percent / 100 * height:.1f}" for i, percent in enumerate(points)
    )
    dots = "".join(
        f'<circle cx="{i * step:.1f}" cy="{height - p / 100 * height:.1f}" r="3">'
        f"<title>{escape(_label(snapshot))}: {p:.1f}%</title></circle>"
        for i, (snapshot, p) in enumerate(zip(history, points, strict=True))
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="trend" width="{width}" height="{height}" '
        f'viewBox="-5 -5 {width + 10} {height + 10}" role="img" aria-label="typed percentage over time">'
        f'<polyline fill="none" stroke="#2b6cb0" stroke-width="2" points="{coordinates}"/>{dots}</svg>'
    )


def _label(snapshot: CoverageSnapshot) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(snapshot.taken_at))
    return f"{when} {snapshot.commit[:8]}" if snapshot.commit else when


def html_page(report: CoverageReport, history: Sequence[CoverageSnapshot], sort: SortKey) -> str:
    """One self-contained page (no network assets): totals, the trend, and the per-module table."""
    totals = report.totals
    rows = "".join(
        f'<tr data-module="{escape(m.module)}"><td>{escape(m.module)}</td>'
        + "".join(f"<td>{escape(figure)}</td>" for figure in _figures(m.counts))
        + "</tr>"
        for m in sorted_modules(report, sort)
    )
    header = "".join(f"<th>{escape(column)}</th>" for column in _COLUMNS)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Typed-function coverage</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #1a202c; }}
table {{ border-collapse: collapse; }} td, th {{ padding: .25em .75em; border-bottom: 1px solid #e2e8f0; }}
td:not(:first-child), th:not(:first-child) {{ text-align: right; }}
.trend {{ background: #f7fafc; border: 1px solid #e2e8f0; }}
</style></head><body>
<h1>Typed-function coverage: <span id="percent">{totals.percent:.1f}</span>%</h1>
<p id="totals" data-functions="{totals.functions}" data-full="{totals.full}" data-partial="{totals.partial}"
 data-untyped="{totals.untyped}">{totals.full} of {totals.functions} functions fully typed,
{totals.partial} partially, {totals.untyped} untyped.</p>
<h2>Trend</h2>
{trend_svg(history)}
<h2>Modules</h2>
<table id="modules"><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>
</body></html>
"""
