"""Name the type of a live value without running a line of the host program's code.

Why so careful: the tracer runs inside production requests. ``isinstance`` consults a user-defined
``__class__``, ``len``/iteration call ``__len__``/``__iter__``, attribute access runs properties and
``__getattr__``, and a metaclass may override ``__module__`` or ``__qualname__``. Every read here goes through
``type(value)`` and the C-level descriptors of ``type`` itself, and containers are only looked into when
their type is *exactly* a built-in container, whose C methods cannot be overridden.

The result is a type string: ``module.QualName`` (``module:Outer.Inner`` when the qualified name has a dot),
optionally parameterised: ``builtins.list[builtins.int | builtins.str]``, ``builtins.tuple[builtins.int,
...]``. Element types are a sorted, de-duplicated union joined by ``" | "``. A container with nothing to
sample (empty, or past the depth limit) is named bare: ``builtins.list``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Final, cast

_type_module: Final[Callable[[type], object]] = type.__dict__["__module__"].__get__
_type_qualname: Final[Callable[[type], object]] = type.__dict__["__qualname__"].__get__
_type_mro: Final[Callable[[type], tuple[type, ...]]] = type.__dict__["__mro__"].__get__

#: How many elements of a container are looked at: a list of a million costs what a list of eight does.
SAMPLE_SIZE: Final = 8
#: How deep nested containers are looked into.
MAX_DEPTH: Final = 3
#: Tuples up to this length are named element by element; longer ones as ``tuple[X, ...]``.
FIXED_TUPLE_MAX: Final = 6

UNION_SEPARATOR: Final = " | "


class TypeNamer:
    """Turns values into type strings; holds the little configuration that naming needs.

    ``main_module`` is the importable name of the program's ``__main__`` module (a script run as
    ``python app.py`` defines its classes in ``__main__``, which no annotation can import).
    """

    def __init__(self, main_module: str | None = None) -> None:
        self.main_module = main_module
        self._class_names: dict[type, str] = {}

    def name_of(self, value: object) -> str:
        """The type string of ``value``: the hot path of every traced call."""
        return self._name(value, MAX_DEPTH)

    def class_name(self, cls: type) -> str:
        """The importable, fully qualified name of a class (cached: classes are few, calls many)."""
        try:
            return self._class_names[cls]
        except KeyError:
            pass
        except TypeError:  # an unhashable metaclass instance: name it without the cache
            return self._compute_class_name(cls)
        name = self._class_names[cls] = self._compute_class_name(cls)
        return name

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
        reader = _CONTAINER_READERS.get(cls)
        if reader is not None:
            return reader(self, value, depth)
        if type in _type_mro(cls):
            # ``value`` is itself a class.
            return f"builtins.type[{self.class_name(cast(type, value))}]"
        return self.class_name(cls)

    def _union(self, values: Iterable[object], depth: int) -> str:
        names = {self._name(item, depth) for item in values}
        return UNION_SEPARATOR.join(sorted(names))


def _spread(size: int) -> list[int]:
    """Indices of at most SAMPLE_SIZE elements spread evenly over a sequence, first and last included."""
    count = min(size, SAMPLE_SIZE)
    if count <= 1:
        return [0][:count]
    return [i * (size - 1) // (count - 1) for i in range(count)]


# The readers below are only called for values whose type is *exactly* the container (the dispatch is on
# ``type(value)``), so len(), indexing and iteration run the C implementation and never user code.


def _read_list(namer: TypeNamer, value: object, depth: int) -> str:
    items = cast("list[object]", value)
    size = len(items)
    if size == 0 or depth == 0:
        return "builtins.list"
    sample = [items[i] for i in _spread(size)]
    return f"builtins.list[{namer._union(sample, depth - 1)}]"


def _read_tuple(namer: TypeNamer, value: object, depth: int) -> str:
    items = cast("tuple[object, ...]", value)
    size = len(items)
    if depth == 0:
        return "builtins.tuple"
    if size == 0:
        return "builtins.tuple[()]"
    if size <= FIXED_TUPLE_MAX:
        inner = ", ".join(namer._name(items[i], depth - 1) for i in range(size))
        return f"builtins.tuple[{inner}]"
    sample = [items[i] for i in _spread(size)]
    return f"builtins.tuple[{namer._union(sample, depth - 1)}, ...]"


def _read_set(namer: TypeNamer, value: object, depth: int) -> str:
    name = "builtins.set" if type(value) is set else "builtins.frozenset"
    items = cast("frozenset[object]", value)
    # Iterating a set walks its hash table: no __hash__ or __eq__ of the elements runs.
    if len(items) == 0 or depth == 0:
        return name
    sample = itertools.islice(items, SAMPLE_SIZE)
    return f"{name}[{namer._union(sample, depth - 1)}]"


def _read_dict(namer: TypeNamer, value: object, depth: int) -> str:
    mapping = cast("dict[object, object]", value)
    if len(mapping) == 0 or depth == 0:
        return "builtins.dict"
    items = list(itertools.islice(mapping.items(), SAMPLE_SIZE))
    keys = namer._union((k for k, _ in items), depth - 1)
    values = namer._union((v for _, v in items), depth - 1)
    return f"builtins.dict[{keys}, {values}]"


_CONTAINER_READERS: Final[dict[type, Callable[[TypeNamer, object, int], str]]] = {
    list: _read_list,
    tuple: _read_tuple,
    set: _read_set,
    frozenset: _read_set,
    dict: _read_dict,
}
