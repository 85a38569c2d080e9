"""Comparing a tool's annotation of a slot with the project's own (the ground truth).

Standard library only. ``python run.py --self-test`` runs :data:`EXAMPLES` through :func:`verdict`.

**Normal form** (both sides, before any comparison): names lose their module prefix (``t.Optional``,
``typing.List``, ``collections.abc.Sequence``, ``click.core.Context`` → the last component); the
typing aliases become the builtins (``List`` → ``list``, ``Dict`` → ``dict``, ``Set`` → ``set`` — so a
``collections.abc.Set`` is read as ``set`` too —, ``Tuple``, ``Type``, ``FrozenSet``, ``DefaultDict``,
``Deque``, ``Text`` → ``str``, ``NoneType`` → ``None``); ``Optional[X]``, ``Union[...]`` and ``|`` become
one flat union, de-duplicated, sorted, ``None`` last, with its ``Literal`` members merged; a quoted
annotation is parsed; ``Annotated[X, ...]`` is ``X``; a type alias of the project is expanded; any
type variable (``T``, a ``ParamSpec``, a PEP 695 parameter) is spelled ``TypeVar``.

**exact**: the normal forms are equal. **compatible**: see :func:`compatible`. **wrong**: annotated,
neither.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import collections
import collections.abc
import contextlib
import dataclasses
import datetime
import decimal
import enum
import fractions
import gettext
import io
import logging
import numbers
import os
import pathlib
import re
import subprocess
import tempfile
import threading
import types
import typing
from collections.abc import Mapping, Set

UNION = "|"
PARAMS = "[]"
NUMERIC_TOWER = ("bool", "int", "float", "complex")
TOP = frozenset({"Any", "object", "TypeVar"})
SPELLINGS = {
    "List": "list",
    "Dict": "dict",
    "Set": "set",
    "FrozenSet": "frozenset",
    "Tuple": "tuple",
    "Type": "type",
    "DefaultDict": "defaultdict",
    "Deque": "deque",
    "Text": "str",
    "NoneType": "None",
    "Never": "NoReturn",
    "ContextManager": "AbstractContextManager",
    "AsyncContextManager": "AbstractAsyncContextManager",
}
WELL_KNOWN_TYPEVARS = frozenset({"AnyStr"})
# typeshed's aliases, which projects import from ``_typeshed`` under ``if TYPE_CHECKING:``.
TYPESHED_ALIASES = {
    "ReadableBuffer": "Buffer",
    "WriteableBuffer": "Buffer",
    "ReadOnlyBuffer": "Buffer",
    "StrPath": "str | PathLike[str]",
    "BytesPath": "bytes | PathLike[bytes]",
    "StrOrBytesPath": "str | bytes | PathLike[str] | PathLike[bytes]",
}
# Type forms whose runtime value is a ``bool``: all a tracer can see.
BOOLEAN_FORMS = frozenset({"TypeGuard", "TypeIs"})
GENERATOR_ARITY = {"Generator": 3, "AsyncGenerator": 2}
MAPPINGS = frozenset({"dict", "Mapping", "MutableMapping", "defaultdict", "OrderedDict", "ChainMap"})
# Subtype facts that runtime classes do not state (typing's IO classes are not the io module's bases).
EXTRA_BASES: dict[str, tuple[str, ...]] = {
    "TextIOWrapper": ("TextIO",),
    "StringIO": ("TextIO",),
    "TextIOBase": ("TextIO",),
    "BytesIO": ("BinaryIO",),
    "BufferedReader": ("BinaryIO",),
    "BufferedWriter": ("BinaryIO",),
    "BufferedRandom": ("BinaryIO",),
    "BufferedRWPair": ("BinaryIO",),
    "BufferedIOBase": ("BinaryIO",),
    "FileIO": ("BinaryIO",),
    "RawIOBase": ("BinaryIO",),
}
RUNTIME_NAMES: dict[str, type] = {
    "function": types.FunctionType,
    "builtin_function_or_method": types.BuiltinFunctionType,
    "method": types.MethodType,
    "generator": types.GeneratorType,
    "coroutine": types.CoroutineType,
}
CLASS_HOMES: tuple[types.ModuleType, ...] = (
    builtins,
    collections.abc,
    collections,
    contextlib,
    gettext,
    argparse,
    logging,
    tempfile,
    subprocess,
    threading,
    typing,
    pathlib,
    io,
    os,
    datetime,
    decimal,
    fractions,
    numbers,
    re,
    types,
    enum,
)


@dataclasses.dataclass(frozen=True)
class Type:
    """A normalised type expression: a name with optional arguments (``None`` = bare).

    A union is named ``|``; a ``Callable``'s parameter list is named ``[]``; a ``Literal``'s members are
    their source spelling (``'sys'``, ``Sentinel.UNSET``).
    """

    name: str
    args: tuple[Type, ...] | None = None

    def __str__(self) -> str:
        if self.name == UNION and self.args:
            return " | ".join(str(arg) for arg in self.args)
        if self.name == PARAMS:
            return "[" + ", ".join(str(arg) for arg in self.args or ()) + "]"
        if self.args is None:
            return self.name
        return f"{self.name}[{', '.join(str(arg) for arg in self.args) or '()'}]"


NONE = Type("None")
ANY = Type("Any")


@dataclasses.dataclass(frozen=True)
class Names:
    """What the names of one annotation mean: its module's type variables and the project's aliases."""

    typevars: frozenset[str] = frozenset()
    aliases: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Context:
    """What :func:`compatible` knows about the slot: the class hierarchy and the function."""

    class_bases: Mapping[str, Set[str]] = dataclasses.field(default_factory=dict)
    enclosing_class: str | None = None
    generator_return: bool = False


def _last_name(node: ast.expr) -> str | None:
    """The last component of a dotted name, or None if the node is no name."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def union(members: list[Type]) -> Type:
    """The normal union of ``members``: flat, merged Literals, de-duplicated, sorted, None last."""
    flat: list[Type] = []
    for member in members:
        flat.extend(member.args or () if member.name == UNION else (member,))
    literals = sorted(
        {str(value): value for m in flat if m.name == "Literal" for value in m.args or ()}.items()
    )
    rest = {str(member): member for member in flat if member.name != "Literal"}
    merged = [rest[key] for key in sorted(rest, key=lambda key: (key == "None", key))]
    if literals:
        merged.insert(0, Type("Literal", tuple(value for _, value in literals)))
    return merged[0] if len(merged) == 1 else Type(UNION, tuple(merged))


