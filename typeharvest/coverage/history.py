"""Coverage over time: snapshots of reports, backfilled from git, compared against a base revision."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from typeharvest.coverage.git import head, measure_at, recent_commits
from typeharvest.coverage.report import NO_FUNCTIONS, CoverageReport
from typeharvest.records import CoverageCounts, CoverageSnapshot


def snapshot_of(
    report: CoverageReport, root: str, cwd: Path, taken_at: float | None = None
) -> CoverageSnapshot:
    """A snapshot of ``report`` with the work tree's commit and branch (None outside git)."""
    commit, branch = head(cwd)
    return CoverageSnapshot(
        taken_at=time.time() if taken_at is None else taken_at,
        commit=commit,
        branch=branch,
        root=root,
        totals=report.totals,
        modules=tuple((m.module, m.path, m.counts) for m in report.modules),
    )


def backfill(
    count: int, roots: Sequence[Path], exclude: Sequence[str], root: str, cwd: Path, known: set[str]
) -> list[CoverageSnapshot]:
    """Snapshots of the last ``count`` commits not in ``known``, read from git, dated by their commits."""
    _, branch = head(cwd)
    result = []
    for commit in recent_commits(count, cwd):
        if commit.sha in known:
            continue
        report = measure_at(commit.sha, roots, exclude, cwd)
        result.append(
            CoverageSnapshot(
                taken_at=commit.timestamp,
                commit=commit.sha,
                branch=branch,
                root=root,
                totals=report.totals,
                modules=tuple((m.module, m.path, m.counts) for m in report.modules),
            )
        )
    return result


@dataclass(frozen=True, slots=True)
class ModuleChange:
    """A module's figures at the base revision and now (NO_FUNCTIONS where it did not exist)."""

    module: str
    before: CoverageCounts
    after: CoverageCounts

    @property
    def delta(self) -> float:
        return self.after.percent - self.before.percent


def compare(base: CoverageReport, current: CoverageReport) -> list[ModuleChange]:
    """The modules whose figures differ between ``base`` and ``current``, sorted by name."""
    before = {m.module: m.counts for m in base.modules}
    after = {m.module: m.counts for m in current.modules}
    return [
        ModuleChange(name, before.get(name, NO_FUNCTIONS), after.get(name, NO_FUNCTIONS))
        for name in sorted(before.keys() | after.keys())
        if before.get(name) != after.get(name)
    ]
