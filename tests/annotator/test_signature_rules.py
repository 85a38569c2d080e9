"""The rules that turn a function's observed types into the annotation of each slot, one test per rule.

Classes that the hierarchy must resolve live in ``harvestzoo`` (beside this file; a package whose name is
not test code), and its test doubles in ``harvestzoo.testing`` (a module that is test code).
"""

from pathlib import Path

import pytest

from typeharvest.annotator.hierarchy import ClassHierarchy
from typeharvest.annotator.render import TYPEVAR_NAME, Import, Renderer
from typeharvest.annotator.signatures import MAX_UNION, RETURN, TYPEVAR, SourceFacts, infer
from typeharvest.annotator.typeexpr import TypeRef, Union
from typeharvest.records import (
    NOT_OBSERVED,
    FunctionInfo,
    FunctionKind,
    Observation,
    Parameter,
    ParameterKind,
    Signature,
)

HOME = "app.home"
ZOO = "harvestzoo"
MAMMALS = [f"{ZOO}.{name}" for name in ("Bat", "Cat", "Cow", "Dog", "Horse", "Whale")]
POSITIONAL = ParameterKind.POSITIONAL_OR_KEYWORD


@pytest.fixture(autouse=True)
def zoo_importable(monkeypatch):
    """The hierarchy imports ``harvestzoo`` by name, as it would import the traced program's modules."""
    monkeypatch.syspath_prepend(str(Path(__file__).parent))


def function(*names, kind=FunctionKind.FUNCTION, kinds=None):
    kinds = kinds or {}
    parameters = tuple(Parameter(name, kinds.get(name, POSITIONAL)) for name in names)
    return FunctionInfo(HOME, "f", "app/home.py", 1, kind, parameters)


def observe(function, *args, returns=NOT_OBSERVED, yields=NOT_OBSERVED, calls=1, at=100.0):
    return Observation(function, Signature(tuple(args), returns, yields), calls, at, at + 1)


def infer_slots(function, observations, **facts):
    return infer(function, observations, SourceFacts(**facts), ClassHierarchy())


def rendered(inferred, slot=RETURN, renderer=None):
    """The annotation text of a slot, None when the slot is left out."""
    union = inferred.slots[slot].union
    return None if union is None else (renderer or Renderer(HOME)).render(union)


def test_union_members_are_flattened_deduplicated_and_sorted_with_counts_kept():
    f = function("x")
    inferred = infer_slots(
        f,
        [
            observe(f, "builtins.str", calls=3, at=50.0),
            observe(f, "builtins.int", calls=1),
            observe(f, "builtins.str", calls=2, at=200.0),
        ],
    )
    slot = inferred.slots["x"]
    assert [ref.name for ref in slot.union.members] == ["builtins.int", "builtins.str"]
    assert rendered(inferred, "x") == "int | str"
    assert [(seen.text, seen.calls, seen.first_seen, seen.last_seen) for seen in slot.seen] == [
        ("builtins.str", 5, 50.0, 201.0),
        ("builtins.int", 1, 100.0, 101.0),
    ]
    assert "2 observed types merged into one union" in slot.rules

    # A generator's yields arrive as unions: they are flattened into one, not nested.
    g = function(kind=FunctionKind.GENERATOR)
    inferred = infer_slots(
        g,
        [
            observe(g, yields="builtins.str | builtins.int", returns="builtins.NoneType"),
            observe(g, yields="builtins.int | builtins.bytes", returns="builtins.NoneType"),
        ],
    )
    (iterator,) = inferred.returns.members
    assert [ref.name for ref in iterator.args[0].members] == [
        "builtins.bytes",
        "builtins.int",
        "builtins.str",
    ]
    assert rendered(inferred) == "Iterator[bytes | int | str]"


