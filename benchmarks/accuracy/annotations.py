"""Reading a source tree's function annotations, and stripping them.

Reading uses ``ast`` (standard library, enough to key every slot); stripping uses libcst, so that
everything but the removed annotations stays byte-identical.

**Keys.** A slot is ``(module, qualname, slot)``: ``qualname`` is spelled as the runtime
``__qualname__`` (``C.f``, ``f.<locals>.g``), because that is what tracers record; ``slot`` is a
parameter's name (``*args`` is ``args``) or ``"return"``. A qualname defined more than once in a module
(a property's getter and setter, a conditional definition) gets ``#2``, ``#3``… in source order, which
a tool's rewrite of the file keeps.

**Left out of the ground truth.** The receiver (the first parameter of a function defined in a class
body, unless it is a ``@staticmethod``), as in typeharvest's coverage definition. Functions defined
under ``if TYPE_CHECKING:`` (they never run). *Overloaded functions entirely*, variants and
implementation: the implementation's annotation is usually a deliberately loose catch-all (``Any``,
``object``, a union of every variant) and the real contract lives in the variants, which no tracer
writes; scoring the catch-all would reward vagueness. They are counted in ``overloaded``.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator
from pathlib import Path

RETURN = "return"


@dataclasses.dataclass(frozen=True)
class FunctionInfo:
    """One ``def``: what scoring needs to know beyond its annotations."""

    module: str
    qualname: str
    lineno: int
    enclosing_class: str | None
    is_generator: bool
    is_async: bool
    type_params: frozenset[str]
    annotations: dict[str, str | None]
    overloaded: bool = False
    type_checking_only: bool = False


@dataclasses.dataclass
class TreeFacts:
    """Everything read from one tree: functions by key, plus names that give annotations meaning."""

    functions: dict[tuple[str, str], FunctionInfo] = dataclasses.field(default_factory=dict)
    typevars: dict[str, frozenset[str]] = dataclasses.field(default_factory=dict)
    class_bases: dict[str, set[str]] = dataclasses.field(default_factory=dict)
    aliases: dict[str, str] = dataclasses.field(default_factory=dict)
    renames: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    unparsable: dict[str, str] = dataclasses.field(default_factory=dict)

    def slots(self) -> dict[tuple[str, str, str], str]:
        """Every annotated slot, the receiver, overloads and TYPE_CHECKING-only functions left out."""
        return {
            (function.module, function.qualname, slot): annotation
            for function in self.functions.values()
            if not function.overloaded and not function.type_checking_only
            for slot, annotation in function.annotations.items()
            if annotation is not None
        }

    def overloaded_count(self) -> int:
        """How many functions (variants and implementations) were left out as overloaded."""
        return sum(1 for function in self.functions.values() if function.overloaded)


def module_files(src_root: Path, packages: tuple[str, ...]) -> Iterator[tuple[str, Path]]:
    """(dotted module name, path) of every ``.py`` file of the packages, in a stable order."""
    for package in packages:
        root = src_root / package
        files = sorted(root.rglob("*.py")) if root.is_dir() else [src_root / f"{package}.py"]
        for path in files:
            parts = list(path.relative_to(src_root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join(parts), path


def _last_name(node: ast.expr) -> str:
    """``t.overload`` → ``overload``: the spelling-independent name of a decorator or base."""
    while isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Subscript):
        return _last_name(node.value)
    return ""


def _is_type_checking(test: ast.expr) -> bool:
    """``if TYPE_CHECKING:`` or ``if typing.TYPE_CHECKING:``."""
    return _last_name(test) == "TYPE_CHECKING"


def _is_generator(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether the body yields, not counting nested functions, classes and lambdas."""
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Yield | ast.YieldFrom):
            return True
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return False


def _slot_annotations(
    function: ast.FunctionDef | ast.AsyncFunctionDef, in_class: bool
) -> dict[str, str | None]:
    """Slot name → annotation source (``None`` when unannotated), the receiver left out."""
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    is_static = any(_last_name(decorator) == "staticmethod" for decorator in function.decorator_list)
    if in_class and not is_static and positional:
        positional = positional[1:]
    params = [*positional, *([args.vararg] if args.vararg else []), *args.kwonlyargs]
    params += [args.kwarg] if args.kwarg else []
    slots: dict[str, str | None] = {
        param.arg: ast.unparse(param.annotation) if param.annotation else None for param in params
    }
    slots[RETURN] = ast.unparse(function.returns) if function.returns else None
    return slots


