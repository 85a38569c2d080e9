"""Everything the annotator decides about one module before writing a byte: its source and signatures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from typeharvest.annotator.apply import DefinitionShape, collect_shapes
from typeharvest.annotator.errors import AnnotatorError
from typeharvest.annotator.hierarchy import ClassHierarchy
from typeharvest.annotator.signatures import InferredSignature, SourceFacts, infer
from typeharvest.annotator.typeexpr import TypeStringError
from typeharvest.annotator.usage import generalize, parameter_needs
from typeharvest.records import FunctionInfo, Observation

#: A slot of a function: (qualified name, parameter name or ``RETURN``).
SlotKey = tuple[str, str]


@dataclass(slots=True)
class ModulePlan:
    """One module's source as read, its definitions, and the signatures inferred for them."""

    module: str
    path: Path
    text: str
    tree: cst.Module
    shapes: dict[str, DefinitionShape]
    signatures: list[InferredSignature]
    skipped: list[str]  # qualnames traced but not found in the source (renamed or removed since)


def read_source(path: Path) -> tuple[str, cst.Module]:
    """The text and tree of a source file, or a one-line error naming it."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise AnnotatorError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise AnnotatorError(f"cannot read {path}: not UTF-8") from None
    try:
        return text, cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise AnnotatorError(f"cannot parse {path}: line {exc.raw_line}: {exc.message}") from None


def plan_module(
    module: str,
    path: Path,
    observations: Sequence[Observation],
    hierarchy: ClassHierarchy,
    *,
    min_calls: int = 0,
    generalize_arguments: bool = False,
) -> ModulePlan:
    """Read ``module``'s source and infer a signature for each of its traced functions."""
    text, tree = read_source(path)
    shapes = collect_shapes(tree)
    grouped: dict[FunctionInfo, list[Observation]] = {}
    for observation in observations:
        grouped.setdefault(observation.function, []).append(observation)
    by_qualname: dict[str, list[Observation]] = {}
    for function, group in grouped.items():
        by_qualname.setdefault(function.qualname, []).extend(group)
    signatures: list[InferredSignature] = []
    skipped: list[str] = []
    needs = parameter_needs(text) if generalize_arguments else {}
    for qualname, group in by_qualname.items():
        shape = shapes.get(qualname)
        if shape is None:
            skipped.append(qualname)
            continue
        if sum(o.calls for o in group) < min_calls:
            continue
        facts = SourceFacts(shape.receiver, shape.none_defaults)
        # With --include-stale, older versions of the function join the newest one's observations when
        # their parameters are the same (types are aligned with parameters).
        function = max(group, key=lambda o: o.last_seen).function
        same = [o for o in group if o.function.parameters == function.parameters]
        try:
            signature = infer(function, same, facts, hierarchy)
        except TypeStringError as exc:
            raise AnnotatorError(f"unreadable type in the traces of {module}.{qualname}: {exc}") from None
        generalize(signature, needs.get(qualname, {}))
        signatures.append(signature)
    return ModulePlan(module, path, text, tree, shapes, signatures, skipped)
