"""Merge the types observed for one slot into the one annotation a careful human would write.

Each rule keeps the hard promise of the annotator: the result accepts every type that was observed.
"""

from __future__ import annotations

from collections.abc import Iterable

from typeharvest.annotator.typeexpr import TypeRef, Union

NONE = "builtins.NoneType"
TUPLE = "builtins.tuple"

#: PEP 484's numeric tower: a type checker accepts the key wherever one of the values is expected.
_WIDER_NUMBERS = {
    "builtins.bool": ("builtins.int", "builtins.float", "builtins.complex"),
    "builtins.int": ("builtins.float", "builtins.complex"),
    "builtins.float": ("builtins.complex",),
}


def merge(unions: Iterable[Union]) -> Union:
    """One union for all observations: same classes merged element-wise, numbers folded into wider ones."""
    by_name: dict[str, list[TypeRef]] = {}
    for union in unions:
        for member in union.members:
            by_name.setdefault(member.name, []).append(member)
    merged = [_merge_class(name, refs) for name, refs in by_name.items()]
    names = {ref.name for ref in merged}
    return Union.of(ref for ref in merged if not names.intersection(_WIDER_NUMBERS.get(ref.name, ())))


def _merge_class(name: str, refs: list[TypeRef]) -> TypeRef:
    parameterised = [ref for ref in refs if ref.args is not None]
    if not parameterised:
        return TypeRef(name)  # only empty containers were seen
    if name == TUPLE:
        return _merge_tuples(parameterised)
    arities = {len(ref.args or ()) for ref in parameterised}
    if len(arities) != 1:
        return TypeRef(name)
    return TypeRef(
        name, tuple(merge(column) for column in zip(*(ref.args or () for ref in parameterised), strict=True))
    )


def _merge_tuples(refs: list[TypeRef]) -> TypeRef:
    fixed_lengths = {len(ref.args or ()) for ref in refs if not ref.variadic}
    if len(fixed_lengths) == 1 and not any(ref.variadic for ref in refs):
        return TypeRef(
            TUPLE, tuple(merge(column) for column in zip(*(ref.args or () for ref in refs), strict=True))
        )
    elements = merge(arg for ref in refs for arg in ref.args or ())
    if not elements.members:
        return TypeRef(TUPLE)
    return TypeRef(TUPLE, (elements,), variadic=True)


def tuple_elements(union: Union) -> Union:
    """The element type of tuples (what ``*args`` holds), empty when only ``()`` was seen."""
    return merge(arg for ref in union.members if ref.name == TUPLE for arg in ref.args or ())


def dict_values(union: Union) -> Union:
    """The value type of dicts (what ``**kwargs`` holds), empty when only ``{}`` was seen."""
    return merge(
        ref.args[1]
        for ref in union.members
        if ref.name == "builtins.dict" and ref.args and len(ref.args) == 2
    )


def with_none(union: Union) -> Union:
    """``union | None`` (a parameter whose default is None accepts None even if no call passed it)."""
    return Union.of((*union.members, TypeRef(NONE)))
