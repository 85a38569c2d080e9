"""``typeharvest explain``: the evidence behind one function's annotations, slot by slot."""

from __future__ import annotations

import time

from typeharvest.annotator.errors import AnnotatorError
from typeharvest.annotator.hierarchy import ClassHierarchy
from typeharvest.annotator.outcome import ModuleTraces
from typeharvest.annotator.plan import plan_module
from typeharvest.annotator.render import Renderer
from typeharvest.annotator.signatures import RETURN


def explain_function(traces: ModuleTraces, qualname: str) -> str:
    """Per slot: each observed type with its call count and first/last sighting, the rules applied,
    and the annotation they produce (as a stub would spell it)."""
    plan = plan_module(traces.module, traces.path, traces.observations, ClassHierarchy())
    signature = next((s for s in plan.signatures if s.function.qualname == qualname), None)
    if signature is None:
        known = ", ".join(sorted(s.function.qualname for s in plan.signatures)[:8])
        raise AnnotatorError(f"no traces for {traces.module}:{qualname} (traced: {known})")
    shape = plan.shapes[qualname]
    renderer = Renderer(traces.module)
    lines = [f"{traces.module}:{qualname}  ({signature.calls} calls, {traces.path})"]
    for name, slot in signature.slots.items():
        lines.append(f"  {'return' if name == RETURN else name}")
        width = max(len(seen.text) for seen in slot.seen)
        for seen in slot.seen:
            lines.append(
                f"    {seen.text:<{width}}  {seen.calls:>7} call{'' if seen.calls == 1 else 's'}"
                f"  first {_when(seen.first_seen)}  last {_when(seen.last_seen)}"
            )
        for rule in slot.rules:
            lines.append(f"    rule: {rule}")
        if slot.union is None or name == shape.receiver:
            lines.append("    → no annotation")
        else:
            kept = "  (the source already annotates it: that is kept)" if name in shape.annotated else ""
            lines.append(f"    → {renderer.render(slot.union)}{kept}")
    return "\n".join(lines) + "\n"


def _when(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))