def test_bool_is_absorbed_by_int_and_int_by_float():
    f = function("flag", "count", "ratio")
    inferred = infer_slots(
        f,
        [
            observe(f, "builtins.bool", "builtins.bool", "builtins.float"),
            observe(f, "builtins.int", "builtins.bool", "builtins.int"),
            observe(f, "builtins.int", "builtins.list[builtins.bool]", "builtins.bool"),
            observe(f, "builtins.int", "builtins.list[builtins.float]", "builtins.float"),
        ],
    )
    assert rendered(inferred, "flag") == "int"
    assert "numeric tower: bool is accepted as int" in inferred.slots["flag"].rules
    assert rendered(inferred, "ratio") == "float"
    assert "numeric tower: int is accepted as float" in inferred.slots["ratio"].rules
    assert "numeric tower: bool is accepted as int" in inferred.slots["ratio"].rules
    # Inside a container too; and bool with list[...] are different classes, so both stay.
    assert rendered(inferred, "count") == "bool | list[float]"


def test_an_observed_none_is_written_last_as_x_or_none():
    f = function("x")
    inferred = infer_slots(
        f, [observe(f, "builtins.NoneType"), observe(f, "builtins.str"), observe(f, "builtins.int")]
    )
    assert rendered(inferred, "x") == "int | str | None"


def test_a_none_default_adds_none_even_when_none_was_never_passed():
    f = function("never", "passed", "only_none")
    inferred = infer_slots(
        f,
        [
            observe(f, "builtins.int", "builtins.NoneType", "builtins.NoneType"),
            observe(f, "builtins.str", "builtins.int", "builtins.NoneType"),
        ],
        none_defaults=frozenset({"never", "passed", "only_none"}),
    )
    assert rendered(inferred, "never") == "int | str | None"
    assert "default is None: | None added" in inferred.slots["never"].rules
    # When None was observed anyway there is nothing to add, and no rule claims otherwise.
    assert rendered(inferred, "passed") == "int | None"
    assert "default is None: | None added" not in inferred.slots["passed"].rules
    assert rendered(inferred, "only_none") is None  # nothing learnt beyond the default


@pytest.mark.parametrize(
    ("observed", "annotation", "base"),
    [
        # nearest common base: Mammal, not Animal
        (MAMMALS, "Mammal", f"{ZOO}.Mammal"),
        # a Bird among them: the nearest class they all derive from is Animal
        ([*MAMMALS[:5], f"{ZOO}.Bird"], "Animal", f"{ZOO}.Animal"),
        # a subclass (of a class not in the union) counts as a class of its own; None is kept beside the base
        ([*MAMMALS[:3], *MAMMALS[4:], f"{ZOO}.Puppy", "builtins.NoneType"], "Mammal | None", f"{ZOO}.Mammal"),
        # object only when nothing else fits
        ([*MAMMALS[:5], f"{ZOO}.Rock"], "object", "builtins.object"),
    ],
)
def test_a_union_wider_than_max_union_collapses_into_the_nearest_common_base(observed, annotation, base):
    assert len({name for name in observed if name != "builtins.NoneType"}) == MAX_UNION + 1
    f = function("x")
    inferred = infer_slots(f, [observe(f, name) for name in observed])
    assert rendered(inferred, "x") == annotation
    assert (
        f"union of {MAX_UNION + 1} classes collapsed into their nearest common base {base}"
        in inferred.slots["x"].rules
    )

    # MAX_UNION classes are not too many: the union is kept.
    inferred = infer_slots(f, [observe(f, name) for name in MAMMALS[:MAX_UNION]])
    assert rendered(inferred, "x") == "Bat | Cat | Cow | Dog | Horse"
    # Classes that cannot be imported have no known base: the union is kept, and a rule says why.
    gone = [f"app.gone.C{i}" for i in range(MAX_UNION + 1)]
    inferred = infer_slots(f, [observe(f, name) for name in gone])
    assert len(inferred.slots["x"].union.members) == MAX_UNION + 1
    assert any("could not be resolved" in rule for rule in inferred.slots["x"].rules)


def test_a_class_beside_its_own_base_class_is_left_out_of_the_union():
    f = function("x")
    observed = [f"{ZOO}.Dog", f"{ZOO}.Puppy", f"{ZOO}.Cat", "builtins.NoneType"]
    inferred = infer_slots(f, [observe(f, name) for name in observed])
    assert rendered(inferred, "x") == "Cat | Dog | None"
    assert f"{ZOO}.Puppy left out: a subclass of {ZOO}.Dog, also in the union" in inferred.slots["x"].rules
    # Only a base that is itself in the union absorbs: siblings stay.
    inferred = infer_slots(f, [observe(f, name) for name in (f"{ZOO}.Puppy", f"{ZOO}.Cat")])
    assert rendered(inferred, "x") == "Cat | Puppy"


