"""Print merged types as annotation source text, and collect the imports that text needs.

Why a class of its own: the spelling of a name depends on the module it is printed into (a class of that
module needs no import; two classes called ``User`` from different modules cannot both be imported as
``User``), so rendering is done for one target module at a time.

In a source file (not a stub) an annotation is evaluated when its ``def`` runs, so a name that is only
imported for annotations would be a new run-time import, and a new import can create an import cycle. Such
names are imported under ``if TYPE_CHECKING:`` instead and the annotation that uses them is written as a
string; the standard library is imported normally (it cannot import the project back).
"""

from __future__ import annotations

import builtins
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from typeharvest.annotator.combine import NONE
from typeharvest.annotator.signatures import SELF, TYPEVAR
from typeharvest.annotator.typeexpr import TypeRef, Union

# Classes the interpreter reports as ``builtins.X`` that are not importable under that name.
_BUILTIN_SPELLINGS: dict[str, tuple[str, str]] = {
    "function": ("collections.abc", "Callable[..., Any]"),
    "builtin_function_or_method": ("collections.abc", "Callable[..., Any]"),
    "method": ("collections.abc", "Callable[..., Any]"),
    "method-wrapper": ("collections.abc", "Callable[..., Any]"),
    "generator": ("collections.abc", "Generator[Any, Any, Any]"),
    "coroutine": ("collections.abc", "Coroutine[Any, Any, Any]"),
    "async_generator": ("collections.abc", "AsyncGenerator[Any, Any]"),
    "module": ("types", "ModuleType"),
    "code": ("types", "CodeType"),
    "frame": ("types", "FrameType"),
    "traceback": ("types", "TracebackType"),
    "mappingproxy": ("types", "MappingProxyType[Any, Any]"),
    "ellipsis": ("types", "EllipsisType"),
    "NotImplementedType": ("types", "NotImplementedType"),
}

# How a container whose elements were never seen is spelled: with Any, never with a guess.
_UNPARAMETERISED = {
    "builtins.list": "list[Any]",
    "builtins.set": "set[Any]",
    "builtins.frozenset": "frozenset[Any]",
    "builtins.dict": "dict[Any, Any]",
    "builtins.tuple": "tuple[Any, ...]",
    "builtins.type": "type[Any]",
}

# Generic classes of the standard library and how many type parameters they take: a bare ``re.Match``
# is an error under ``mypy --strict`` (``disallow_any_generics``), ``re.Match[Any]`` is not.
_GENERIC_ARITY = {
    "re.Match": 1,
    "re.Pattern": 1,
    "collections.deque": 1,
    "collections.Counter": 1,
    "collections.OrderedDict": 2,
    "collections.defaultdict": 2,
    "collections.ChainMap": 2,
    "queue.Queue": 1,
    "queue.SimpleQueue": 1,
    "asyncio.Future": 1,
    "asyncio.Task": 1,
    "asyncio.Queue": 1,
    "concurrent.futures.Future": 1,
    "contextvars.ContextVar": 1,
    "functools.partial": 1,
    "os.PathLike": 1,
    "os.DirEntry": 1,
    "array.array": 1,
    "weakref.ref": 1,
    "builtins.enumerate": 1,
    "builtins.map": 1,
    "builtins.filter": 1,
    "builtins.reversed": 1,
    "builtins.zip": 1,
}


@dataclass(frozen=True, slots=True)
class Import:
    """``from module import name`` when ``name`` is set, else ``import module``."""

    module: str
    name: str | None = None


#: The name given to a module's type variable for generic functions (``_T = TypeVar("_T")``).
TYPEVAR_NAME = "_T"