def _literal(items: list[ast.expr]) -> Type:
    """``Literal[...]`` with its members' source spelling, sorted (an enum member keeps ``Class.NAME``)."""
    values: list[Type] = []
    for item in items:
        if isinstance(item, ast.Attribute) and isinstance(item.value, ast.Attribute | ast.Name):
            values.append(Type(f"{_last_name(item.value)}.{item.attr}"))
        else:
            values.append(Type(ast.unparse(item)))
    return union([Type("Literal", (value,)) for value in values])


def _convert(node: ast.expr, names: Names, depth: int) -> Type:
    """One ast expression → its normal form (see the module docstring)."""
    if isinstance(node, ast.Constant):
        if node.value is None:
            return NONE
        if node.value is Ellipsis:
            return Type("...")
        if isinstance(node.value, str):
            return parse(node.value, names, depth + 1)
        return Type(repr(node.value))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return union([_convert(node.left, names, depth), _convert(node.right, names, depth)])
    if isinstance(node, ast.List):
        return Type(PARAMS, tuple(_convert(item, names, depth) for item in node.elts))
    if isinstance(node, ast.Subscript):
        return _subscript(node, names, depth)
    name = _last_name(node)
    if name is None:
        return Type(ast.unparse(node))
    if (
        isinstance(node, ast.Attribute)
        and name in {"args", "kwargs"}
        and _last_name(node.value) in names.typevars
    ):
        return Type("TypeVar")  # a ParamSpec's P.args / P.kwargs
    if name in names.typevars or name in WELL_KNOWN_TYPEVARS:
        return Type("TypeVar")
    if name in names.aliases and depth < 8:
        return parse(names.aliases[name], names, depth + 1)
    if name in TYPESHED_ALIASES and depth < 8:
        return parse(TYPESHED_ALIASES[name], names, depth + 1)
    return Type(SPELLINGS.get(name, name))


