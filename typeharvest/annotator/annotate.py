"""``typeharvest annotate``: plan, render, let mypy judge, then write — in that order, and only then.

The loop: render every module with the annotations not yet withdrawn, have mypy check the candidates
(through shadow files), blame each error the change added on the annotations that caused it, withdraw
those, and go again until the change adds no error. Files are written last, atomically, and only with text
that parses.
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from typeharvest.annotator.combine import with_none
from typeharvest.annotator.errors import AnnotatorError
from typeharvest.annotator.hierarchy import ClassHierarchy
from typeharvest.annotator.inline import Rendering, render_inline
from typeharvest.annotator.judge import Attributor, ModuleSlot, Mypy, MypyError, added_errors, function_spans
from typeharvest.annotator.plan import ModulePlan, plan_module
from typeharvest.annotator.stubs import render_stub
from typeharvest.records import Observation

#: mypy rounds before the annotator gives up on a change and withdraws all of it.
MAX_ROUNDS = 8
#: mypy saw None flow into a slot (``got "None"``, ``got "X | None"``, ``incompatible type "None"``): widen
#: the annotation with ``| None`` rather than drop it.
_GOT_NONE = re.compile(r'(got|incompatible type) "([^"]* \| )?None"')


@dataclass(frozen=True, slots=True)
class AnnotateOptions:
    """What ``typeharvest annotate`` was asked to do."""

    stub: bool = False
    out: Path | None = None  # where stubs go (mirroring the package path); None: beside the module
    overwrite: bool = False
    min_calls: int = 0
    check: bool = True
    generalize_arguments: bool = False
    python_version: tuple[int, int] = sys.version_info[:2]


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """An annotation mypy rejected, and why."""

    module: str
    qualname: str
    slot: str
    annotation: str
    reason: str


@dataclass(slots=True)
class FileChange:
    """The new content of one file (a source file, or a stub) and the annotations it gained."""

    module: str
    path: Path
    before: str | None  # None: a new file
    after: str
    written: dict[tuple[str, str], str]

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(slots=True)
class AnnotateReport:
    """What was annotated, what mypy made the annotator withdraw, and what could not be done."""

    changes: list[FileChange] = field(default_factory=list)
    withdrawals: list[Withdrawal] = field(default_factory=list)
    widenings: list[Withdrawal] = field(default_factory=list)  # annotations that gained ``| None``
    problems: list[str] = field(default_factory=list)  # modules skipped, one line each
    unresolved: list[str] = field(default_factory=list)  # stubs not written: their skeleton fails mypy
    checked: bool = False

    @property
    def functions(self) -> int:
        return sum(len({qualname for qualname, _ in change.written}) for change in self.changes)

    @property
    def slots(self) -> int:
        return sum(len(change.written) for change in self.changes)


@dataclass(frozen=True, slots=True)
class ModuleTraces:
    """A module to annotate: its name, its source file, and its observations."""

    module: str
    path: Path
    observations: Sequence[Observation]


def annotate(batches: Sequence[ModuleTraces], options: AnnotateOptions) -> AnnotateReport:
    """Annotate each module of ``batches`` as ``options`` say; return what was (or would be) changed."""
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
    renderings = {plan.module: _render(plan, set(), options) for plan in plans}
    if options.check and any(r.written for r in renderings.values()):
        report.checked = True
        renderings = _Judge(plans, options, report).run(renderings)
    for plan in plans:
        rendering = renderings[plan.module]
        target = _target(plan, options)
        before = _read(target)
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
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _render(plan: ModulePlan, withdrawn: set[ModuleSlot], options: AnnotateOptions) -> Rendering:
    mine = {(qualname, slot) for module, qualname, slot in withdrawn if module == plan.module}
    if not options.stub:
        return render_inline(plan, mine, overwrite=options.overwrite, python_version=options.python_version)
    return render_stub(
        plan,
        mine,
        existing=_read(_target(plan, options)),
        overwrite=options.overwrite,
        python_version=options.python_version,
    )


class _Judge:
    """The mypy loop over one set of modules: withdraws (or widens) annotations until none adds an error."""

    def __init__(self, plans: Sequence[ModulePlan], options: AnnotateOptions, report: AnnotateReport) -> None:
        self.plans = plans
        self.options = options
        self.report = report
        self.withdrawn: set[ModuleSlot] = set()
        self.widened: set[ModuleSlot] = set()
        self.just_widened: set[ModuleSlot] = set()  # in the round being checked
        self.mypy = Mypy(_source_root(plans[0]), [_package_of(plan) for plan in plans], stubs=options.stub)

    def render(self) -> dict[str, Rendering]:
        return {plan.module: _render(plan, self.withdrawn, self.options) for plan in self.plans}

    def run(self, renderings: dict[str, Rendering]) -> dict[str, Rendering]:
        """The renderings once mypy finds nothing added by them."""
        before = self.mypy.errors({})
        previous: set[tuple[Path, str]] = set()
        for _ in range(MAX_ROUNDS):
            shadows = {self._checked(plan): renderings[plan.module].text for plan in self.plans}
            shadows = {path: text for path, text in shadows.items() if text != _read(path)}
            added = added_errors(before, self.mypy.errors(shadows)) if shadows else []
            if not added:
                return renderings
            current = {(error.path, error.message) for error in added}
            fresh = [error for error in added if (error.path, error.message) not in previous]
            previous, widened_last, self.just_widened = current, self.just_widened, set()
            if widened_last and fresh:
                # Widening moved the problem into the callers (``Item "None" of "X | None"``): take back
                # the widenings those errors name (all of them if none is named), not the callees.
                named = {
                    slot
                    for slot in widened_last
                    if any(_mentions(error, renderings[slot[0]].written.get(slot[1:], "")) for error in fresh)
                }
                self._withdraw_widened(named or widened_last, renderings, fresh[0])
                renderings = self.render()
                continue
            if not self._blame(renderings, shadows, added):
                # Nothing left to withdraw: the errors come from a stub's own skeleton.
                for plan in self.plans:
                    if self._checked(plan) in {error.path for error in added}:
                        self.report.unresolved.append(plan.module)
                return renderings
            renderings = self.render()
        reason = "mypy still reported new errors after every round"
        for module, rendering in renderings.items():
            for (qualname, slot), text in sorted(rendering.written.items()):
                self.report.withdrawals.append(Withdrawal(module, qualname, slot, text, reason))
                self.withdrawn.add((module, qualname, slot))
        return self.render()

    def _checked(self, plan: ModulePlan) -> Path:
        return _checked_path(plan, self.options)

    def _blame(
        self, renderings: dict[str, Rendering], shadows: dict[Path, str], added: Sequence[MypyError]
    ) -> bool:
        """Withdraw or widen the annotations behind ``added``; False when none can be blamed."""
        written = {
            (module, qualname, slot): text
            for module, rendering in renderings.items()
            for (qualname, slot), text in rendering.written.items()
        }
        spans = {
            self._checked(plan): function_spans(plan.module, renderings[plan.module].text)
            for plan in self.plans
        }
        attributor = Attributor(written, spans, shadows)
        acted: set[ModuleSlot] = set()
        for error in added:
            found = attributor.blame(error)
            culprits = found - self.withdrawn - acted
            if not found:
                # An error no annotation can be tied to: withdraw everything of its file, or of all.
                modules = {plan.module for plan in self.plans if self._checked(plan) == error.path}
                in_file = {slot for slot in written if slot[0] in modules}
                culprits = (in_file or set(written)) - self.withdrawn - acted
            for slot in sorted(culprits):
                verdict = Withdrawal(*slot, written[slot], str(error))
                if _GOT_NONE.search(error.message) and slot not in self.widened and self._widen(slot):
                    self.widened.add(slot)
                    self.just_widened.add(slot)
                    self.report.widenings.append(verdict)
                else:
                    self.withdrawn.add(slot)
                    self.report.withdrawals.append(verdict)
            acted |= culprits
        return bool(acted)

    def _withdraw_widened(
        self, slots: set[ModuleSlot], renderings: dict[str, Rendering], error: MypyError
    ) -> None:
        for slot in sorted(slots):
            module, qualname, name = slot
            text = renderings[module].written.get((qualname, name), "")
            self.report.widenings = [
                w for w in self.report.widenings if (w.module, w.qualname, w.slot) != slot
            ]
            self.report.withdrawals.append(Withdrawal(*slot, text, f"widened, it made mypy report {error}"))
            self.withdrawn.add(slot)

    def _widen(self, target: ModuleSlot) -> bool:
        """Add None to a slot: the traces never saw the path where it is None, mypy did."""
        module, qualname, name = target
        for plan in self.plans:
            for signature in plan.signatures if plan.module == module else ():
                slot = signature.slots.get(name) if signature.function.qualname == qualname else None
                if slot is not None and slot.union is not None:
                    slot.union = with_none(slot.union)
                    slot.rules.append("mypy found a None the traces never saw: | None added")
                    return True
        return False


def _mentions(error: MypyError, annotation: str) -> bool:
    """Whether mypy's message names the type ``annotation`` spells (quoted or not)."""
    return f'"{annotation.strip(chr(34))}"' in error.message