def test_container_element_types_merge_and_empty_containers_are_absorbed():
    f = function("items", "mapping", "nested", "empty", "pair")
    inferred = infer_slots(
        f,
        [
            observe(
                f,
                "builtins.list[builtins.int]",
                "builtins.dict[builtins.str, builtins.int]",
                "builtins.list[builtins.list]",
                "builtins.set",
                "builtins.tuple[builtins.int, builtins.str]",
            ),
            observe(
                f,
                "builtins.list[builtins.str]",
                "builtins.dict[builtins.bytes, builtins.NoneType]",
                "builtins.list[builtins.list[builtins.float]]",
                "builtins.set",
                "builtins.tuple[builtins.bool, builtins.bytes]",
            ),
            observe(f, "builtins.list", "builtins.dict", "builtins.list", "builtins.set", NOT_OBSERVED),
        ],
    )
    assert rendered(inferred, "items") == "list[int | str]"
    assert "empty list absorbed by the non-empty ones" in inferred.slots["items"].rules
    assert rendered(inferred, "mapping") == "dict[bytes | str, int | None]"
    assert rendered(inferred, "nested") == "list[list[float]]"
    # Only empty containers: the element type is unknown, and written as Any, never guessed.
    assert rendered(inferred, "empty") == "set[Any]"
    # Tuples of one length merge item by item.
    assert rendered(inferred, "pair") == "tuple[int, bytes | str]"


def test_a_list_holding_both_empty_and_non_empty_lists_merges_into_one_element_type():
    # The tracer names ``[[], [1]]`` so: a bare ``list`` and a ``list[int]`` in one union.
    f = function("rows", "table")
    inferred = infer_slots(
        f,
        [
            observe(
                f,
                "builtins.list[builtins.list | builtins.list[builtins.int]]",
                "builtins.dict[builtins.str, builtins.list] | builtins.dict[builtins.str, builtins.set]",
            )
        ],
    )
    assert rendered(inferred, "rows") == "list[list[int]]"
    assert rendered(inferred, "table") == "dict[str, list[Any] | set[Any]]"


def test_a_tuple_whose_items_could_not_be_named_is_not_absorbed_into_a_fixed_length():
    # ``builtins.tuple`` is not the empty tuple (that is ``tuple[()]``): an item of it could not be named, so
    # its length is unknown and ``tuple[int]`` would reject it.
    f = function("x", "y")
    inferred = infer_slots(
        f,
        [
            observe(f, "builtins.tuple[builtins.int]", "builtins.tuple[()]"),
            observe(f, "builtins.tuple", "builtins.tuple"),
        ],
    )
    assert rendered(inferred, "x") == "tuple[int, ...]"
    assert rendered(inferred, "y") == "tuple[Any, ...]"
    assert any("could not be named" in rule for rule in inferred.slots["x"].rules)


def test_star_args_and_kwargs_are_typed_by_their_elements():
    kinds = {"args": ParameterKind.VAR_POSITIONAL, "kwargs": ParameterKind.VAR_KEYWORD}
    f = function("args", "kwargs", "more", kinds={**kinds, "more": ParameterKind.VAR_KEYWORD})
    inferred = infer_slots(
        f,
        [
            observe(
                f, "builtins.tuple[builtins.int, builtins.str]", "builtins.dict[builtins.str, builtins.bytes]"
            ),
            observe(f, "builtins.tuple[builtins.bool, ...]", "builtins.dict", "builtins.dict"),
            observe(
                f, "builtins.tuple[()]", "builtins.dict[builtins.str, builtins.NoneType]", "builtins.dict"
            ),
        ],
    )
    assert rendered(inferred, "args") == "int | str"
    assert "*args: annotated with the type of its elements" in inferred.slots["args"].rules
    assert rendered(inferred, "kwargs") == "bytes | None"
    assert "**kwargs: annotated with the type of its values" in inferred.slots["kwargs"].rules
    # Only ever empty: nothing is known of the elements, so no annotation, and a rule says so.
    assert inferred.slots["more"].union is None
    assert "left out: only empty *args/**kwargs were seen" in inferred.slots["more"].rules