def _subscript(node: ast.Subscript, names: Names, depth: int) -> Type:
    """``Origin[args]``, with Optional, Union, Annotated and Literal resolved."""
    origin = _convert(node.value, names, depth)
    items = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
    if origin.name == "Literal":
        return _literal(items)
    if origin.name == "Annotated":
        return _convert(items[0], names, depth)
    args = [_convert(item, names, depth) for item in items]
    if origin.name == "Optional":
        return union([*args, NONE])
    if origin.name == "Union":
        return union(args)
    if isinstance(node.slice, ast.Tuple) and not node.slice.elts:
        return Type(origin.name, ())
    if origin.name in GENERATOR_ARITY:  # PEP 696 defaults: Generator[Y] is Generator[Y, None, None]
        args += [NONE] * (GENERATOR_ARITY[origin.name] - len(args))
    return Type(origin.name, tuple(args))


def parse(text: str, names: Names = Names(), depth: int = 0) -> Type:
    """The normal form of an annotation's source text (unparsable text is kept as an opaque name)."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return Type(text)
    return _convert(node, names, depth)


def _runtime_class(name: str) -> type | None:
    """The standard-library class a bare name most likely means, or None."""
    if name in RUNTIME_NAMES:
        return RUNTIME_NAMES[name]
    for module in CLASS_HOMES:
        candidate = getattr(module, name, None)
        if isinstance(candidate, type):
            return candidate
    return None


def _nominal_subtype(sub: str, sup: str, context: Context) -> bool:
    """Whether class ``sub`` is ``sup`` or derives from it: the project's own class statements, then
    the standard library's classes (``issubclass``, so ABC registration counts: ``list`` is a
    ``Sequence``), then :data:`EXTRA_BASES`."""
    target = _runtime_class(sup)
    frontier, seen = [sub], set()
    while frontier:
        name = frontier.pop()
        if name == sup:
            return True
        if name in seen:
            continue
        seen.add(name)
        runtime = _runtime_class(name)
        if runtime is not None and target is not None:
            try:
                if issubclass(runtime, target):
                    return True
            except TypeError:
                pass
        frontier.extend(context.class_bases.get(name, ()))
        frontier.extend(EXTRA_BASES.get(name, ()))
    return False


def _element(generic: Type) -> Type | None:
    """What iterating ``generic`` gives, for comparing it with a one-argument ABC; None if unknown."""
    args = generic.args or ()
    if generic.name == "str":
        return Type("str")
    if generic.name == "tuple":
        if len(args) == 2 and args[1].name == "...":
            return args[0]
        return union(list(args)) if args else None
    if generic.name == "Counter" and args:
        return args[0]
    return args[0] if args else None


def _mapping_args(generic: Type) -> tuple[Type, Type] | None:
    """(key, value) of a mapping-like generic, or None."""
    args = generic.args or ()
    if generic.name == "Counter" and len(args) == 1:
        return args[0], Type("int")
    if generic.name in MAPPINGS | {"Counter"} and len(args) == 2:
        return args[0], args[1]
    return None


def _as_generator(annotation: Type) -> Type:
    """For a generator's return: ``Iterator[Y]``, ``Iterable[Y]`` and ``Generator[Y, None, None]`` are
    one thing (and so are their async forms), spelled as the Generator."""
    args = annotation.args or ()
    plain_tail = all(arg.name in {"None", "Any"} for arg in args[1:])
    if annotation.name in {"Iterator", "Iterable"} and len(args) == 1:
        return Type("Generator", (args[0], NONE, NONE))
    if annotation.name == "Generator" and len(args) == 3 and plain_tail:
        return Type("Generator", (args[0], NONE, NONE))
    if annotation.name in {"AsyncIterator", "AsyncIterable"} and len(args) == 1:
        return Type("AsyncGenerator", (args[0], NONE))
    if annotation.name == "AsyncGenerator" and len(args) == 2 and plain_tail:
        return Type("AsyncGenerator", (args[0], NONE))
    return annotation


def _arguments_compatible(tool: Type, truth: Type, context: Context) -> bool:
    """The arguments of two nominally related generics (``truth`` is the same class or a base)."""
    inner = dataclasses.replace(context, generator_return=False)

    def sub(a: Type, b: Type) -> bool:
        return _subtype(a, b, inner, nested=True)

    def unparameterised(annotation: Type) -> bool:
        return annotation.args is None or all(arg.name == "Any" for arg in annotation.args)

    if unparameterised(truth) or unparameterised(tool):
        return True
    tool_args, truth_args = tool.args or (), truth.args or ()
    if tool.name == truth.name == "tuple":
        element = _element(truth)
        if len(truth_args) == 2 and truth_args[1].name == "..." and element is not None:
            tool_element = _element(tool)
            return tool_element is None or sub(tool_element, element)
        return len(tool_args) == len(truth_args) and all(map(sub, tool_args, truth_args))
    if tool.name == truth.name == "Callable" and len(tool_args) == len(truth_args) == 2:
        params_tool, params_truth = tool_args[0], truth_args[0]
        if params_tool.name == PARAMS and params_truth.name == PARAMS:
            pairs = list(zip(params_tool.args or (), params_truth.args or (), strict=False))
            same_arity = len(params_tool.args or ()) == len(params_truth.args or ())
            if not same_arity or not all(sub(a, b) or sub(b, a) for a, b in pairs):
                return False
        return sub(tool_args[1], truth_args[1])
    if tool.name == truth.name:
        return len(tool_args) == len(truth_args) and all(map(sub, tool_args, truth_args))
    if truth.name in MAPPINGS:
        pairs_tool, pairs_truth = _mapping_args(tool), _mapping_args(truth)
        return pairs_tool is None or pairs_truth is None or all(map(sub, pairs_tool, pairs_truth))
    if len(truth_args) == 1:
        element = _element(tool)
        return element is None or sub(element, truth_args[0])
    return len(tool_args) == len(truth_args) and all(map(sub, tool_args, truth_args))


def _literal_class(value: Type) -> Type:
    """The class of a Literal member, from its spelling: ``'a'`` → str, ``Sentinel.UNSET`` → Sentinel."""
    spelling = value.name
    if spelling[:1] in {"'", '"'}:
        return Type("str")
    if spelling[:2] in {"b'", 'b"'}:
        return Type("bytes")
    if spelling in {"True", "False"}:
        return Type("bool")
    if spelling == "None":
        return NONE
    if spelling.lstrip("-").isdigit():
        return Type("int")
    return Type(spelling.rsplit(".", 1)[0])


def _subtype(tool: Type, truth: Type, context: Context, nested: bool) -> bool:
    """The relation behind :func:`compatible`; ``nested`` is true inside a generic's arguments."""
    if truth.name in TOP or tool == truth:
        return True
    if tool.name == "NoReturn" or truth.name == "NoReturn":
        return False
    if nested and tool.name in {"Any", "TypeVar"}:
        return True
    if context.enclosing_class:
        tool = Type(context.enclosing_class) if tool.name == "Self" else tool
        truth = Type(context.enclosing_class) if truth.name == "Self" else truth
    if tool.name == UNION:
        return all(_subtype(member, truth, context, nested) for member in tool.args or ())
    if truth.name == UNION:
        return any(_subtype(tool, member, context, nested) for member in truth.args or ())
    if tool.name == "Literal":
        if truth.name == "Literal":
            return set(tool.args or ()) <= set(truth.args or ())
        return all(_subtype(_literal_class(value), truth, context, nested) for value in tool.args or ())
    if truth.name in BOOLEAN_FORMS and tool.name == "bool":
        return True
    if tool.name in NUMERIC_TOWER and truth.name in NUMERIC_TOWER:
        return NUMERIC_TOWER.index(tool.name) <= NUMERIC_TOWER.index(truth.name)
    if context.generator_return:
        tool, truth = _as_generator(tool), _as_generator(truth)
        if tool == truth:
            return True
    if not _nominal_subtype(tool.name, truth.name, context):
        return False
    return _arguments_compatible(tool, truth, context)


