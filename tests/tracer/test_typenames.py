"""Type names are read from type(value) and exact built-in containers only: no user code ever runs."""

import collections
import enum
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest

from typeharvest.tracer.typenames import SAMPLE_SIZE, UNKNOWN, TypeNamer, is_staticmethod

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


def test_a_record_like_dict_is_named_with_the_classes_of_values_beyond_the_first_few():
    record = {f"field{i}": i for i in range(12)}
    record["quote"] = {"currency": "EUR"}
    assert name(record) == (
        "builtins.dict[builtins.str, builtins.dict[builtins.str, builtins.str] | builtins.int]"
    )


class HashingMeta(type):
    def __hash__(cls):
        raise Tripwire("metaclass __hash__")

    def __eq__(cls, other):
        raise Tripwire("metaclass __eq__")


class Hashed(metaclass=HashingMeta):
    pass


class AlsoHashed(metaclass=HashingMeta):
    pass


def test_telling_a_dicts_value_classes_apart_never_hashes_or_compares_a_class():
    mixed = {i: Hashed() for i in range(20)}
    mixed[20] = AlsoHashed()
    assert name(mixed) == f"builtins.dict[builtins.int, {M}.AlsoHashed | {M}.Hashed]"


def test_nesting_deeper_than_the_depth_limit_is_named_bare():
    assert name([[[[1]]]]) == "builtins.list[builtins.list[builtins.list[builtins.list]]]"


class Spec:
    def method(self, x):
        return x


@pytest.mark.parametrize(
    "factory",
    [mock.Mock, mock.MagicMock, mock.NonCallableMock, mock.NonCallableMagicMock, mock.AsyncMock],
)
def test_a_mock_without_a_spec_names_no_type(factory):
    assert name(factory()) == UNKNOWN
    assert name([factory(), 1]) == "builtins.list[builtins.int]"


@pytest.mark.parametrize(
    "make",
    [
        lambda: mock.Mock(spec=Spec),
        lambda: mock.MagicMock(spec_set=Spec),
        lambda: mock.Mock(spec=Spec()),
        lambda: mock.create_autospec(Spec, instance=True),
        lambda: mock.create_autospec(Spec),
    ],
    ids=["spec", "spec_set", "spec_instance", "autospec_instance", "autospec_class"],
)
def test_a_mock_with_a_spec_is_named_by_its_spec_class(make):
    assert name(make()) == f"{M}.Spec"


def test_a_mock_specced_from_a_library_class_is_named_as_the_tracer_names_that_class():
    namer = TypeNamer()
    assert namer.name_of(mock.Mock(spec=Path)) == namer.class_name(Path)
    assert "mock" not in namer.class_name(Path)


def test_a_mock_specced_from_a_list_of_names_names_no_type():
    assert name(mock.Mock(spec=["read", "close"])) == UNKNOWN


def test_sentinels_name_no_type():
    assert name(mock.sentinel.token) == UNKNOWN
    assert name(mock.sentinel) == UNKNOWN


class CountingMock(mock.MagicMock):
    lookups = 0

    def __getattr__(self, attribute):
        CountingMock.lookups += 1
        return super().__getattr__(attribute)


def test_naming_a_mock_creates_no_child_records_no_call_and_runs_no_getattr():
    mocks = [
        mock.Mock(),
        mock.MagicMock(spec=Spec),
        mock.create_autospec(Spec, instance=True),
        mock.AsyncMock(),
        CountingMock(),
        CountingMock(spec=Spec),
    ]
    children = [dict(m._mock_children) for m in mocks]
    CountingMock.lookups = 0
    namer = TypeNamer()
    for m in mocks:
        namer.name_of(m)
        namer.name_of([m, (m,), {"k": m}])
    assert CountingMock.lookups == 0
    for m, before in zip(mocks, children, strict=True):
        assert m._mock_children == before
        assert m.mock_calls == []
        assert m.method_calls == []


def test_naming_many_mocks_leaves_the_class_cache_bounded():
    namer = TypeNamer()
    factories = [mock.Mock, mock.MagicMock, mock.AsyncMock, lambda: mock.NonCallableMock(spec=Spec)]
    for factory in factories:
        namer.name_of(factory())
    size = len(namer._classes)
    for i in range(10_000):
        namer.name_of(factories[i % len(factories)]())
    assert len(namer._classes) == size


def test_naming_never_imports_unittest_mock():
    probe = (
        "import sys\n"
        "from typeharvest.tracer.typenames import TypeNamer\n"
        "TypeNamer().name_of([object(), 1, {'a': (2.0,)}])\n"
        "print('unittest.mock' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout == "False\n"


class Host:
    @staticmethod
    def static(x):
        return x

    @classmethod
    def klass(cls):
        return cls

    def method(self):
        return self

    class Nested:
        @staticmethod
        def static(x):
            return x


class LyingHost(metaclass=LyingMeta):
    @staticmethod
    def static(x):
        return x


def test_static_methods_are_told_apart_by_their_class_dict_without_running_class_code():
    namespace = globals()
    assert is_staticmethod(namespace, "Host.static")
    assert is_staticmethod(namespace, "Host.Nested.static")
    assert is_staticmethod(namespace, "LyingHost.static")
    assert not is_staticmethod(namespace, "Host.klass")
    assert not is_staticmethod(namespace, "Host.method")
    assert not is_staticmethod(namespace, "name")
    assert not is_staticmethod(namespace, "Missing.static")
    assert not is_staticmethod(namespace, "name.static")
    assert not is_staticmethod(namespace, "make.<locals>.Local.static")


def test_a_container_class_named_on_its_own_still_has_its_elements_named_later():
    namer = TypeNamer()
    assert namer.class_name(list) == "builtins.list"
    assert namer.class_name(dict) == "builtins.dict"
    assert namer.name_of([1]) == "builtins.list[builtins.int]"
    assert namer.name_of({"a": 1}) == "builtins.dict[builtins.str, builtins.int]"


def test_a_small_and_a_large_mapping_name_the_same_classes():
    small = {"a": 1, "b": "x", "c": None}
    large = {**small, **{f"k{i}": 1 for i in range(20)}}
    expected = "builtins.dict[builtins.str, builtins.NoneType | builtins.int | builtins.str]"
    assert name(small) == name(large) == expected