def test_a_method_returns_self_only_when_every_call_returned_its_receiver():
    f = function("self", "other")
    receiver = {"receiver": "self"}
    always = [
        observe(f, f"{HOME}.Builder", "builtins.int", returns=f"typeharvest.Self[{HOME}.Builder]"),
        observe(f, f"{HOME}.SubBuilder", "builtins.int", returns=f"typeharvest.Self[{HOME}.SubBuilder]"),
    ]
    inferred = infer_slots(f, always, **receiver)
    assert rendered(inferred) == "Self"
    assert "the receiver is never annotated" in inferred.slots["self"].rules
    assert "self" not in inferred.parameters

    # Once a call returned another object (even of the same class), the classes are written instead.
    sometimes = [*always, observe(f, f"{HOME}.Builder", "builtins.str", returns=f"{HOME}.Builder")]
    inferred = infer_slots(f, sometimes, **receiver)
    assert rendered(inferred) == "Builder | SubBuilder"
    assert any("not returned in every call" in rule for rule in inferred.slots[RETURN].rules)

    # Self wins over a TypeVar, even when another argument always had the receiver's type.
    f = function("self", "other")
    inferred = infer_slots(
        f,
        [
            observe(f, f"{HOME}.Builder", f"{HOME}.Builder", returns=f"typeharvest.Self[{HOME}.Builder]"),
            observe(
                f, f"{HOME}.SubBuilder", f"{HOME}.SubBuilder", returns=f"typeharvest.Self[{HOME}.SubBuilder]"
            ),
        ],
        **receiver,
    )
    assert (rendered(inferred), rendered(inferred, "other")) == ("Self", "Builder | SubBuilder")

    # Without a receiver (a function, a static method) there is no Self to speak of.
    assert rendered(infer_slots(f, always[:1])) == "Builder"


def test_a_classmethod_returning_its_class_returns_type_of_self():
    f = function("cls")
    inferred = infer_slots(
        f,
        [
            observe(
                f,
                f"builtins.type[{HOME}.Builder]",
                returns=f"typeharvest.Self[builtins.type[{HOME}.Builder]]",
            )
        ],
        receiver="cls",
    )
    assert rendered(inferred) == "type[Self]"


def test_a_generator_is_an_iterator_of_what_it_yields():
    g = function("n", kind=FunctionKind.GENERATOR)
    inferred = infer_slots(
        g,
        [
            observe(g, "builtins.int", yields="builtins.int", returns="builtins.NoneType"),
            observe(
                g, "builtins.int", yields="builtins.bool | builtins.int", returns=NOT_OBSERVED
            ),  # abandoned
        ],
    )
    assert rendered(inferred) == "Iterator[int]"
    assert "generator: Iterator of the yielded types" in inferred.slots[RETURN].rules


def test_a_generator_that_returned_a_value_is_a_generator_of_yield_none_and_return():
    g = function(kind=FunctionKind.GENERATOR)
    inferred = infer_slots(
        g,
        [
            observe(g, yields="builtins.str", returns="builtins.int"),
            observe(g, yields="builtins.bytes", returns="builtins.NoneType"),
        ],
    )
    assert rendered(inferred) == "Generator[bytes | str, None, int | None]"


def test_an_async_generator_is_an_async_iterator_of_what_it_yields():
    g = function(kind=FunctionKind.ASYNC_GENERATOR)
    inferred = infer_slots(
        g,
        [observe(g, yields="builtins.str", returns="builtins.NoneType"), observe(g, yields="builtins.bytes")],
    )
    assert rendered(inferred) == "AsyncIterator[bytes | str]"


def test_a_coroutine_function_is_annotated_with_the_awaited_result():
    c = function("x", kind=FunctionKind.COROUTINE)
    inferred = infer_slots(
        c,
        [
            observe(c, "builtins.int", returns="builtins.str"),
            observe(c, "builtins.int", returns="builtins.NoneType"),
        ],
    )
    assert rendered(inferred) == "str | None"
    assert "coroutine: annotated with the awaited result" in inferred.slots[RETURN].rules