def _target(plan: ModulePlan, options: AnnotateOptions) -> Path:
    """The file the annotations go to: the source itself, or its stub."""
    if not options.stub:
        return plan.path
    if options.out is None:
        return plan.path.with_suffix(".pyi")
    parts = plan.module.split(".")
    if plan.path.name == "__init__.py":
        return options.out.joinpath(*parts, "__init__.pyi")
    return options.out.joinpath(*parts[:-1], parts[-1] + ".pyi")


def _checked_path(plan: ModulePlan, options: AnnotateOptions) -> Path:
    """The file mypy is shown the candidate as: the source, or a stub that already sits beside it."""
    beside = plan.path.with_suffix(".pyi")
    return beside.resolve() if options.stub and beside.exists() else plan.path.resolve()


def _source_root(plan: ModulePlan) -> Path:
    """The directory ``plan.module`` is imported from."""
    depth = plan.module.count(".") + (1 if plan.path.name == "__init__.py" else 0)
    return plan.path.resolve().parents[depth]


def _package_of(plan: ModulePlan) -> Path:
    """What mypy checks for a module: its whole top-level package, so that callers are checked too."""
    root = _source_root(plan)
    top = plan.module.partition(".")[0]
    return root / top if (root / top).is_dir() else plan.path.resolve()


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


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")  # as is: a CRLF file must compare equal to itself
    except (OSError, UnicodeDecodeError):
        return None
