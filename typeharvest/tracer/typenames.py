"""Name the type of a live value without running a line of the host program's code.

Why so careful: the tracer runs inside production requests. ``isinstance`` consults a user-defined
``__class__``, ``len``/iteration call ``__len__``/``__iter__``, attribute access runs properties and
``__getattr__``, and a metaclass may override ``__module__`` or ``__qualname__``. Every read here goes through
``type(value)`` and the C-level descriptors of ``type`` itself, and containers are only looked into when
their type is *exactly* a built-in container, whose C methods cannot be overridden.

The result is a type string: ``module.QualName`` (``module:Outer.Inner`` when the qualified name has a dot),
optionally parameterised: ``builtins.list[builtins.int | builtins.str]``, ``builtins.tuple[builtins.int,
...]``. Element types are a sorted, de-duplicated union joined by ``" | "``. A container with nothing to
sample (empty, or past the depth limit) is named bare: ``builtins.list``. The empty string (``UNKNOWN``)
means "nothing to say": an unevaluated lazy object, whose type cannot be known without evaluating it.

Test doubles never name a type of their own: a ``unittest.mock`` mock (``Mock``, ``MagicMock``,
``NonCallableMock``, ``AsyncMock`` and subclasses) is named by its spec class (``Mock(spec=C)``,
``create_autospec(C)``) or is ``UNKNOWN`` without one, and a ``mock.sentinel`` object is ``UNKNOWN``.
``unittest.mock`` is never imported here: no mock can exist before it is.

Caches are keyed by ``id(cls)``, never by the class itself: hashing or comparing a class runs its
metaclass's ``__hash__``/``__eq__``, which may be user code.
"""

from __future__ import annotations

import functools
import itertools
import operator
import sys
import types
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final, cast

_type_module: Final[Callable[[type], object]] = type.__dict__["__module__"].__get__
_type_qualname: Final[Callable[[type], object]] = type.__dict__["__qualname__"].__get__
_type_mro: Final[Callable[[type], tuple[type, ...]]] = type.__dict__["__mro__"].__get__
_type_dict: Final[Callable[[type], dict[str, object]]] = type.__dict__["__dict__"].__get__
_module_dict: Final[Callable[[types.ModuleType], dict[str, object]]] = vars(types.ModuleType)[
    "__dict__"
].__get__
_object_getattribute: Final = object.__getattribute__

#: How many elements of a container are named: a list of a million costs what a list of eight does.
SAMPLE_SIZE: Final = 8
#: How many of a mapping's first items are looked at for a class the named ones lack: a record-like dict
#: holds values of many classes, and only its first items can be reached without walking the table.
SCAN_SIZE: Final = 32
#: How deep nested containers are looked into.
MAX_DEPTH: Final = 3
#: Tuples up to this length are named element by element; longer ones as ``tuple[X, ...]``.
FIXED_TUPLE_MAX: Final = 6

UNION_SEPARATOR: Final = " | "
#: The name of a value whose type cannot be read without running its code.
UNKNOWN: Final = ""

_MISSING: Final = object()

_Reader = Callable[["TypeNamer", object, int], str]


class TypeNamer:
    """Turns values into type strings; holds the little configuration that naming needs.

    ``main_module`` is the importable name of the program's ``__main__`` module (a script run as
    ``python app.py`` defines its classes in ``__main__``, which no annotation can import).
    """

    def __init__(self, main_module: str | None = None) -> None:
        self.main_module = main_module
        # id(cls) -> (cls, its name, its instances' reader or None); holding cls keeps the id its own.
        self._classes: dict[int, tuple[type, str, _Reader | None]] = {}
        # id(cls) -> name, for the classes named by their name alone (kept alive in ``_classes``): the
        # answer for most values, in one lookup.
        self._plain: dict[int, str] = {}

    def name_of(self, value: object) -> str:
        """The type string of ``value``: the hot path of every traced call."""
        return self._name(value, MAX_DEPTH)

    def class_name(self, cls: type) -> str:
        """The importable, fully qualified name of a class."""
        return self._class(cls)[1]

    def _class(self, cls: type) -> tuple[type, str, _Reader | None]:
        known = self._classes.get(id(cls))
        if known is None:
            reader = _special_reader(cls)
            known = (cls, self._compute_class_name(cls), reader)
            # mock makes a class per instance: caching those would grow without bound (and keep every
            # mock alive), so they are looked at afresh each time; it only costs test runs.
            if reader is not _read_mock:
                self._classes[id(cls)] = known
                if reader is None and id(cls) not in _CONTAINER_READERS:
                    self._plain[id(cls)] = known[1]
        return known

    def _compute_class_name(self, cls: type) -> str:
        for candidate in _type_mro(cls):
            module = _type_module(candidate)
            qualname = _type_qualname(candidate)
            if type(module) is not str or type(qualname) is not str:
                continue
            if "<locals>" in qualname:
                # Defined inside a function: not importable, so name the nearest base that is.
                continue
            if module == "__main__":
                if self.main_module is None:
                    continue
                module = self.main_module
            return f"{module}:{qualname}" if "." in qualname else f"{module}.{qualname}"
        return "builtins.object"

    def _name(self, value: object, depth: int) -> str:
        cls = type(value)
        plain = self._plain.get(id(cls))
        if plain is not None:
            return plain
        reader = _CONTAINER_READERS.get(id(cls))
        if reader is not None:
            return reader(self, value, depth)
        _, name, special = self._class(cls)
        if special is not None:
            return special(self, value, depth)
        return name

    def _union(self, values: Iterable[object], depth: int) -> str:
        names = {self._name(item, depth) for item in values}
        if len(names) == 1:
            return names.pop()  # one class, or all unknown: UNKNOWN either way
        names.discard(UNKNOWN)
        return UNION_SEPARATOR.join(sorted(names))