def test_a_class_passed_as_a_value_is_annotated_as_type_of_it():
    f = function("kind", "number")
    renderer = Renderer(HOME)
    inferred = infer_slots(
        f,
        [
            observe(f, f"builtins.type[{ZOO}.Dog]", "builtins.type[builtins.int]"),
            observe(f, f"builtins.type[{ZOO}:Outer.Inner]", "builtins.type[builtins.int]"),
        ],
    )
    assert rendered(inferred, "kind", renderer) == "type[Dog | Outer.Inner]"
    assert rendered(inferred, "number", renderer) == "type[int]"
    assert renderer.imports == {Import(ZOO, "Dog"), Import(ZOO, "Outer")}


def test_a_return_of_one_arguments_type_over_two_types_is_a_typevar():
    f = function("value", "label")
    inferred = infer_slots(
        f,
        [
            observe(f, "builtins.int", "builtins.str", returns="builtins.int"),
            observe(f, "builtins.list[builtins.str]", "builtins.str", returns="builtins.list[builtins.str]"),
            observe(f, "builtins.int", "builtins.bytes", returns="builtins.int"),
        ],
    )
    typevar = Union.of([TypeRef(TYPEVAR)])
    assert inferred.slots["value"].union == typevar
    assert inferred.slots[RETURN].union == typevar
    assert rendered(inferred, "label") == "bytes | str"
    rule = "returned the type of 'value' in every call, over 2 types: a TypeVar"
    assert rule in inferred.slots["value"].rules
    assert rule in inferred.slots[RETURN].rules
    renderer = Renderer(HOME)
    assert rendered(inferred, "value", renderer) == TYPEVAR_NAME
    assert renderer.typevar_used


@pytest.mark.parametrize(
    "calls",
    [
        # always equal, but only ever one type: a plain annotation says as much
        [("builtins.int", "builtins.int"), ("builtins.int", "builtins.int")],
        # equal in two types, but not in a third call
        [
            ("builtins.int", "builtins.int"),
            ("builtins.str", "builtins.str"),
            ("builtins.str", "builtins.int"),
        ],
    ],
)
def test_no_typevar_when_the_types_matched_once_only_or_not_in_every_call(calls):
    f = function("value")
    inferred = infer_slots(f, [observe(f, argument, returns=returned) for argument, returned in calls])
    typevar = Union.of([TypeRef(TYPEVAR)])
    assert inferred.slots["value"].union != typevar
    assert inferred.slots[RETURN].union != typevar
    assert not any("TypeVar" in rule for slot in inferred.slots.values() for rule in slot.rules)


def test_a_class_from_test_code_is_replaced_by_its_nearest_production_base():
    f = function("pet", "pets")
    inferred = infer_slots(
        f,
        [
            observe(f, f"{ZOO}.testing.FakePuppy", f"builtins.list[{ZOO}.testing.FakeDog]"),
            observe(f, f"{ZOO}.Cat", f"builtins.list[{ZOO}.Cat]"),
        ],
    )
    # FakePuppy derives from FakeDog (test code) which derives from Dog: Dog is the nearest production base.
    assert rendered(inferred, "pet") == "Cat | Dog"
    assert f"test type {ZOO}.testing.FakePuppy replaced by its base {ZOO}.Dog" in inferred.slots["pet"].rules
    assert rendered(inferred, "pets") == "list[Cat | Dog]"
    assert f"test type {ZOO}.testing.FakeDog replaced by its base {ZOO}.Dog" in inferred.slots["pets"].rules


def test_a_class_from_test_code_without_a_production_base_leaves_the_slot_out():
    f = function("thing")
    inferred = infer_slots(f, [observe(f, f"{ZOO}.testing.StubThing"), observe(f, "builtins.int")])
    assert inferred.slots["thing"].union is None
    assert "thing" not in inferred.parameters
    assert (
        f"left out: {ZOO}.testing.StubThing is test code with no production base class"
        in inferred.slots["thing"].rules
    )


def test_a_magicmock_leaves_the_slot_out():
    f = function("client", "clients")
    inferred = infer_slots(
        f,
        [
            observe(
                f, "unittest.mock.MagicMock", "builtins.list[unittest.mock.MagicMock]", returns="builtins.int"
            ),
            observe(f, "builtins.str", "builtins.list[builtins.str]", returns="unittest.mock.MagicMock"),
        ],
    )
    assert inferred.parameters == {}
    assert inferred.returns is None
    for name in ("client", "clients", RETURN):
        assert any(
            rule.startswith("left out: unittest.mock.MagicMock") for rule in inferred.slots[name].rules
        ), name


