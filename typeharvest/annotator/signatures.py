"""From a function's observed signatures to the annotation of each of its slots, with the reasons why.

Every rule here keeps the annotator's hard promise: the annotation of a slot accepts every type that was
observed in it. A rule that cannot keep it (a test double with no production base) leaves the slot out and
says so; nothing observed is dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from typeharvest.annotator.combine import NONE, dict_values, merge, tuple_elements, with_none
from typeharvest.annotator.hierarchy import ClassHierarchy, is_test_type
from typeharvest.annotator.typeexpr import TypeRef, Union, parse
from typeharvest.records import NOT_OBSERVED, FunctionInfo, FunctionKind, Observation, ParameterKind

#: The slot name of a function's return (parameters use their own names).
RETURN = "return"
#: How the tracer marks a return value that was the receiver itself (``return self``).
SELF_MARK = "typeharvest.Self"
#: The merged type of a method that returns its receiver.
SELF = "typing.Self"
#: Stands for the module's type variable in a generic function; the renderer names it.
TYPEVAR = "typing.TypeVar"
#: Unions of more classes than this collapse into their nearest common base.
MAX_UNION = 5

_ANY = Union.of([TypeRef("typing.Any")])
_GENERATOR_KINDS = (FunctionKind.GENERATOR, FunctionKind.ASYNC_GENERATOR)
#: The return annotations ``Self`` (``return self``) and ``type[Self]`` (``return cls``).
_SELF = Union.of([TypeRef(SELF)])
_TYPE_OF_SELF = Union.of([TypeRef("builtins.type", (_SELF,))])


@dataclass(frozen=True, slots=True)
class SeenType:
    """One type observed in a slot, as the tracer spelled it, with how often and when."""

    text: str
    calls: int
    first_seen: float
    last_seen: float


@dataclass(slots=True)
class Slot:
    """A parameter (or the return) of a function: what was seen, what to write, and the rules applied."""

    name: str
    seen: list[SeenType]
    union: Union | None  # None: left out
    rules: list[str] = field(default_factory=list)
    #: What to write instead when a generic (TypeVar) annotation is rejected: the plain merged union.
    fallback: Union | None = None


@dataclass(slots=True)
class InferredSignature:
    """The slots of one function that anything was observed for, by name (``RETURN`` for the return)."""

    function: FunctionInfo
    slots: dict[str, Slot] = field(default_factory=dict)
    calls: int = 0

    @property
    def parameters(self) -> dict[str, Union]:
        """The parameters that get an annotation."""
        return {
            name: slot.union for name, slot in self.slots.items() if name != RETURN and slot.union is not None
        }

    @property
    def returns(self) -> Union | None:
        """The return annotation, if any."""
        slot = self.slots.get(RETURN)
        return slot.union if slot is not None else None


@dataclass(frozen=True, slots=True)
class SourceFacts:
    """What the function's source says that a trace cannot: its receiver and its ``= None`` defaults."""

    receiver: str | None = None
    none_defaults: frozenset[str] = frozenset()


def infer(
    function: FunctionInfo,
    observations: Sequence[Observation],
    facts: SourceFacts | None = None,
    hierarchy: ClassHierarchy | None = None,
) -> InferredSignature:
    """Merge every observation of ``function``; a slot with no observation gets no annotation."""
    facts = facts or SourceFacts()
    hierarchy = hierarchy or ClassHierarchy()
    result = InferredSignature(function, calls=sum(o.calls for o in observations))
    for index, parameter in enumerate(function.parameters):
        texts = [
            (o.signature.arg_types[index] if index < len(o.signature.arg_types) else "", o)
            for o in observations
        ]
        slot = Slot(parameter.name, _seen(texts), None)
        if not slot.seen:
            continue
        if parameter.name == facts.receiver:
            slot.rules.append("the receiver is never annotated")
            result.slots[parameter.name] = slot
            continue
        union = _combine(slot, hierarchy)
        if union is not None and parameter.kind is ParameterKind.VAR_POSITIONAL:
            union = tuple_elements(union)
            slot.rules.append("*args: annotated with the type of its elements")
        elif union is not None and parameter.kind is ParameterKind.VAR_KEYWORD:
            union = dict_values(union)
            slot.rules.append("**kwargs: annotated with the type of its values")
        if union is not None and not union.members:
            slot.rules.append("left out: only empty *args/**kwargs were seen")
            union = None
        if union is not None and parameter.name in facts.none_defaults:
            if union.members == (TypeRef(NONE),):
                # ``x: None = None`` says nothing a reader does not already see.
                slot.rules.append("left out: only the default None was ever seen")
                union = None
            elif TypeRef(NONE) not in union.members:
                union = with_none(union)
                slot.rules.append("default is None: | None added")
        if union is not None:
            union = _collapse(union, slot, hierarchy)
        slot.union = union
        result.slots[parameter.name] = slot
    returned = _return_slot(function, observations, facts, hierarchy)
    if returned is not None:
        result.slots[RETURN] = returned
        _generic(function, observations, facts, result)
    return result


