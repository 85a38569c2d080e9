"""``typeharvest annotate``: plan, render, let mypy judge, then write — in that order, and only then.

Every module is planned (its traces merged into signatures), rendered (its new text), handed to the mypy
loop (``loop.MypyLoop``), and only then written: atomically, and only with text that parses.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from typeharvest.annotator.errors import AnnotatorError
from typeharvest.annotator.hierarchy import ClassHierarchy
from typeharvest.annotator.loop import MypyLoop
from typeharvest.annotator.outcome import AnnotateOptions, AnnotateReport, FileChange, ModuleTraces
from typeharvest.annotator.plan import ModulePlan, plan_module
from typeharvest.annotator.project import target_python
from typeharvest.annotator.targets import read_text, render_module, source_root, target_path


def annotate(
    batches: Sequence[ModuleTraces],
    options: AnnotateOptions,
    progress: Callable[[str], None] = lambda line: None,
) -> AnnotateReport:
    """Annotate each module of ``batches`` as ``options`` say; return what was (or would be) changed.

    ``progress`` hears a line per mypy round (a large strict package takes minutes)."""
    report = AnnotateReport()
    hierarchy = ClassHierarchy()
    plans: list[ModulePlan] = []
    with _importable(_roots(batches)):
        for batch in batches:
            try:
                plans.append(
                    plan_module(
                        batch.module,
                        batch.path,
                        batch.observations,
                        hierarchy,
                        min_calls=options.min_calls,
                        generalize_arguments=options.generalize_arguments,
                    )
                )
            except AnnotatorError as exc:
                report.problems.append(f"skipped {batch.module}: {exc}")
    if plans and options.python_version is None:
        version = target_python(source_root(plans[0])) or sys.version_info[:2]
        options = dataclasses.replace(options, python_version=version)
    renderings = {plan.module: render_module(plan, set(), options) for plan in plans}
    if options.check and any(r.written for r in renderings.values()):
        report.checked = True
        renderings = MypyLoop(plans, options, report, progress).run(renderings)
    for plan in plans:
        rendering = renderings[plan.module]
        target = target_path(plan, options)
        before = read_text(target)
        if plan.module in report.unresolved:
            continue
        if options.stub or (rendering.written and rendering.text != before):
            report.changes.append(FileChange(plan.module, target, before, rendering.text, rendering.written))
    return report


def write_changes(report: AnnotateReport) -> None:
    """Write every changed file atomically, each only if its new text parses."""
    for change in report.changes:
        if change.changed:
            write_atomically(change.path, change.after)


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` all at once: a reader sees the old file or the new, never half."""
    try:
        ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        raise AnnotatorError(f"refusing to write {path}: the result does not parse ({exc.msg})") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise AnnotatorError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise AnnotatorError(f"cannot write {path}: {exc.strerror}") from None
        raise


def _roots(batches: Sequence[ModuleTraces]) -> list[Path]:
    roots: list[Path] = []
    for batch in batches:
        depth = batch.module.count(".") + (1 if batch.path.name == "__init__.py" else 0)
        with contextlib.suppress(IndexError):
            roots.append(batch.path.resolve().parents[depth])
    return list(dict.fromkeys(roots))


@contextlib.contextmanager
def _importable(roots: Sequence[Path]) -> Iterator[None]:
    """The modules' roots on ``sys.path`` while classes are resolved (see ``hierarchy``)."""
    added = [str(root) for root in roots if str(root) not in sys.path]
    sys.path[:0] = added
    try:
        yield
    finally:
        for entry in added:
            with contextlib.suppress(ValueError):
                sys.path.remove(entry)
