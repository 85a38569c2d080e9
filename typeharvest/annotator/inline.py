"""Annotations written into a ``.py`` file, leaving every other byte of it as it was."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from typeharvest.annotator.apply import AnnotationApplier, FunctionAnnotations
from typeharvest.annotator.layout import add_declarations, add_imports, read_layout
from typeharvest.annotator.plan import ModulePlan, SlotKey
from typeharvest.annotator.render import TYPEVAR_NAME, Import, Renderer
from typeharvest.annotator.signatures import RETURN


@dataclass(frozen=True, slots=True)
class Rendering:
    """The new text of a file and the annotation written into each slot."""

    text: str
    written: dict[SlotKey, str]


def collect_annotations(
    plan: ModulePlan,
    renderer: Renderer,
    withdrawn: Collection[SlotKey],
    protected: Mapping[str, frozenset[str]],
    late_names: Callable[[int], Collection[str]],
) -> tuple[dict[str, FunctionAnnotations], dict[SlotKey, str]]:
    """The annotation text of every slot to write: inferred, not withdrawn, not protected."""
    annotations: dict[str, FunctionAnnotations] = {}
    written: dict[SlotKey, str] = {}
    for signature in plan.signatures:
        qualname = signature.function.qualname
        shape = plan.shapes[qualname]
        kept = protected.get(qualname, frozenset())
        parameters: dict[str, str] = {}
        returns: str | None = None
        # A TypeVar means something only if every slot it stands for is written with it.
        generic = [name for name, slot in signature.slots.items() if slot.fallback is not None]
        whole = all(name not in kept and (qualname, name) not in withdrawn for name in generic)
        for name, slot in signature.slots.items():
            union = slot.union if whole or slot.fallback is None else slot.fallback
            if (
                union is None
                or name == shape.receiver
                or name in kept
                or (qualname, name) in withdrawn
                or (name != RETURN and name not in shape.parameters)
            ):
                continue
            text = renderer.annotation(union, late_names(shape.statement))
            written[(qualname, name)] = text
            if name == RETURN:
                returns = text
            else:
                parameters[name] = text
        if parameters or returns is not None:
            annotations[qualname] = FunctionAnnotations(parameters, returns)
    return annotations, written


def render_inline(
    plan: ModulePlan,
    withdrawn: Collection[SlotKey],
    *,
    overwrite: bool,
    python_version: tuple[int, int],
) -> Rendering:
    """``plan``'s source with the inferred annotations added (existing ones kept unless ``overwrite``)."""
    layout = read_layout(plan.tree)
    renderer = Renderer(
        plan.module,
        layout.bound,
        source=True,
        checking_only=layout.checking_only,
        python_version=python_version,
        postponed=layout.postponed,
    )
    protected = {} if overwrite else {qualname: shape.annotated for qualname, shape in plan.shapes.items()}
    annotations, written = collect_annotations(plan, renderer, withdrawn, protected, layout.late_names)
    if not written:
        return Rendering(plan.text, {})
    tree = plan.tree.visit(AnnotationApplier(annotations))
    typevar = TYPEVAR_NAME if renderer.typevar_used and TYPEVAR_NAME not in layout.typevars else None
    needed = set(renderer.imports)
    if renderer.checking_imports and not layout.has_checking_block:
        needed.add(Import("typing", "TYPE_CHECKING"))
    if typevar is not None:
        needed.add(Import("typing", "TypeVar"))
    tree = add_imports(tree, needed)
    tree = add_declarations(tree, renderer.checking_imports, typevar)
    return Rendering(tree.code, written)