def test_a_test_double_returned_by_a_generator_never_appears_in_its_annotation():
    g = function(kind=FunctionKind.GENERATOR)
    replaced = infer_slots(g, [observe(g, yields="builtins.int", returns=f"{ZOO}.testing.FakeDog")])
    assert rendered(replaced) == "Generator[int, None, Dog]"
    assert f"test type {ZOO}.testing.FakeDog replaced by its base {ZOO}.Dog" in replaced.slots[RETURN].rules
    left_out = infer_slots(g, [observe(g, yields="builtins.int", returns="unittest.mock.MagicMock")])
    assert left_out.returns is None
    assert any(rule.startswith("left out: unittest.mock.MagicMock") for rule in left_out.slots[RETURN].rules)


def test_no_observed_type_is_dropped_silently():
    kinds = {"rest": ParameterKind.VAR_POSITIONAL}
    f = function("self", "stub", "fake", "mocks", "rest", kinds=kinds)
    observations = [
        observe(
            f,
            f"{HOME}.Service",
            f"{ZOO}.testing.StubThing",
            f"{ZOO}.testing.FakeDog",
            "builtins.list[unittest.mock.MagicMock]",
            "builtins.tuple[()]",
            returns=f"typeharvest.Self[{HOME}.Service]",
            calls=4,
        ),
        observe(
            f,
            f"{HOME}.Service",
            "builtins.int",
            f"{ZOO}.Cat",
            "builtins.list[builtins.int]",
            "builtins.tuple[()]",
            returns=f"{HOME}.Service",
            calls=2,
        ),
    ]
    inferred = infer_slots(f, observations, receiver="self")
    assert set(inferred.slots) == {"self", "stub", "fake", "mocks", "rest", RETURN}
    for name, slot in inferred.slots.items():
        # Every observed type is recorded with its count...
        assert sum(seen.calls for seen in slot.seen) == 6, name
        # ...a slot left out says why...
        if slot.union is None:
            assert slot.rules, name
            assert name == "self" or any(rule.startswith("left out:") for rule in slot.rules), name
        # ...and so does every replaced type.
        for seen in slot.seen:
            for double in (f"{ZOO}.testing.FakeDog", f"{ZOO}.testing.StubThing", "unittest.mock.MagicMock"):
                if double in seen.text:
                    assert any(double in rule for rule in slot.rules), (name, double)
    assert rendered(inferred, "fake") == "Cat | Dog"
    assert rendered(inferred) == "Service"
    assert any("not returned in every call" in rule for rule in inferred.slots[RETURN].rules)
    assert inferred.slots["stub"].union is None
    assert inferred.slots["mocks"].union is None
    assert inferred.slots["rest"].union is None


def test_a_none_default_that_only_ever_received_none_is_left_out():
    function = FunctionInfo(
        "m", "f", "m.py", 1, FunctionKind.FUNCTION, (Parameter("born", ParameterKind.POSITIONAL_OR_KEYWORD),)
    )
    observation = Observation(function, Signature(("builtins.NoneType",), "builtins.NoneType"), 3, 1.0, 2.0)
    slot = infer(function, [observation], SourceFacts(none_defaults=frozenset({"born"}))).slots["born"]
    assert slot.union is None
    assert slot.rules == ["left out: only the default None was ever seen"]


def test_a_list_or_the_empty_tuple_of_a_default_is_a_sequence():
    function = FunctionInfo(
        "m", "f", "m.py", 1, FunctionKind.FUNCTION, (Parameter("words", ParameterKind.POSITIONAL_OR_KEYWORD),)
    )
    observations = [
        Observation(function, Signature((text,), "builtins.NoneType"), 1, 1.0, 2.0)
        for text in ("builtins.list[builtins.str]", "builtins.tuple[()]")
    ]
    slot = infer(function, observations).slots["words"]
    assert Renderer("m").render(slot.union) == "Sequence[str]"
    assert "a list and the empty tuple: Sequence of the elements" in slot.rules
