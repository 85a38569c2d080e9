"""Which files an annotation run writes, and which files mypy checks and from where."""

from __future__ import annotations

import sys
from pathlib import Path

from typeharvest.annotator.inline import Rendering, render_inline
from typeharvest.annotator.judge import ModuleSlot
from typeharvest.annotator.outcome import AnnotateOptions
from typeharvest.annotator.plan import ModulePlan
from typeharvest.annotator.stubs import render_stub


def render_module(plan: ModulePlan, withdrawn: set[ModuleSlot], options: AnnotateOptions) -> Rendering:
    """The new text of ``plan``'s file (its source, or its stub) without the ``withdrawn`` slots."""
    mine = {(qualname, slot) for module, qualname, slot in withdrawn if module == plan.module}
    version = options.python_version or sys.version_info[:2]
    if not options.stub:
        return render_inline(plan, mine, overwrite=options.overwrite, python_version=version)
    return render_stub(
        plan,
        mine,
        existing=read_text(target_path(plan, options)),
        overwrite=options.overwrite,
        python_version=version,
    )


def target_path(plan: ModulePlan, options: AnnotateOptions) -> Path:
    """The file the annotations go to: the source itself, or its stub."""
    if not options.stub:
        return plan.path
    if options.out is None:
        return plan.path.with_suffix(".pyi")
    parts = plan.module.split(".")
    if plan.path.name == "__init__.py":
        return options.out.joinpath(*parts, "__init__.pyi")
    return options.out.joinpath(*parts[:-1], parts[-1] + ".pyi")


def checked_path(plan: ModulePlan, options: AnnotateOptions) -> Path:
    """The file mypy is shown the candidate as: the source, or a stub that already sits beside it."""
    beside = plan.path.with_suffix(".pyi")
    return beside.resolve() if options.stub and beside.exists() else plan.path.resolve()


def source_root(plan: ModulePlan) -> Path:
    """The directory ``plan.module`` is imported from."""
    depth = plan.module.count(".") + (1 if plan.path.name == "__init__.py" else 0)
    return plan.path.resolve().parents[depth]


def package_of(plan: ModulePlan) -> Path:
    """What mypy checks for a module: its whole top-level package, so that callers are checked too."""
    root = source_root(plan)
    top = plan.module.partition(".")[0]
    return root / top if (root / top).is_dir() else plan.path.resolve()


def read_text(path: Path) -> str | None:
    """A file's text exactly as it is (None if there is none): a CRLF file must compare equal to itself."""
    try:
        return path.read_bytes().decode("utf-8")  # as is: a CRLF file must compare equal to itself
    except (OSError, UnicodeDecodeError):
        return None
