"""A typed-function coverage report: per module and in total, with the list of functions behind it."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typeharvest.coverage.discover import SourceFile, discover
from typeharvest.coverage.scan import FunctionCoverage, Status, scan_source
from typeharvest.records import CoverageCounts

#: Below this many bytes of source, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD_BYTES = 4_000_000


NO_FUNCTIONS = CoverageCounts(0, 0, 0, 0)


def add(left: CoverageCounts, right: CoverageCounts) -> CoverageCounts:
    """The figures of two parts together."""
    return CoverageCounts(
        left.functions + right.functions,
        left.full + right.full,
        left.partial + right.partial,
        left.untyped + right.untyped,
    )


def count(functions: Iterable[FunctionCoverage]) -> CoverageCounts:
    """The figures of a list of judged functions."""
    statuses = [f.status for f in functions]
    return CoverageCounts(
        len(statuses),
        statuses.count(Status.FULL),
        statuses.count(Status.PARTIAL),
        statuses.count(Status.UNTYPED),
    )


def as_dict(counts: CoverageCounts) -> dict[str, Any]:
    """The JSON form of figures: the four counts and the percentage."""
    return {
        "functions": counts.functions,
        "full": counts.full,
        "partial": counts.partial,
        "untyped": counts.untyped,
        "percent": round(counts.percent, 2),
    }


@dataclass(frozen=True, slots=True)
class ModuleCoverage:
    module: str
    path: str
    functions: tuple[FunctionCoverage, ...]
    counts: CoverageCounts = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "counts", count(self.functions))


@dataclass(frozen=True, slots=True)
class CoverageReport:
    """What a scan found; ``errors`` are (path, message) of files that could not be parsed (skipped)."""

    modules: tuple[ModuleCoverage, ...]
    errors: tuple[tuple[str, str], ...] = ()
    lines: int = 0

    @property
    def totals(self) -> CoverageCounts:
        total = NO_FUNCTIONS
        for module in self.modules:
            total = add(total, module.counts)
        return total

    def as_json(self) -> dict[str, Any]:
        """The stable JSON schema (CONVENTIONS.md): totals, then one object per module."""
        return {
            "totals": as_dict(self.totals),
            "modules": [{"module": m.module, "path": m.path, **as_dict(m.counts)} for m in self.modules],
            "errors": [{"path": path, "message": message} for path, message in self.errors],
        }


def measure(roots: Sequence[Path], exclude: Sequence[str] = (), workers: int | None = None) -> CoverageReport:
    """Scan the modules under ``roots``; large trees are scanned by one process per core."""
    sources = discover(roots, exclude)
    size = sum(_size(source.path) for source in sources)
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers > 1 and size >= PARALLEL_THRESHOLD_BYTES and len(sources) > 1:
        chunk = max(1, len(sources) // (workers * 8))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_scan_file, sources, chunksize=chunk))
    else:
        results = [_scan_file(source) for source in sources]
    modules = tuple(result for result, _, _ in results if result is not None)
    errors = tuple(error for _, error, _ in results if error is not None)
    return CoverageReport(modules, errors, sum(lines for _, _, lines in results))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _scan_file(source: SourceFile) -> tuple[ModuleCoverage | None, tuple[str, str] | None, int]:
    try:
        data = source.path.read_bytes()
        functions = scan_source(data, str(source.path))
    except SyntaxError as exc:
        return None, (str(source.path), f"syntax error at line {exc.lineno}: {exc.msg}"), 0
    except (OSError, ValueError) as exc:
        return None, (str(source.path), str(exc)), 0
    return ModuleCoverage(source.module, str(source.path), tuple(functions)), None, data.count(b"\n")
