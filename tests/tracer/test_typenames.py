"""Type names are read from type(value) and exact built-in containers only: no user code ever runs."""

import collections
import enum

import pytest

from typeharvest.tracer.typenames import SAMPLE_SIZE, TypeNamer

M = __name__


class Plain:
    pass


class Outer:
    class Inner:
        pass


class Color(enum.Enum):
    RED = 1


class Tripwire(Exception):
    pass


class Booby:
    """Every hook a careless type reader could call raises."""

    @property
    def __class__(self):  # type: ignore[override]
        raise Tripwire("__class__ read")

    def __getattr__(self, name):
        raise Tripwire(f"__getattr__({name})")

    def __getattribute__(self, name):
        raise Tripwire(f"__getattribute__({name})")

    def __repr__(self):
        raise Tripwire("__repr__")

    def __len__(self):
        raise Tripwire("__len__")

    def __iter__(self):
        raise Tripwire("__iter__")

    def __eq__(self, other):
        raise Tripwire("__eq__")

    def __hash__(self):
        raise Tripwire("__hash__")


class BoobyList(list):
    def __len__(self):
        raise Tripwire("__len__")

    def __iter__(self):
        raise Tripwire("__iter__")

    def __getitem__(self, index):
        raise Tripwire("__getitem__")


class LyingMeta(type):
    def __getattribute__(cls, name):
        raise Tripwire(f"metaclass __getattribute__({name})")


class Lying(metaclass=LyingMeta):
    pass


def name(value, main_module=None):
    return TypeNamer(main_module).name_of(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, "builtins.int"),
        (True, "builtins.bool"),
        (1.5, "builtins.float"),
        ("s", "builtins.str"),
        (b"b", "builtins.bytes"),
        (None, "builtins.NoneType"),
        (Plain(), M + ".Plain"),
        (Color.RED, M + ".Color"),
        ([1, 2], "builtins.list[builtins.int]"),
        ([1, "a", 2], "builtins.list[builtins.int | builtins.str]"),
        ([], "builtins.list"),
        ({}, "builtins.dict"),
        ({"a": 1}, "builtins.dict[builtins.str, builtins.int]"),
        ({1, 2}, "builtins.set[builtins.int]"),
        (frozenset({"x"}), "builtins.frozenset[builtins.str]"),
        ((), "builtins.tuple[()]"),
        ((1, "a"), "builtins.tuple[builtins.int, builtins.str]"),
        (tuple(range(100)), "builtins.tuple[builtins.int, ...]"),
        ([[1], [2]], "builtins.list[builtins.list[builtins.int]]"),
        (Plain, f"builtins.type[{M}.Plain]"),
        (collections.OrderedDict(), "collections.OrderedDict"),
    ],
)
def test_values_are_named_by_their_exact_type(value, expected):
    assert name(value) == expected


def test_nested_classes_separate_module_from_qualified_name_with_a_colon():
    assert name(Outer.Inner()) == M + ":Outer.Inner"


def test_a_class_defined_in_a_function_is_named_by_its_nearest_importable_base():
    def make():
        class Local(Plain):
            pass

        return Local()

    assert name(make()) == M + ".Plain"


def test_classes_of_the_main_module_are_named_by_the_main_modules_importable_name():
    cls = type("Script", (), {"__module__": "__main__"})
    assert name(cls(), main_module="myscript") == "myscript.Script"
    assert name(cls(), main_module=None) == "builtins.object"


def test_no_special_method_or_class_property_of_the_value_is_called():
    assert name(Booby()) == M + ".Booby"
    assert name([Booby()]) == f"builtins.list[{M}.Booby]"
    assert name({"k": Booby()}) == f"builtins.dict[builtins.str, {M}.Booby]"


class Hashable:
    hashes = 0

    def __hash__(self):
        Hashable.hashes += 1
        return 1


def test_set_elements_are_named_without_hashing_or_comparing_them():
    items = {Hashable(), Hashable()}
    Hashable.hashes = 0
    assert name(items) == f"builtins.set[{M}.Hashable]"
    assert Hashable.hashes == 0


def test_a_container_subclass_is_named_by_its_class_without_being_iterated():
    assert name(BoobyList([1, 2])) == M + ".BoobyList"


def test_a_metaclass_overriding_attribute_access_is_never_consulted():
    assert name(Lying()) == M + ".Lying"
    assert name(Lying) == f"builtins.type[{M}.Lying]"


def test_a_generator_argument_is_not_advanced():
    def numbers():
        yield 1
        raise Tripwire("advanced")

    gen = numbers()
    assert name(gen) == "builtins.generator"
    assert next(gen) == 1


def test_a_huge_list_is_named_from_a_bounded_sample_that_spans_it():
    values = list(range(1_000_000))
    values[-1] = "last"
    assert name(values) == "builtins.list[builtins.int | builtins.str]"
    assert SAMPLE_SIZE < 100


def test_nesting_deeper_than_the_depth_limit_is_named_bare():
    assert name([[[[1]]]]) == "builtins.list[builtins.list[builtins.list[builtins.list]]]"