def compatible(tool: Type, truth: Type, context: Context = Context()) -> bool:
    """Whether a careful reviewer would accept ``tool`` where ``truth`` is written: every member of the
    tool's union is the same as, or a known subtype of, some member of the truth's union.

    - A truth of ``Any``, ``object`` or a type variable accepts anything; inside a generic's arguments
      ``Any`` on either side matches (gradual typing), at the top a tool's ``Any`` does not.
    - Numeric tower: ``bool`` < ``int`` < ``float`` < ``complex``.
    - Known subtypes: the project's own class statements, the standard library's classes as
      ``issubclass`` sees them (so ``list`` is a ``Sequence``/``Iterable``, ``dict`` a ``Mapping``,
      ``PosixPath`` a ``Path`` and an ``os.PathLike``, ``ValueError`` an ``Exception``, a function a
      ``Callable``), and ``io``'s concrete files as ``TextIO``/``BinaryIO``/``IO``.
    - Generics: a parameterised generic and its bare or ``Any``-parameterised form match either way;
      otherwise arguments are compared covariantly (a reviewer's reading, not mypy's invariance), an
      ABC's one argument against the element type (``list[X]`` vs ``Sequence[X]``/``Iterable[X]``,
      ``tuple[X, Y]`` vs ``Sequence[X | Y]``, a ``dict``'s keys vs ``Iterable[K]``), mappings key and
      value (``dict[K, V]`` vs ``Mapping[K, V]``); ``Callable`` parameters match in either direction.
    - The return of a generator function: ``Iterator[Y]``, ``Iterable[Y]`` and ``Generator[Y, None,
      None]`` are equivalent (and ``AsyncIterator``/``AsyncIterable``/``AsyncGenerator[Y, None]``).
    - ``Self`` and the enclosing class match; a ``Literal`` is its members' class (an enum member's
      class, too), and a smaller ``Literal`` matches a larger one.
    - A ``TypeGuard[X]``/``TypeIs[X]`` return accepts ``bool``, all that can be observed.
    - Classes outside the project and the standard library are unknown: a test double's class
      (freezegun's ``FakeDatetime``, pytest's ``EncodedFile``) matches nothing but itself.
    - ``Never``/``NoReturn`` matches only itself: ``list[Never]`` (a tool that saw only empty lists)
      says nothing about the elements, and is wrong for ``list[str]``.
    """
    return _subtype(tool, truth, context, nested=False)


