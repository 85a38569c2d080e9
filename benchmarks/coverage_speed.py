"""Scanning speed of the typed-function coverage report: Django's own source and a 10**6-line synthetic tree.

Prints lines per second for one process and for one process per core (the report switches to the latter
on large trees), and the report's totals for Django, so its figures can be checked by eye.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from typeharvest.coverage.report import CoverageReport, measure

MODULE = """
class Service{n}:
    def __init__(self, repository, cache=None):
        self.repository = repository
        self.cache = cache

    def find(self, key: str) -> dict:
        return self.repository.get(key)

    def update(self, key, value: int, *args, **kwargs):
        for item in args:
            value += item
        return value


def helper{n}(a, b: int = 0) -> int:
    def inner(x):
        return x
    return inner(a) + b
"""


def synthetic_tree(root: Path, lines: int) -> None:
    per_file = MODULE.count("\n") * 40
    for index in range(lines // per_file + 1):
        package = root / f"pkg{index // 100}"
        package.mkdir(exist_ok=True)
        (package / "__init__.py").touch()
        (package / f"module{index}.py").write_text("".join(MODULE.format(n=n) for n in range(40)))


def timed(roots: list[Path], workers: int) -> tuple[float, int, CoverageReport]:
    began = time.perf_counter()
    report = measure(roots, workers=workers)
    elapsed = time.perf_counter() - began
    return elapsed, report.lines, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a 10**5-line synthetic tree")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"Coverage scan speed, Python {sys.version.split()[0]}, {cores} cores")
    targets: list[tuple[str, list[Path]]] = []
    try:
        import django

        targets.append(("Django source", [Path(django.__file__).parent]))
    except ImportError:
        print("  Django not installed: skipped")
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp)
        synthetic_tree(tree, 10**5 if args.quick else 10**6)
        targets.append(("synthetic tree", [tree]))
        for label, roots in targets:
            serial, lines, report = timed(roots, workers=1)
            parallel, _, _ = timed(roots, workers=cores)
            print(
                f"  {label}: {lines:,} lines; 1 process {lines / serial:,.0f} lines/s;"
                f" {cores} processes {lines / parallel:,.0f} lines/s ({serial / parallel:.2f}x)"
            )
            totals = report.totals
            print(
                f"    {totals.functions:,} functions: {totals.full:,} fully typed,"
                f" {totals.partial:,} partially, {totals.untyped:,} untyped ({totals.percent:.1f}%)"
            )


if __name__ == "__main__":
    main()
