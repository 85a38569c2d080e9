"""Merge the types observed for one slot into the one annotation a careful human would write.

Each rule keeps the hard promise of the annotator: the result accepts every type that was observed.
"""

from __future__ import annotations

from collections.abc import Iterable

from typeharvest.annotator.typeexpr import TypeRef, Union

NONE = "builtins.NoneType"
TUPLE = "builtins.tuple"
LIST = "builtins.list"
TYPE = "builtins.type"

#: PEP 484's numeric tower: a type checker accepts the key wherever one of the values is expected.
_WIDER_NUMBERS = {
    "builtins.bool": ("builtins.int", "builtins.float", "builtins.complex"),
    "builtins.int": ("builtins.float", "builtins.complex"),
    "builtins.float": ("builtins.complex",),
}


def merge(unions: Iterable[Union], notes: list[str] | None = None) -> Union:
    """One union for all observations: same classes merged element-wise, numbers folded into wider ones.

    ``notes`` collects a line for each rule that changed something, for ``typeharvest explain``.
    """
    by_name: dict[str, list[TypeRef]] = {}
    for union in unions:
        for member in union.members:
            by_name.setdefault(member.name, []).append(member)
    if "builtins.object" in by_name:
        if notes is not None and len(by_name) > 1:
            notes.append("object accepts every other type observed: object alone")
        return Union.of([TypeRef("builtins.object")])
    merged = [_merge_class(name, refs, notes) for name, refs in by_name.items()]
    names = {ref.name for ref in merged}
    kept: list[TypeRef] = []
    for ref in merged:
        wider = [number for number in _WIDER_NUMBERS.get(ref.name, ()) if number in names]
        if not wider:
            kept.append(ref)
        elif notes is not None:
            notes.append(f"numeric tower: {_short(ref.name)} is accepted as {_short(wider[0])}")
    return _empty_tuple_as_sequence(kept, notes)


def _empty_tuple_as_sequence(refs: list[TypeRef], notes: list[str] | None) -> Union:
    """``list[X] | tuple[()]`` (a list, or the ``()`` of a default) as a person writes it: ``Sequence[X]``."""
    empty = TypeRef(TUPLE, ())
    lists = [ref for ref in refs if ref.name == LIST and ref.args]
    if empty not in refs or not lists:
        return Union.of(refs)
    elements = merge(arg for ref in lists for arg in ref.args or ())
    if notes is not None:
        notes.append("a list and the empty tuple: Sequence of the elements")
    sequence = TypeRef("collections.abc.Sequence", (elements,))
    return Union.of([sequence, *(ref for ref in refs if ref != empty and ref not in lists)])


def _short(name: str) -> str:
    return name.removeprefix("builtins.")


def _merge_class(name: str, refs: list[TypeRef], notes: list[str] | None = None) -> TypeRef:
    parameterised = [ref for ref in refs if ref.args is not None]
    if not parameterised:
        return TypeRef(name)  # only empty containers were seen
    if name == TUPLE:
        # The empty tuple is ``tuple[()]``: a bare ``tuple`` had items that could not be named (an unknown
        # item, or past the depth limit), so its length is unknown and the result cannot have a fixed one.
        any_length = len(parameterised) != len(refs)
        if notes is not None and any_length:
            notes.append("a tuple whose items could not be named: the tuple is written with any length")
        return _merge_tuples(parameterised, any_length)
    if notes is not None and len(parameterised) != len(refs):
        notes.append(f"empty {_short(name)} absorbed by the non-empty ones")
    arities = {len(ref.args or ()) for ref in parameterised}
    if len(arities) != 1:
        return TypeRef(name)
    if name == TYPE:
        # ``type[int]`` is not a ``type[float]``: the numeric tower is about values, not classes.
        classes = Union.of(member for ref in parameterised for member in (ref.args or ())[0].members)
        return TypeRef(name, (classes,))
    return TypeRef(
        name, tuple(merge(column) for column in zip(*(ref.args or () for ref in parameterised), strict=True))
    )


def _merge_tuples(refs: list[TypeRef], any_length: bool = False) -> TypeRef:
    fixed_lengths = {len(ref.args or ()) for ref in refs if not ref.variadic}
    if len(fixed_lengths) == 1 and not any(ref.variadic for ref in refs) and not any_length:
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
