"""The mypy loop: candidates are checked, the annotations behind each added error withdrawn (or widened),
until the change adds no error."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from typeharvest.annotator.combine import merge
from typeharvest.annotator.inline import Rendering
from typeharvest.annotator.judge import (
    Attributor,
    FunctionFinder,
    ModuleSlot,
    Mypy,
    MypyError,
    added_errors,
    function_spans,
    identity,
    widening,
)
from typeharvest.annotator.outcome import AnnotateOptions, AnnotateReport, Verdict
from typeharvest.annotator.plan import ModulePlan
from typeharvest.annotator.render import Renderer
from typeharvest.annotator.signatures import RETURN, Slot
from typeharvest.annotator.targets import checked_path, package_of, read_text, render_module, source_root
from typeharvest.annotator.typeexpr import Union

#: mypy rounds before the annotator gives up on a change and withdraws all of it.
MAX_ROUNDS = 60
#: Errors whose culprits one round looks for by elimination (a withdrawal often fixes several).
_ELIMINATIONS_PER_ROUND = 8
#: Renderings kept for reuse between bisection steps (a module's text for one set of withdrawn slots).
_CACHED_RENDERINGS = 256


class MypyLoop:
    """The mypy loop over one set of modules: withdraws (or widens) annotations until none adds an error."""

    def __init__(
        self,
        plans: Sequence[ModulePlan],
        options: AnnotateOptions,
        report: AnnotateReport,
        progress: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.plans = plans
        self.progress = progress  # a large package takes minutes: say where the loop is
        self.options = options
        self.report = report
        self.withdrawn: set[ModuleSlot] = set()
        self.widened: set[ModuleSlot] = set()
        self.just_widened: set[ModuleSlot] = set()  # in the round being checked
        self.mypy = Mypy(source_root(plans[0]), [package_of(plan) for plan in plans], stubs=options.stub)
        self.before: list[MypyError] = []
        self.original = FunctionFinder({})
        self._renderings: dict[tuple[str, frozenset[ModuleSlot]], Rendering] = {}
        self._acted = False
        self._originals: dict[Path, str | None] = {}

    def render(self, withdrawn: set[ModuleSlot] | None = None) -> dict[str, Rendering]:
        """Every module rendered without the ``withdrawn`` slots (by default, those withdrawn so far)."""
        withdrawn = self.withdrawn if withdrawn is None else withdrawn
        renderings: dict[str, Rendering] = {}
        for plan in self.plans:
            mine = frozenset(slot for slot in withdrawn if slot[0] == plan.module)
            key = (plan.module, mine)
            if key not in self._renderings:
                if len(self._renderings) >= _CACHED_RENDERINGS:
                    del self._renderings[next(iter(self._renderings))]  # the oldest
                self._renderings[key] = render_module(plan, set(mine), self.options)
            renderings[plan.module] = self._renderings[key]
        return renderings

    def check(self, renderings: dict[str, Rendering]) -> tuple[list[MypyError], FunctionFinder]:
        """The errors that ``renderings`` add, and where their functions are in the candidate texts."""
        shadows = {self._checked(plan): renderings[plan.module].text for plan in self.plans}
        shadows = {path: text for path, text in shadows.items() if text != self._original_text(path)}
        finder = FunctionFinder(shadows)
        if not shadows:
            return [], finder
        return added_errors(self.before, self.mypy.errors(shadows), self.original, finder), finder

    def run(self, renderings: dict[str, Rendering]) -> dict[str, Rendering]:
        """The renderings once mypy finds nothing added by them."""
        self.before = self.mypy.errors({})
        previous: set[tuple[Path, str]] = set()
        for number in range(1, MAX_ROUNDS + 1):
            added, finder = self.check(renderings)
            if not added:
                return renderings
            errors = f"{len(added)} error{'' if len(added) == 1 else 's'} added"
            self.progress(f"mypy round {number}: {errors}, {len(self.withdrawn)} withdrawn so far")
            current = {(error.path, error.message) for error in added}
            fresh = [error for error in added if (error.path, error.message) not in previous]
            previous, widened_last, self.just_widened = current, self.just_widened, set()
            if widened_last and fresh and self._widening_moved(widened_last, fresh, finder):
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
            unexplained = self._blame(renderings, finder, added)
            if unexplained and not self._acted and not self._eliminate(unexplained, renderings, finder):
                if not self.options.stub:
                    break  # cannot happen for source files (without annotations they are as they were)
                # Withdrawing every annotation leaves the error: it comes from a stub's skeleton.
                for plan in self.plans:
                    if self._checked(plan) == unexplained[0].path:
                        self.report.unresolved.append(plan.module)
                return renderings
            renderings = self.render()
        return self._withdraw_all(renderings, "mypy still reported new errors after every round")

    def _withdraw_all(self, renderings: dict[str, Rendering], reason: str) -> dict[str, Rendering]:
        """The last resort, which keeps the promise that the change adds no mypy error."""
        for module, rendering in renderings.items():
            for (qualname, slot), text in sorted(rendering.written.items()):
                self.report.withdrawals.append(Verdict(module, qualname, slot, text, reason))
                self.withdrawn.add((module, qualname, slot))
        return self.render()

    def _widening_moved(
        self, widened: set[ModuleSlot], fresh: Sequence[MypyError], finder: FunctionFinder
    ) -> bool:
        """Whether the errors that appeared after ``widened`` went away without those widenings."""
        added, trial_finder = self.check(self.render(self.withdrawn | widened))
        remaining = {identity(error, trial_finder) for error in added}
        return any(identity(error, finder) not in remaining for error in fresh)

    def _original_text(self, path: Path) -> str | None:
        if path not in self._originals:
            self._originals[path] = read_text(path)
        return self._originals[path]

    def _checked(self, plan: ModulePlan) -> Path:
        return checked_path(plan, self.options)

    def _blame(
        self, renderings: dict[str, Rendering], finder: FunctionFinder, added: Sequence[MypyError]
    ) -> list[MypyError]:
        """Withdraw or widen the annotations that ``added`` point at; return the errors that point at none."""
        written = _written(renderings)
        spans = {
            self._checked(plan): function_spans(plan.module, renderings[plan.module].text)
            for plan in self.plans
        }
        attributor = Attributor(written, spans, {path: finder.text(path) for path in spans})
        self._acted = False
        acted: set[ModuleSlot] = set()
        degeneralized: set[tuple[str, str]] = set()
        unexplained: list[MypyError] = []
        for error in added:
            found = attributor.blame(error)
            if not found:
                unexplained.append(error)
                continue
            if any(slot[:2] in degeneralized for slot in found):
                continue  # the TypeVar it complains about is gone already
            for slot in sorted(found - acted):
                self._judge(slot, written[slot], error, degeneralized)
            acted |= found
        self._acted = bool(acted)
        return unexplained

    def _judge(
        self, slot: ModuleSlot, text: str, error: MypyError, degeneralized: set[tuple[str, str]]
    ) -> None:
        """Widen ``slot`` with what reached it, or give up its TypeVar, or withdraw it."""
        # A stub's bodies are not checked, so nothing could tell a wrong widening there.
        extra = None if self.options.stub else widening(error, slot)
        if extra is not None and slot not in self.widened and self._widen(slot, extra):
            self.widened.add(slot)
            self.just_widened.add(slot)
            shown = f"{text} + {Renderer(slot[0]).render(extra)}"
            self.report.widenings.append(Verdict(*slot, shown, str(error)))
        elif self._degeneralize(slot):
            degeneralized.add(slot[:2])
            self.report.withdrawals.append(
                Verdict(*slot, text, f"{error} (the observed types are written instead)")
            )
        else:
            self.withdrawn.add(slot)
            self.report.withdrawals.append(Verdict(*slot, text, str(error)))

    def _eliminate(
        self, errors: Sequence[MypyError], renderings: dict[str, Rendering], finder: FunctionFinder
    ) -> bool:
        """Find by bisection the annotations that cause each of ``errors`` (ones a message does not name:
        a return type that makes a caller's expression wrong three calls away), and withdraw them.

        First the function, then which of its slots (parameters before the return). Each step renders
        the candidates without some annotations and asks mypy (incremental, so a step costs a fraction
        of a second) which errors are still there; the errors of one round share those steps."""
        written = _written(renderings)
        outcomes: dict[frozenset[ModuleSlot], set[tuple[Path, str | None, str]]] = {}

        def remaining(dropped: frozenset[ModuleSlot]) -> set[tuple[Path, str | None, str]]:
            if dropped not in outcomes:
                added, trial_finder = self.check(self.render(self.withdrawn | dropped))
                outcomes[dropped] = {identity(error, trial_finder) for error in added}
            return outcomes[dropped]

        functions = sorted({slot[:2] for slot in written})
        groups = [frozenset(slot for slot in written if slot[:2] == function) for function in functions]
        withdrawn_now: set[ModuleSlot] = set()
        for error in errors[:_ELIMINATIONS_PER_ROUND]:
            target = identity(error, finder)

            def persists(dropped: frozenset[ModuleSlot], target: object = target) -> bool:
                return target in remaining(dropped)

            culprit = _first_needed(groups, persists)
            if culprit is None or culprit <= withdrawn_now:
                continue
            slots = sorted(culprit, key=lambda slot: (slot[2] == RETURN, slot[2]))
            needed = _first_needed([frozenset({slot}) for slot in slots], persists) or culprit
            for slot in sorted(needed - withdrawn_now):
                self.withdrawn.add(slot)
                reason = f"{error} (found by elimination)"
                self.report.withdrawals.append(Verdict(*slot, written[slot], reason))
            withdrawn_now |= needed
        return bool(withdrawn_now)

    def _withdraw_widened(
        self, slots: set[ModuleSlot], renderings: dict[str, Rendering], error: MypyError
    ) -> None:
        for slot in sorted(slots):
            module, qualname, name = slot
            text = renderings[module].written.get((qualname, name), "")
            self.report.widenings = [
                w for w in self.report.widenings if (w.module, w.qualname, w.slot) != slot
            ]
            self.report.withdrawals.append(Verdict(*slot, text, f"widened, it made mypy report {error}"))
            self.withdrawn.add(slot)

    def _slot(self, target: ModuleSlot) -> Slot | None:
        module, qualname, name = target
        for plan in self.plans:
            for signature in plan.signatures if plan.module == module else ():
                if signature.function.qualname == qualname:
                    return signature.slots.get(name)
        return None

    def _degeneralize(self, target: ModuleSlot) -> bool:
        """A rejected TypeVar gives way to the plain observed types, in all the slots it stood for."""
        slot = self._slot(target)
        if slot is None or slot.fallback is None:
            return False
        self._renderings.clear()  # the plan changed under the cached renderings
        for other in (self._slot((*target[:2], name)) for name in self._slot_names(target)):
            if other is not None and other.fallback is not None:
                other.union, other.fallback = other.fallback, None
                other.rules.append("mypy rejected the TypeVar: the observed types are written instead")
        return True

    def _slot_names(self, target: ModuleSlot) -> list[str]:
        module, qualname, _ = target
        return [
            name
            for plan in self.plans
            if plan.module == module
            for signature in plan.signatures
            if signature.function.qualname == qualname
            for name in signature.slots
        ]

    def _widen(self, target: ModuleSlot, extra: Union) -> bool:
        """Add to a slot the types mypy sees reaching it on a path the traces never took."""
        slot = self._slot(target)
        if slot is None or slot.union is None or slot.fallback is not None:
            return False
        self._renderings.clear()
        slot.union = merge([slot.union, extra])
        slot.rules.append(
            f"mypy found {Renderer(target[0]).render(extra)} on a path the traces never saw: added"
        )
        return True


def _first_needed(
    groups: Sequence[frozenset[ModuleSlot]], persists: Callable[[frozenset[ModuleSlot]], bool]
) -> frozenset[ModuleSlot] | None:
    """The group whose withdrawal, after those before it, makes an error go away: the shortest prefix of
    ``groups`` to withdraw, found by bisection; None if withdrawing them all leaves the error."""
    if persists(frozenset().union(*groups)):
        return None
    low, high = 0, len(groups)  # the error persists without the first `low` groups, not without `high`
    while high - low > 1:
        middle = (low + high) // 2
        if persists(frozenset().union(*groups[:middle])):
            low = middle
        else:
            high = middle
    return groups[high - 1]


def _written(renderings: dict[str, Rendering]) -> dict[ModuleSlot, str]:
    return {
        (module, qualname, slot): text
        for module, rendering in renderings.items()
        for (qualname, slot), text in rendering.written.items()
    }


def _mentions(error: MypyError, annotation: str) -> bool:
    """Whether mypy's message names the type ``annotation`` spells (quoted or not)."""
    return f'"{annotation.strip(chr(34))}"' in error.message
