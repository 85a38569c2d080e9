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
_TEST_MODULES = ("unittest.mock", "_pytest", "pytest")


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

    def mro(self, name: str) -> tuple[str, ...] | None:
        """The names of the class and its bases in MRO order; None when the class cannot be found."""
        if name not in self._mros:
            self._mros[name] = self._resolve(name)
        return self._mros[name]

    def _resolve(self, name: str) -> tuple[str, ...] | None:
        module_name, qualname = split_name(name)
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
        if not isinstance(found, type):
            return None
        return tuple(class_name(cls) for cls in found.__mro__)

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
