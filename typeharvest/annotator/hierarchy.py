"""What the annotator needs to know about classes that a trace does not say: their bases.

Traces carry class names only. Two rules need the class hierarchy — collapsing a wide union into the
nearest common base, and replacing a test double by the production class it stands for — so the classes
are looked up by importing their modules, the way a type checker would resolve them. A class that cannot be
imported (a module that needs configuration, a class that is gone) is simply unknown and those rules then
leave the union as it is.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import sys

from typeharvest.annotator.typeexpr import split_name

_TEST_PARTS = frozenset({"test", "tests", "testing", "conftest"})
# Test tooling whose classes stand in for production ones (freezegun's FakeDatetime for datetime).
_TEST_MODULES = ("unittest.mock", "mock", "_pytest", "pytest", "pytest_mock", "freezegun", "time_machine")
# Classes the interpreter picks for the platform it runs on, named as the portable class programs write.
_PORTABLE = {
    f"pathlib{private}.{concrete}": f"pathlib.{portable}"
    for private in ("", "._local", "._abc")
    for concrete, portable in (
        ("PosixPath", "Path"),
        ("WindowsPath", "Path"),
        ("PurePosixPath", "PurePath"),
        ("PureWindowsPath", "PurePath"),
    )
}
# Private modules whose classes are public under another name (``_io.StringIO`` is ``io.StringIO``).
_PUBLIC_HOMES = {"_collections_abc": "collections.abc", "_thread": "threading", "_decimal": "decimal"}


def is_test_type(name: str) -> bool:
    """Whether a class lives in test code or a mocking library, and so must never appear in annotations.

    Test modules are recognised the way pytest and unittest find them: a ``tests``/``test`` package or a
    ``test_*``/``*_test``/``conftest`` module.
    """
    module, _ = split_name(name)
    if any(module == prefix or module.startswith(prefix + ".") for prefix in _TEST_MODULES):
        return True
    return any(
        part in _TEST_PARTS or part.startswith("test_") or part.endswith("_test")
        for part in module.split(".")
    )


def class_name(cls: type) -> str:
    """The type string of a class, as the tracer spells it (``mod:Outer.Inner`` for nested classes)."""
    qualname = cls.__qualname__
    separator = ":" if "." in qualname else "."
    return f"{cls.__module__}{separator}{qualname}"


class ClassHierarchy:
    """Resolves class names to their method resolution order, importing modules once each."""

    def __init__(self) -> None:
        self._mros: dict[str, tuple[str, ...] | None] = {}
        self._public: dict[str, str] = {}

    def mro(self, name: str) -> tuple[str, ...] | None:
        """The names of the class and its bases in MRO order; None when the class cannot be found."""
        if name not in self._mros:
            self._mros[name] = self._resolve(name)
        return self._mros[name]

    def _resolve(self, name: str) -> tuple[str, ...] | None:
        found = self._import(*split_name(name))
        return None if found is None else tuple(class_name(cls) for cls in found.__mro__)

    @staticmethod
    def _import(module_name: str, qualname: str) -> type | None:
        """The class ``qualname`` of module ``module_name``, importing the module if need be."""
        if "<locals>" in qualname:
            return None
        try:
            # A module's import may print or fail in any way; neither may reach the user's terminal.
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                found: object = sys.modules.get(module_name) or importlib.import_module(module_name)
        except (Exception, SystemExit):
            return None
        for part in qualname.split("."):
            found = getattr(found, part, None)
        return found if isinstance(found, type) else None

    def public_name(self, name: str) -> str:
        """``name`` as programs import the class: from the nearest enclosing module without a ``_private``
        part that exposes the same class (``_io.StringIO`` → ``io.StringIO``), and a platform's path class
        as the portable one (``pathlib._local.PosixPath`` → ``pathlib.Path``). Type checkers know the public
        name; the private module may not even exist in their stubs."""
        if name in _PORTABLE:
            return _PORTABLE[name]
        module_name, qualname = split_name(name)
        parts = module_name.split(".")
        if not any(part.startswith("_") for part in parts):
            return name
        if name not in self._public:
            self._public[name] = self._find_public(module_name, qualname) or name
        return self._public[name]

    def _find_public(self, module_name: str, qualname: str) -> str | None:
        cls = self._import(module_name, qualname)
        if cls is None:
            return None
        parts = module_name.split(".")
        candidates = [".".join(parts[:end]) for end in range(1, len(parts))]
        if parts[0] in _PUBLIC_HOMES:
            candidates.insert(0, _PUBLIC_HOMES[parts[0]])
        elif parts[0].startswith("_"):
            candidates.insert(0, parts[0].lstrip("_"))
        for candidate in candidates:
            if any(part.startswith("_") for part in candidate.split(".")):
                continue
            if self._import(candidate, qualname) is cls:
                separator = ":" if "." in qualname else "."
                return f"{candidate}{separator}{qualname}"
        return None

    def type_parameters(self, name: str) -> int:
        """How many type variables a generic class of the program takes (``class Box(Generic[T])``: 1);
        0 for anything else, or when one of them is a ParamSpec or TypeVarTuple (no ``Any`` fits)."""
        if name.startswith("builtins."):
            return 0
        cls = self._import(*split_name(name))
        parameters = getattr(cls, "__parameters__", ()) if cls is not None else ()
        if not isinstance(parameters, tuple):
            return 0
        if not all(type(parameter).__name__ == "TypeVar" for parameter in parameters):
            return 0
        return len(parameters)

    def common_base(self, names: list[str]) -> str | None:
        """The nearest class that every one of ``names`` derives from; None if one of them is unknown."""
        mros = [self.mro(name) for name in names]
        if not mros or any(mro is None for mro in mros):
            return None
        first, *others = [mro for mro in mros if mro is not None]
        for candidate in first:
            if all(candidate in mro for mro in others) and not is_test_type(candidate):
                return candidate
        return None

    def production_base(self, name: str) -> str | None:
        """The nearest base of a test double that is production code (never ``object``); else None."""
        mro = self.mro(name)
        if mro is None:
            return None
        for base in mro[1:]:
            if not is_test_type(base) and base != "builtins.object":
                return base
        return None