def verdict(tool_text: str | None, truth_text: str, context: Context, names: tuple[Names, Names]) -> str:
    """``missing``, ``exact``, ``compatible`` or ``wrong`` for one slot (``names`` = tool's, truth's)."""
    if tool_text is None:
        return "missing"
    tool, truth = parse(tool_text, names[0]), parse(truth_text, names[1])
    if str(tool) == str(truth):
        return "exact"
    return "compatible" if compatible(tool, truth, context) else "wrong"


# (tool annotation, truth annotation, expected verdict, what the context says)
EXAMPLES: tuple[tuple[str, str, str, str], ...] = (
    ("Optional[str]", "str | None", "exact", ""),
    ("typing.Union[int, None, str]", "t.Optional[t.Union[str, int]]", "exact", ""),
    ("List[Dict[str, Any]]", "list[dict[str, t.Any]]", "exact", ""),
    ("'click.core.Context'", "Context", "exact", ""),
    ("Literal['a'] | Literal['b']", "t.Literal['b', 'a']", "exact", ""),
    ("int", "float", "compatible", ""),
    ("bool", "int | None", "compatible", ""),
    ("float", "int", "wrong", ""),
    ("None", "str | None", "compatible", ""),
    ("str | None", "str", "wrong", ""),
    ("list", "list[str]", "compatible", ""),
    ("list[Any]", "list[str]", "compatible", ""),
    ("list[str]", "list", "compatible", ""),
    ("list[int]", "list[str]", "wrong", ""),
    ("list[str]", "Sequence[str]", "compatible", ""),
    ("list[str] | tuple[str, ...]", "cabc.Sequence[str]", "compatible", ""),
    ("tuple[str, str]", "Iterable[str]", "compatible", ""),
    ("dict[str, int]", "Mapping[str, float]", "compatible", ""),
    ("dict[str, int]", "Iterable[str]", "compatible", ""),
    ("set[str]", "Sequence[str]", "wrong", ""),
    ("str", "Iterable[str]", "compatible", ""),
    ("int", "Any", "compatible", ""),
    ("Any", "int", "wrong", ""),
    ("dict[str, int]", "object", "compatible", ""),
    ("int", "T", "compatible", "T is a TypeVar"),
    ("PosixPath", "str | os.PathLike[str]", "compatible", ""),
    ("PosixPath", "pathlib.Path", "compatible", ""),
    ("ValueError", "Exception", "compatible", ""),
    ("BadParameter", "ClickException", "compatible", "BadParameter(UsageError(ClickException))"),
    ("Context", "Command", "wrong", "unrelated project classes"),
    ("TextIOWrapper", "t.IO[t.Any]", "compatible", ""),
    ("BytesIO", "t.BinaryIO", "compatible", ""),
    ("StringIO", "t.BinaryIO", "wrong", ""),
    ("Callable", "t.Callable[[int], str]", "compatible", ""),
    ("Callable[[int], str]", "Callable[..., str]", "compatible", ""),
    ("function", "t.Callable[..., t.Any]", "compatible", ""),
    ("Iterator[str]", "Generator[str, None, None]", "compatible", "a generator's return"),
    ("Generator[str, None, None]", "Iterable[str]", "compatible", "a generator's return"),
    ("Iterator[str]", "Generator[str, None, None]", "wrong", "not a generator"),
    ("Generator[int, None, None]", "Iterator[str]", "wrong", "a generator's return"),
    ("Widget", "Self", "compatible", "enclosing class Widget"),
    ("Literal['sys']", "str", "compatible", ""),
    ("Literal['sys']", "Literal['sys', 'fd']", "compatible", ""),
    ("str", "Literal['sys']", "wrong", ""),
    ("Sentinel", "Literal[Sentinel.UNSET]", "wrong", ""),
    ("Literal[Sentinel.UNSET]", "Sentinel | None", "compatible", ""),
    ("float", "NumberOrString", "compatible", "NumberOrString = float | str"),
    ("int | str", "NumberOrString", "compatible", "NumberOrString = float | str"),
    ("str | float", "NumberOrString", "exact", "NumberOrString = float | str"),
    ("datetime", "dt.date", "compatible", ""),
    ("date", "dt.datetime", "wrong", ""),
    ("type[ValueError]", "type[Exception]", "compatible", ""),
    ("tuple[int, int]", "tuple[int, ...]", "compatible", ""),
    ("tuple[int, ...]", "tuple[int, int]", "wrong", ""),
    ("list[Never]", "list[str]", "wrong", ""),
    ("dict[Never, Never]", "MutableMapping[str, Any]", "wrong", ""),
    ("None", "P.args", "compatible", "T is a TypeVar"),
    ("str", "AnyStr", "compatible", ""),
    ("_GeneratorContextManager", "t.ContextManager[t.TextIO]", "compatible", ""),
    ("Option", "CoreOption", "exact", "CoreOption is Option imported as"),
    ("Iterator[None]", "cabc.Generator[None]", "compatible", "a generator's return"),
    ("Generator[str, None, None]", "Generator[str]", "exact", ""),
    ("bool", "te.TypeIs[t.IO[t.Any]]", "compatible", ""),
    ("bytes", "ReadableBuffer", "compatible", ""),
    ("GNUTranslations", "gettext_module.NullTranslations", "compatible", ""),
    ("FakeDatetime", "dt.datetime", "wrong", ""),
)


def self_test() -> list[str]:
    """Run :data:`EXAMPLES`; return a line per failing example (empty when all pass)."""
    context_for = {
        "T is a TypeVar": (Context(), Names(typevars=frozenset({"T", "P"}))),
        "CoreOption is Option imported as": (Context(), Names(aliases={"CoreOption": "Option"})),
        "BadParameter(UsageError(ClickException))": (
            Context(class_bases={"BadParameter": {"UsageError"}, "UsageError": {"ClickException"}}),
            Names(),
        ),
        "a generator's return": (Context(generator_return=True), Names()),
        "enclosing class Widget": (Context(enclosing_class="Widget"), Names()),
        "NumberOrString = float | str": (Context(), Names(aliases={"NumberOrString": "float | str"})),
    }
    failures = []
    for tool, truth, expected, note in EXAMPLES:
        context, names = context_for.get(note, (Context(), Names()))
        got = verdict(tool, truth, context, (names, names))
        if got != expected:
            failures.append(f"{tool!r} for {truth!r} ({note or 'no context'}): {got}, expected {expected}")
    return failures


if __name__ == "__main__":
    problems = self_test()
    print("\n".join(problems) or f"all {len(EXAMPLES)} examples pass")