def is_async_generator_wrapper(value: object) -> bool:
    """Whether ``value`` is how an async generator's own ``yield`` reaches the interpreter's hooks."""
    cls = type(value)
    return _type_qualname(cls) == "async_generator_wrapped_value" and _type_module(cls) == "builtins"


def is_staticmethod(namespace: dict[str, object], qualname: str) -> bool:
    """Whether ``qualname`` names a ``@staticmethod`` of a class found in a module's ``namespace``.

    Why: a static method's code object looks like a method's, but its first parameter is no receiver; only
    the class's own ``__dict__`` tells them apart. The classes are read through ``type``'s C getsets, so no
    metaclass hook, descriptor or ``__getattr__`` runs. A class that cannot be reached from the module's
    globals (defined in a function, or not yet bound to its name while its body runs) gives False.
    """
    head, *path = qualname.split(".")
    if not path or "<locals>" in path:
        return False
    owner = dict.get(namespace, head)
    for name in path:
        if not _is_class(owner):
            return False
        owner = _type_dict(cast(type, owner)).get(name)
    return any(c is staticmethod for c in _type_mro(type(owner)))


@functools.lru_cache(maxsize=1024)
def _spread(size: int) -> tuple[int, ...]:
    """Indices of at most SAMPLE_SIZE elements spread evenly over a sequence, first and last included."""
    count = min(size, SAMPLE_SIZE)
    if count <= 1:
        return (0,)[:count]
    return tuple(i * (size - 1) // (count - 1) for i in range(count))


def _pick(scanned: list[object]) -> list[object]:
    """The elements to name: SAMPLE_SIZE spread over ``scanned``, and the first of each class they lack.

    Classes are told apart by ``id(type(item))``: hashing a class could run a metaclass ``__hash__``.
    """
    picked = list(map(scanned.__getitem__, _spread(len(scanned))))
    if len(scanned) <= SAMPLE_SIZE:
        return picked
    if all(map(operator.is_, map(type, scanned), itertools.repeat(type(picked[0])))):
        return picked  # the common case, one class: said without building a set
    seen = set(map(id, map(type, picked)))
    if len(set(map(id, map(type, scanned)))) > len(seen):
        for item in scanned:
            key = id(type(item))
            if key not in seen:
                seen.add(key)
                picked.append(item)
    return picked


# The container readers are only called for values whose type is *exactly* the container (the dispatch is
# on ``id(type(value))``), so len(), indexing and iteration run the C implementation and never user code.


def _read_list(namer: TypeNamer, value: object, depth: int) -> str:
    items = cast("list[object]", value)
    size = len(items)
    if size == 0 or depth == 0:
        return "builtins.list"
    sample = items if size <= SAMPLE_SIZE else list(map(items.__getitem__, _spread(size)))
    return _parameterised("builtins.list", namer._union(sample, depth - 1))


def _parameterised(name: str, elements: str, variadic: bool = False) -> str:
    """``name[elements]``, or the bare name when no element could be named (all unevaluated lazy objects)."""
    if not elements:
        return name
    return f"{name}[{elements}, ...]" if variadic else f"{name}[{elements}]"


def _read_tuple(namer: TypeNamer, value: object, depth: int) -> str:
    items = cast("tuple[object, ...]", value)
    size = len(items)
    if depth == 0:
        return "builtins.tuple"
    if size == 0:
        return "builtins.tuple[()]"
    if size <= FIXED_TUPLE_MAX:
        inner = [namer._name(items[i], depth - 1) for i in range(size)]
        if UNKNOWN in inner:
            return "builtins.tuple"
        return f"builtins.tuple[{', '.join(inner)}]"
    sample = list(map(items.__getitem__, _spread(size)))
    return _parameterised("builtins.tuple", namer._union(sample, depth - 1), variadic=True)


def _iterable_reader(name: str) -> _Reader:
    """A reader for a C container whose iteration is side-effect free (sets, deques): its first elements."""

    def read(namer: TypeNamer, value: object, depth: int) -> str:
        items = cast("deque[object]", value)
        if len(items) == 0 or depth == 0:
            return name
        # Iterating a set walks its hash table: no __hash__ or __eq__ of the elements runs.
        return _parameterised(name, namer._union(itertools.islice(items, SAMPLE_SIZE), depth - 1))

    return read


def _mapping_reader(name: str) -> _Reader:
    """A reader for a C mapping (dict, defaultdict, OrderedDict): its first items, the only ones in reach."""

    def read(namer: TypeNamer, value: object, depth: int) -> str:
        mapping = cast("dict[object, object]", value)
        if len(mapping) == 0 or depth == 0:
            return name
        if len(mapping) <= SAMPLE_SIZE:
            keys = namer._union(dict.keys(mapping), depth - 1)
            values = namer._union(dict.values(mapping), depth - 1)
        else:
            keys = namer._union(_pick(list(itertools.islice(dict.keys(mapping), SCAN_SIZE))), depth - 1)
            values = namer._union(_pick(list(itertools.islice(dict.values(mapping), SCAN_SIZE))), depth - 1)
        if not keys or not values:
            return name
        return f"{name}[{keys}, {values}]"

    return read


_CONTAINER_READERS: Final[dict[int, _Reader]] = {
    id(list): _read_list,
    id(tuple): _read_tuple,
    id(set): _iterable_reader("builtins.set"),
    id(frozenset): _iterable_reader("builtins.frozenset"),
    id(deque): _iterable_reader("collections.deque"),
    id(dict): _mapping_reader("builtins.dict"),
    id(defaultdict): _mapping_reader("collections.defaultdict"),
    id(OrderedDict): _mapping_reader("collections.OrderedDict"),
}


def _instance_attribute(value: object, name: str) -> object:
    """``value.name`` read from the instance itself, or _MISSING when reading it could run code.

    Only a plain instance attribute (or a class attribute without ``__get__``) is read: a property, any
    other descriptor, ``__getattribute__`` and ``__getattr__`` overrides never run.
    """
    for klass in _type_mro(type(value)):
        attribute = _type_dict(klass).get(name, _MISSING)
        if attribute is not _MISSING:
            if any("__get__" in _type_dict(k) for k in _type_mro(type(attribute))):
                return _MISSING
            break
    try:
        return _object_getattribute(value, name)
    except AttributeError:
        return _MISSING


def _read_lazy_object(namer: TypeNamer, value: object, depth: int) -> str:
    """Django's LazyObject (``request.user``): the wrapped object's type once evaluated, else unknown."""
    wrapped = _instance_attribute(value, "_wrapped")
    if wrapped is _MISSING or wrapped is None or type(wrapped) is object:  # ``empty`` is a bare object()
        return UNKNOWN
    return namer._name(wrapped, depth)


def _read_queryset(namer: TypeNamer, value: object, depth: int) -> str:
    """Django's QuerySet as ``QuerySet[Model]``, from its ``model`` attribute: no query is run."""
    name = namer.class_name(type(value))
    model = _instance_attribute(value, "model")
    if model is _MISSING or not any(c is type for c in _type_mro(type(model))):
        return name
    return f"{name}[{namer.class_name(cast(type, model))}]"


def _read_class(namer: TypeNamer, value: object, depth: int) -> str:
    return f"builtins.type[{namer.class_name(cast(type, value))}]"


#: Classes whose instances get a reader of their own, by the (module, qualname) of a class in their MRO.
_SPECIAL_BASES: Final[dict[tuple[str, str], _Reader]] = {
    ("django.utils.functional", "LazyObject"): _read_lazy_object,
    ("django.db.models.query", "QuerySet"): _read_queryset,
}


def _is_class(value: object) -> bool:
    """Whether ``value`` is a class, decided from the MRO of its type (``isinstance`` may run user code)."""
    return any(c is type for c in _type_mro(type(value)))


@dataclass(frozen=True, slots=True)
class _MockClasses:
    """The classes of the ``unittest.mock`` module object currently in ``sys.modules``."""

    module: object
    mock: type | None  # NonCallableMock, the base of every mock
    sentinels: tuple[type, ...]  # _Sentinel, _SentinelObject
    instance_dict: Callable[[object], object] | None  # the C getter of a mock's instance ``__dict__``


_NO_MOCK_CLASSES: Final = _MockClasses(None, None, (), None)
_mock_classes_seen = _NO_MOCK_CLASSES


def _mock_classes() -> _MockClasses:
    """The mock classes to recognise, found (never imported) in ``sys.modules``; cached per module object.

    Why so roundabout: importing ``unittest.mock`` would cost every production process, and no mock can
    exist before it is imported. Everything is read through C-level descriptors, so a module replaced by a
    lazy proxy, or a metaclass overriding attribute access, runs none of its code here.
    """
    global _mock_classes_seen
    module = sys.modules.get("unittest.mock")
    if module is _mock_classes_seen.module:
        return _mock_classes_seen
    if module is None or not any(c is types.ModuleType for c in _type_mro(type(module))):
        return _NO_MOCK_CLASSES
    namespace = _module_dict(module)
    mock, *sentinels = [
        dict.get(namespace, name) for name in ("NonCallableMock", "_Sentinel", "_SentinelObject")
    ]
    if not _is_class(mock):
        return _NO_MOCK_CLASSES  # still being imported: look again next time
    mock_class = cast(type, mock)
    found = _MockClasses(
        module,
        mock_class,
        tuple(cast(type, c) for c in sentinels if _is_class(c)),
        _instance_dict_getter(mock_class),
    )
    _mock_classes_seen = found
    return found


def _instance_dict_getter(cls: type) -> Callable[[object], object] | None:
    """The C ``__dict__`` getset of ``cls``'s instances (mock's ``Base``), as a function of an instance.

    Why not ``value.__dict__``, ``vars(value)`` or ``object.__getattribute__(value, "__dict__")``: the first
    two may reach a mock's ``__getattr__``, and all three would run a ``__dict__`` property that a subclass
    defines. This getset is ``PyObject_GenericGetDict``: it reads the instance's dict and nothing else.
    (``object`` itself has no ``__dict__`` getset: its instances have no dict.)
    """
    for klass in _type_mro(cls):
        descriptor = _type_dict(klass).get("__dict__")
        if descriptor is not None:
            if type(descriptor) is not types.GetSetDescriptorType:
                return None
            return cast("Callable[[object], object]", descriptor.__get__)
    return None


def _is_mock_class(cls: type, mocks: _MockClasses) -> bool:
    """Whether ``cls`` is a mock's class (mock derives a new one for every instance)."""
    return mocks.mock is not None and any(c is mocks.mock for c in _type_mro(cls))


def _read_mock(namer: TypeNamer, value: object, depth: int) -> str:
    """A mock stands for its spec class, if it was given one; a bare mock says nothing about the type."""
    mocks = _mock_classes()
    if mocks.instance_dict is None:
        return UNKNOWN
    instance_dict = mocks.instance_dict(value)
    if type(instance_dict) is not dict:
        return UNKNOWN
    spec = dict.get(instance_dict, "_spec_class")
    if spec is None or not _is_class(spec) or _is_mock_class(cast(type, spec), mocks):
        return UNKNOWN
    return namer.class_name(cast(type, spec))


def _read_unknown(namer: TypeNamer, value: object, depth: int) -> str:
    """A value that stands for no type of the program's (``mock.sentinel.x``): nothing to say."""
    return UNKNOWN


def _special_reader(cls: type) -> _Reader | None:
    mro = _type_mro(cls)
    if any(c is type for c in mro):
        return _read_class  # the value is itself a class
    mocks = _mock_classes()
    if mocks.mock is not None:
        if any(c is mocks.mock for c in mro):
            return _read_mock
        if any(c is s for c in mro for s in mocks.sentinels):
            return _read_unknown
    for candidate in mro:
        module, qualname = _type_module(candidate), _type_qualname(candidate)
        if type(module) is not str or type(qualname) is not str:
            continue
        reader = _SPECIAL_BASES.get((module, qualname))
        if reader is not None:
            if reader is _read_queryset and candidate is not cls:
                return None  # a QuerySet subclass is not generic: its own name says it all
            return reader
    return None