def _seen(texts: Sequence[tuple[str, Observation]]) -> list[SeenType]:
    by_text: dict[str, SeenType] = {}
    for text, observation in texts:
        if text == NOT_OBSERVED:
            continue
        known = by_text.get(text)
        if known is None:
            by_text[text] = SeenType(text, observation.calls, observation.first_seen, observation.last_seen)
        else:
            by_text[text] = SeenType(
                text,
                known.calls + observation.calls,
                min(known.first_seen, observation.first_seen),
                max(known.last_seen, observation.last_seen),
            )
    return sorted(by_text.values(), key=lambda seen: (-seen.calls, seen.text))


def _combine(slot: Slot, hierarchy: ClassHierarchy) -> Union | None:
    """Merge the slot's observed types after replacing test doubles; None when one cannot be replaced."""
    unions: list[Union] = []
    for seen in slot.seen:
        union = _production_types(_unmark(parse(seen.text)), slot, hierarchy)
        if union is None:
            return None
        unions.append(union)
    if len(slot.seen) > 1:
        slot.rules.append(f"{len(slot.seen)} observed types merged into one union")
    return merge(unions, slot.rules)


def _unmark(union: Union) -> Union:
    """The receiver's type in place of the tracer's ``typeharvest.Self[X]`` mark."""
    members: list[TypeRef] = []
    for ref in union.members:
        if ref.name == SELF_MARK and ref.args:
            members.extend(ref.args[0].members)
        else:
            members.append(ref)
    return Union.of(members)


def _returned_receiver(text: str) -> str | None:
    """``"instance"`` for ``typeharvest.Self[X]`` (``return self``), ``"class"`` for
    ``typeharvest.Self[builtins.type[X]]`` (``return cls``), None for any other return."""
    members = parse(text).members
    if len(members) != 1 or members[0].name != SELF_MARK:
        return None
    inner = members[0].args[0].members if members[0].args else ()
    return "class" if len(inner) == 1 and inner[0].name == "builtins.type" else "instance"


def _production_types(union: Union, slot: Slot, hierarchy: ClassHierarchy) -> Union | None:
    """``union`` with every test-code class replaced by its nearest production base, or None; and every
    class named where it is public (``pathlib.PosixPath``, not ``pathlib._local.PosixPath``)."""
    members: list[TypeRef] = []
    for ref in union.members:
        public = hierarchy.public_name(ref.name)
        if public != ref.name:
            ref = TypeRef(public, ref.args, ref.variadic)
        if ref.args is None and (count := hierarchy.type_parameters(ref.name)):
            # The trace cannot see a generic class's parameters; bare, it is an error under --strict.
            ref = TypeRef(ref.name, (_ANY,) * count)
        if is_test_type(ref.name):
            base = hierarchy.production_base(ref.name)
            if base is None:
                slot.rules.append(f"left out: {ref.name} is test code with no production base class")
                return None
            slot.rules.append(f"test type {ref.name} replaced by its base {base}")
            ref = TypeRef(base)
        if ref.args:
            args: list[Union] = []
            for arg in ref.args:
                replaced = _production_types(arg, slot, hierarchy)
                if replaced is None:
                    return None
                args.append(replaced)
            ref = TypeRef(ref.name, tuple(args), ref.variadic)
        members.append(ref)
    return Union.of(members)


def _collapse(union: Union, slot: Slot, hierarchy: ClassHierarchy) -> Union:
    """Without the classes another member already covers (``HttpResponse | HttpResponseRedirect`` is
    ``HttpResponse``); then a union of more than ``MAX_UNION`` classes as their nearest common base."""
    union = _without_subclasses(union, slot, hierarchy)
    classes = [ref for ref in union.members if ref.name != NONE]
    if len(classes) <= MAX_UNION:
        return union
    base = hierarchy.common_base([ref.name for ref in classes])
    if base is None:
        slot.rules.append(f"kept a union of {len(classes)} classes: their bases could not be resolved")
        return union
    slot.rules.append(f"union of {len(classes)} classes collapsed into their nearest common base {base}")
    return Union.of([TypeRef(base), *(ref for ref in union.members if ref.name == NONE)])


