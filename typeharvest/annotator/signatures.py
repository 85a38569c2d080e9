"""From a function's observed signatures to the annotation of each of its slots."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from typeharvest.annotator.combine import NONE, dict_values, merge, tuple_elements
from typeharvest.annotator.typeexpr import TypeRef, Union, parse
from typeharvest.records import NOT_OBSERVED, FunctionInfo, FunctionKind, Observation, ParameterKind


@dataclass(slots=True)
class InferredSignature:
    """The annotation for each parameter (by name) and the return, where anything was observed."""

    function: FunctionInfo
    parameters: dict[str, Union] = field(default_factory=dict)
    returns: Union | None = None
    calls: int = 0


def infer(function: FunctionInfo, observations: Sequence[Observation]) -> InferredSignature:
    """Merge every observation of ``function``; a slot with no observation gets no annotation."""
    result = InferredSignature(function, calls=sum(o.calls for o in observations))
    for index, parameter in enumerate(function.parameters):
        seen = [
            parse(o.signature.arg_types[index])
            for o in observations
            if index < len(o.signature.arg_types) and o.signature.arg_types[index] != NOT_OBSERVED
        ]
        if not seen:
            continue
        union = merge(seen)
        if parameter.kind is ParameterKind.VAR_POSITIONAL:
            union = tuple_elements(union)
        elif parameter.kind is ParameterKind.VAR_KEYWORD:
            union = dict_values(union)
        if union.members:
            result.parameters[parameter.name] = union
    result.returns = _returns(function.kind, observations)
    return result


def _merged(texts: Sequence[str]) -> Union | None:
    seen = [parse(text) for text in texts if text != NOT_OBSERVED]
    return merge(seen) if seen else None


def _returns(kind: FunctionKind, observations: Sequence[Observation]) -> Union | None:
    returned = _merged([o.signature.return_type for o in observations])
    if kind in (FunctionKind.FUNCTION, FunctionKind.COROUTINE):
        return returned
    yielded = _merged([o.signature.yield_type for o in observations])
    if yielded is None:
        return None
    if kind is FunctionKind.ASYNC_GENERATOR:
        return Union.of([TypeRef("collections.abc.AsyncIterator", (yielded,))])
    if returned is None or all(ref.name == NONE for ref in returned.members):
        return Union.of([TypeRef("collections.abc.Iterator", (yielded,))])
    none = Union.of([TypeRef(NONE)])
    return Union.of([TypeRef("collections.abc.Generator", (yielded, none, returned))])
