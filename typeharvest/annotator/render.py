"""Print merged types as annotation source text, and collect the imports that text needs.

Why a class of its own: the spelling of a name depends on the module it is printed into (a class of that
module needs no import; two classes called ``User`` from different modules cannot both be imported as
``User``), so rendering is done for one target module at a time.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass

from typeharvest.annotator.combine import NONE
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


@dataclass(frozen=True, slots=True, order=True)
class Import:
    """``from module import name`` when ``name`` is set, else ``import module``."""

    module: str
    name: str | None = None


class Renderer:
    """Renders types for annotations in module ``home``.

    ``bound`` holds the names ``home`` already binds at top level: the module each was imported from, or
    None for a name it defines itself.
    """

    def __init__(self, home: str, bound: Mapping[str, str | None] | None = None) -> None:
        self.home = home
        self.imports: set[Import] = set()
        self._bound: dict[str, str | None] = dict(bound or {})

    def render(self, union: Union) -> str:
        """Source text of ``union``, None last, as ``X | Y | None``."""
        members = [ref for ref in union.members if ref.name != NONE]
        texts = list(dict.fromkeys(self._render_ref(ref) for ref in members))
        if len(members) != len(union.members):
            texts.append("None")
        return " | ".join(texts) if texts else "None"

    def _render_ref(self, ref: TypeRef) -> str:
        if ref.args is None and ref.name in _UNPARAMETERISED:
            self.imports.add(Import("typing", "Any"))
            return _UNPARAMETERISED[ref.name]
        base = self._class_text(ref)
        if ref.args is None:
            return base
        if ref.args == ():
            return f"{base}[()]"
        args = [self.render(arg) for arg in ref.args]
        if ref.variadic:
            args.append("...")
        return f"{base}[{', '.join(args)}]"

    def _class_text(self, ref: TypeRef) -> str:
        module, qualname = ref.module, ref.qualname
        if module == "builtins":
            if qualname in _BUILTIN_SPELLINGS:
                source_module, text = _BUILTIN_SPELLINGS[qualname]
                head, bracket, tail = text.partition("[")
                if "Any" in tail:
                    self.imports.add(Import("typing", "Any"))
                return self._bind(source_module, head) + bracket + tail
            if isinstance(getattr(builtins, qualname, None), type):
                return qualname
            self.imports.add(Import("typing", "Any"))
            return "Any"
        if module == self.home:
            return qualname
        first, dot, rest = qualname.partition(".")
        return self._bind(module, first) + dot + rest

    def _bind(self, module: str, name: str) -> str:
        """Import ``name`` from ``module`` unless that would shadow another name; return how to spell it."""
        if name not in self._bound:
            self._bound[name] = module
        if self._bound[name] == module:
            self.imports.add(Import(module, name))
            return name
        self.imports.add(Import(module))
        return f"{module}.{name}"