class Renderer:
    """Renders types for annotations in module ``home``.

    ``bound`` holds the names ``home`` already binds at top level: the module each was imported from, or
    None for a name it defines itself. ``checking_only`` are those of them imported under
    ``if TYPE_CHECKING:``. With ``source=True`` the annotations are for a ``.py`` file (see the module
    docstring); otherwise for a stub, where every import is a plain one and nothing is quoted.
    """

    def __init__(
        self,
        home: str,
        bound: Mapping[str, str | None] | None = None,
        *,
        source: bool = False,
        checking_only: Collection[str] = (),
        python_version: tuple[int, int] = sys.version_info[:2],
        postponed: bool = False,
    ) -> None:
        self.home = home
        self.imports: set[Import] = set()
        self.checking_imports: set[Import] = set()  # only under ``if TYPE_CHECKING:``
        self.typevar_used = False
        self._bound: dict[str, str | None] = dict(bound or {})
        self._checking_only = set(checking_only)
        self._imported = {name for name, origin in self._bound.items() if origin is not None}
        self._source = source
        self._python_version = python_version
        self._postponed = postponed  # ``from __future__ import annotations``: nothing is evaluated
        self._late: Collection[str] = ()
        self._needs_quotes = False

    def render(self, union: Union) -> str:
        """Source text of ``union``, None last: ``X | Y | None`` (``Optional``/``Union`` before 3.10)."""
        members = [ref for ref in union.members if ref.name != NONE]
        texts = list(dict.fromkeys(self._render_ref(ref) for ref in members))
        has_none = len(members) != len(union.members)
        if not texts:
            return "None"
        if self._python_version < (3, 10) and (len(texts) > 1 or has_none):
            if len(texts) == 1:
                return f"{self._typing('Optional')}[{texts[0]}]"
            joined = ", ".join([*texts, "None"] if has_none else texts)
            return f"{self._typing('Union')}[{joined}]"
        return " | ".join([*texts, "None"] if has_none else texts)

    def annotation(self, union: Union, late: Collection[str] = ()) -> str:
        """The annotation text for a ``def``, quoted when it names something not bound when the def runs.

        ``late`` are the names of ``home`` that are not yet defined when this ``def`` runs (its own
        class, classes further down).
        """
        self._late, self._needs_quotes = late, False
        text = self.render(union)
        quote = self._source and self._needs_quotes and not self._postponed
        return f'"{text}"' if quote else text

    def _render_ref(self, ref: TypeRef) -> str:
        if ref.args is None and ref.name in _UNPARAMETERISED:
            return _UNPARAMETERISED[ref.name].replace("Any", self._typing("Any"))
        if ref.name == SELF:
            module = "typing" if self._python_version >= (3, 11) else "typing_extensions"
            return self._bind(module, "Self")
        if ref.name == TYPEVAR:
            self.typevar_used = True
            self._typing("TypeVar")
            return TYPEVAR_NAME
        base = self._class_text(ref)
        if ref.args is None and ref.name in _GENERIC_ARITY:
            return f"{base}[{', '.join([self._typing('Any')] * _GENERIC_ARITY[ref.name])}]"
        if ref.args is None:
            return base
        if ref.args == ():
            return f"{base}[()]"
        args = [self.render(arg) for arg in ref.args]
        if ref.variadic:
            args.append("...")
        return f"{base}[{', '.join(args)}]"

    def _typing(self, name: str) -> str:
        return self._bind("typing", name)

    def _class_text(self, ref: TypeRef) -> str:
        module, qualname = ref.module, ref.qualname
        if module == "builtins":
            if qualname in _BUILTIN_SPELLINGS:
                source_module, text = _BUILTIN_SPELLINGS[qualname]
                head, bracket, tail = text.partition("[")
                return self._bind(source_module, head) + bracket + tail.replace("Any", self._typing("Any"))
            if isinstance(getattr(builtins, qualname, None), type):
                return qualname
            return self._typing("Any")
        first, dot, rest = qualname.partition(".")
        if module == self.home:
            if first in self._late:
                self._needs_quotes = True
            return qualname
        return self._bind(module, first) + dot + rest

    def _bind(self, module: str, name: str) -> str:
        """Import ``name`` from ``module`` unless that would shadow another name; return how to spell it."""
        origin = self._bound.setdefault(name, module)
        if origin is not None and origin != module and _reexported(origin, module, name):
            module = origin  # ``from django.http import JsonResponse`` already names it
        if origin == module:
            if name in self._imported and name not in self._checking_only:
                return name  # the module imports it at run time already
            self._need(Import(module, name), name in self._checking_only)
            return name
        self._need(Import(module), False)
        return f"{module}.{name}"

    def _need(self, wanted: Import, already_checking_only: bool) -> None:
        deferred = self._source and (
            already_checking_only or wanted.module.partition(".")[0] not in sys.stdlib_module_names
        )
        if deferred:
            self._needs_quotes = True
            if not already_checking_only:
                self.checking_imports.add(wanted)
        else:
            self.imports.add(wanted)


def _reexported(origin: str, module: str, name: str) -> bool:
    """Whether module ``origin`` binds ``name`` to the very object that ``module`` defines under it.

    Only modules already imported are consulted (the class hierarchy imported the traced classes' own).
    """
    here, there = sys.modules.get(origin), sys.modules.get(module)
    if here is None or there is None:
        return False
    found = getattr(here, name, None)
    return found is not None and found is getattr(there, name, None)