class _Collector:
    """Walks one module's statements, tracking the runtime qualname prefix of each scope."""

    def __init__(self, module: str, facts: TreeFacts) -> None:
        self.module = module
        self.facts = facts
        self.seen: dict[str, int] = {}
        self.overloaded: set[str] = set()
        self.typevars: set[str] = set()

    def body(
        self, statements: list[ast.stmt], prefix: str, enclosing_class: str | None, hidden: bool
    ) -> None:
        """Visit a block; ``hidden`` marks code under ``if TYPE_CHECKING:``."""
        for statement in statements:
            self.statement(statement, prefix, enclosing_class, hidden)

    def statement(self, node: ast.stmt, prefix: str, enclosing_class: str | None, hidden: bool) -> None:
        """Record a def or class, or descend into the blocks of a compound statement (same scope)."""
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            self.function(node, prefix, enclosing_class, hidden)
        elif isinstance(node, ast.ClassDef):
            self.facts.class_bases.setdefault(node.name, set()).update(_last_name(b) for b in node.bases)
            self.body(node.body, f"{prefix}{node.name}.", node.name, hidden)
        elif isinstance(node, ast.If):
            self.body(node.body, prefix, enclosing_class, hidden or _is_type_checking(node.test))
            self.body(node.orelse, prefix, enclosing_class, hidden)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.TypeAlias) and not prefix:
            self.module_assignment(node)
        elif isinstance(node, ast.ImportFrom):
            renames = self.facts.renames.setdefault(self.module, {})
            renames.update(
                (alias.asname, alias.name) for alias in node.names if alias.asname not in (None, alias.name)
            )
        else:
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                for child in getattr(node, field, []):
                    if isinstance(child, ast.ExceptHandler | ast.match_case):
                        self.body(child.body, prefix, enclosing_class, hidden)
                    elif isinstance(child, ast.stmt):
                        self.statement(child, prefix, enclosing_class, hidden)

    def module_assignment(self, node: ast.Assign | ast.AnnAssign | ast.TypeAlias) -> None:
        """Remember type variables and type aliases, which annotations use as names.

        ``T = TypeVar("T")`` (or ParamSpec, TypeVarTuple) stands for any type. An alias is ``X: TypeAlias
        = ...``, ``type X = ...``, or a module-level ``X = A | B`` or ``X = Generic[...]``: scoring
        expands it, since a tracer can only ever write what it stands for.
        """
        if isinstance(node, ast.TypeAlias):
            self.facts.aliases[node.name.id] = ast.unparse(node.value)
            return
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = [target.id for target in targets if isinstance(target, ast.Name)]
        value = node.value
        if isinstance(value, ast.Call) and _last_name(value.func) in {"TypeVar", "ParamSpec", "TypeVarTuple"}:
            self.typevars.update(names)
            return
        declared = isinstance(node, ast.AnnAssign) and _last_name(node.annotation) == "TypeAlias"
        looks_like_type = isinstance(value, ast.Subscript) or (
            isinstance(value, ast.BinOp) and isinstance(value.op, ast.BitOr)
        )
        if value is not None and len(names) == 1 and (declared or looks_like_type):
            self.facts.aliases[names[0]] = ast.unparse(value)

    def function(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef,
        prefix: str,
        enclosing_class: str | None,
        hidden: bool,
    ) -> None:
        """Record one def under its runtime qualname (numbered when repeated), then its nested defs."""
        qualname = f"{prefix}{node.name}"
        count = self.seen[qualname] = self.seen.get(qualname, 0) + 1
        key = qualname if count == 1 else f"{qualname}#{count}"
        if any(_last_name(decorator) == "overload" for decorator in node.decorator_list):
            self.overloaded.add(qualname)
        self.facts.functions[(self.module, key)] = FunctionInfo(
            module=self.module,
            qualname=key,
            lineno=node.lineno,
            enclosing_class=enclosing_class,
            is_generator=_is_generator(node),
            is_async=isinstance(node, ast.AsyncFunctionDef),
            type_params=frozenset(getattr(param, "name", "") for param in getattr(node, "type_params", [])),
            annotations=_slot_annotations(node, in_class=enclosing_class is not None),
            type_checking_only=hidden,
        )
        self.body(node.body, f"{qualname}.<locals>.", None, hidden)

    def finish(self) -> None:
        """Mark every def of an overloaded qualname (numbered repeats included), and store the TypeVars."""
        for key, function in list(self.facts.functions.items()):
            if key[0] == self.module and function.qualname.split("#")[0] in self.overloaded:
                self.facts.functions[key] = dataclasses.replace(function, overloaded=True)
        self.facts.typevars[self.module] = frozenset(self.typevars)


def read_tree(src_root: Path, packages: tuple[str, ...]) -> TreeFacts:
    """The annotations of every function of the packages under ``src_root``.

    A file that does not parse (a tool may write broken code) is listed in ``unparsable`` and
    contributes nothing, so its slots count as not covered.
    """
    facts = TreeFacts()
    for module, path in module_files(src_root, packages):
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError) as exc:
            facts.unparsable[module] = f"{type(exc).__name__}: {exc}"
            continue
        collector = _Collector(module, facts)
        collector.body(tree.body, "", None, hidden=False)
        collector.finish()
    return facts


def strip_file(path: Path) -> int:
    """Remove every parameter and return annotation of the file's functions; return how many.

    Imports (``from __future__ import annotations`` included), variable annotations, comments and
    formatting are untouched. A parameter that loses its annotation also loses the spaces around
    its default's ``=`` (``x: int = 0`` becomes ``x=0``), as unannotated code is written.
    """
    import libcst as cst

    class Stripper(cst.CSTTransformer):
        """The libcst transformer that drops ``Param.annotation`` and ``FunctionDef.returns``."""

        removed = 0

        def leave_Param(self, original_node: cst.Param, updated_node: cst.Param) -> cst.Param:
            if updated_node.annotation is None:
                return updated_node
            self.removed += 1
            changes: dict[str, object] = {"annotation": None}
            if updated_node.default is not None:
                changes["equal"] = cst.AssignEqual(
                    whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
                )
            return updated_node.with_changes(**changes)

        def leave_FunctionDef(
            self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
        ) -> cst.FunctionDef:
            if updated_node.returns is None:
                return updated_node
            self.removed += 1
            return updated_node.with_changes(returns=None)

    source = path.read_bytes()
    module = cst.parse_module(source)
    stripper = Stripper()
    stripped = module.visit(stripper)
    if stripper.removed:
        path.write_bytes(stripped.bytes)
    return stripper.removed


def strip_tree(src_root: Path, packages: tuple[str, ...]) -> int:
    """Strip every module of the packages in place; return the number of annotations removed."""
    return sum(strip_file(path) for _, path in module_files(src_root, packages))