def _without_subclasses(union: Union, slot: Slot, hierarchy: ClassHierarchy) -> Union:
    bare = {ref.name for ref in union.members if ref.args is None and ref.name != NONE}
    if len(bare) < 2:
        return union
    kept: list[TypeRef] = []
    for ref in union.members:
        mro = hierarchy.mro(ref.name) if ref.name in bare else None
        base = next((name for name in (mro or ())[1:] if name in bare), None)
        if base is None:
            kept.append(ref)
        else:
            slot.rules.append(f"{ref.name} left out: a subclass of {base}, also in the union")
    return Union.of(kept)


def _return_slot(
    function: FunctionInfo,
    observations: Sequence[Observation],
    facts: SourceFacts,
    hierarchy: ClassHierarchy,
) -> Slot | None:
    generator = function.kind in _GENERATOR_KINDS
    texts = [(o.signature.yield_type if generator else o.signature.return_type, o) for o in observations]
    slot = Slot(RETURN, _seen(texts), None)
    if not slot.seen:
        return None
    marks = {_returned_receiver(seen.text) for seen in slot.seen}
    if not generator and facts.receiver is not None and marks == {"instance"}:
        slot.union = _SELF
        slot.rules.append("the receiver itself was returned in every call: Self")
        return slot
    if not generator and facts.receiver is not None and marks == {"class"}:
        slot.union = _TYPE_OF_SELF
        slot.rules.append("the receiving class itself was returned in every call: type[Self]")
        return slot
    if marks - {None}:
        why = "the receiver was not returned in every call" if facts.receiver else "no receiver is known"
        slot.rules.append(f"{why}: its class is written, not Self")
    union = _combine(slot, hierarchy)
    if union is None:
        return slot
    union = _collapse(union, slot, hierarchy)
    if not generator:
        slot.union = union
        if function.kind is FunctionKind.COROUTINE:
            slot.rules.append("coroutine: annotated with the awaited result")
        return slot
    if function.kind is FunctionKind.ASYNC_GENERATOR:
        slot.union = Union.of([TypeRef("collections.abc.AsyncIterator", (union,))])
        slot.rules.append("async generator: AsyncIterator of the yielded types")
        return slot
    returned_types: list[Union] = []
    for o in observations:
        if o.signature.return_type != NOT_OBSERVED:
            production = _production_types(_unmark(parse(o.signature.return_type)), slot, hierarchy)
            if production is None:
                return slot  # a returned test double with no production base: the rule says so
            returned_types.append(production)
    returned = merge(returned_types)
    if all(ref.name == NONE for ref in returned.members):
        slot.union = Union.of([TypeRef("collections.abc.Iterator", (union,))])
        slot.rules.append("generator: Iterator of the yielded types")
    else:
        none = Union.of([TypeRef(NONE)])
        slot.union = Union.of([TypeRef("collections.abc.Generator", (union, none, returned))])
        slot.rules.append("generator that returns a value: Generator[yield, None, return]")
    return slot


def _generic(
    function: FunctionInfo,
    observations: Sequence[Observation],
    facts: SourceFacts,
    result: InferredSignature,
) -> None:
    """A return whose type was always that of one argument, over several types, makes a generic function."""
    if function.kind in _GENERATOR_KINDS or result.slots[RETURN].union in (_SELF, _TYPE_OF_SELF):
        return  # the receiver came back every time: Self says more than a TypeVar
    returns = [o for o in observations if o.signature.return_type != NOT_OBSERVED]
    if not returns:
        return
    for index, parameter in enumerate(function.parameters):
        if (
            parameter.kind
            not in (
                ParameterKind.POSITIONAL_ONLY,
                ParameterKind.POSITIONAL_OR_KEYWORD,
                ParameterKind.KEYWORD_ONLY,
            )
            or parameter.name in (facts.receiver, *facts.none_defaults)
            or parameter.name not in result.slots
            or result.slots[parameter.name].union is None  # left out: its types cannot all be written
        ):
            continue
        pairs = {
            (o.signature.arg_types[index], _unmark_text(o.signature.return_type))
            for o in returns
            if index < len(o.signature.arg_types)
        }
        # Over different classes, not one container with different contents (a list filled in place).
        classes = {parse(argument).members[0].name for argument, _ in pairs if argument}
        if len(classes) > 1 and all(argument == returned for argument, returned in pairs):
            typevar = Union.of([TypeRef(TYPEVAR)])
            rule = (
                f"returned the type of {parameter.name!r} in every call, over {len(pairs)} types: a TypeVar"
            )
            for slot in (result.slots[parameter.name], result.slots[RETURN]):
                slot.fallback, slot.union = slot.union, typevar
                slot.rules.append(rule)
            return


def _unmark_text(text: str) -> str:
    prefix = SELF_MARK + "["
    return text[len(prefix) : -1] if text.startswith(prefix) and text.endswith("]") else text
