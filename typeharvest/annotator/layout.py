"""The top level of a module: what it binds, where its imports end, and how to add to them.

Annotations added to a file need names; which names are already there, which are only visible to the type
checker, and which are defined too late to be used unquoted all come from reading the module's top-level
statements in order.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.helpers import get_absolute_module_from_package_for_import, get_full_name_for_node_or_raise

from typeharvest.annotator.render import Import


@dataclass(slots=True)
class ModuleLayout:
    """Names bound at the top level of a module, each with the index of the statement that binds it."""

    bound: dict[str, str | None] = field(default_factory=dict)  # name → module imported from (None: defined)
    checking_only: set[str] = field(default_factory=set)  # imported under ``if TYPE_CHECKING:``
    defined_at: dict[str, int] = field(default_factory=dict)  # name → index of its top-level statement
    typevars: set[str] = field(default_factory=set)  # ``T = TypeVar("T")`` declarations
    postponed: bool = False  # ``from __future__ import annotations``
    has_checking_block: bool = False

    def late_names(self, statement: int) -> frozenset[str]:
        """Names not yet bound while top-level statement ``statement`` runs (its own class included)."""
        return frozenset(name for name, index in self.defined_at.items() if index >= statement)


def read_layout(module: cst.Module) -> ModuleLayout:
    """The layout of ``module``'s top level."""
    layout = ModuleLayout()
    for index, statement in enumerate(module.body):
        if isinstance(statement, (cst.ClassDef, cst.FunctionDef)):
            layout.bound[statement.name.value] = None
            layout.defined_at[statement.name.value] = index
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                _read_small(small, index, layout)
        elif _is_type_checking_block(statement):
            assert isinstance(statement, cst.If)
            layout.has_checking_block = True
            for name, origin in _imported_names(statement.body.body):
                layout.bound.setdefault(name, origin)
                layout.checking_only.add(name)
    return layout


def _read_small(small: cst.BaseSmallStatement, index: int, layout: ModuleLayout) -> None:
    if isinstance(small, (cst.Import, cst.ImportFrom)):
        if isinstance(small, cst.ImportFrom) and _is_future_annotations(small):
            layout.postponed = True
        for name, origin in _names_of_import(small):
            layout.bound[name] = origin
            layout.checking_only.discard(name)
    elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
        layout.bound[small.target.value] = None
        layout.defined_at[small.target.value] = index
    elif isinstance(small, cst.Assign):
        for target in small.targets:
            if isinstance(target.target, cst.Name):
                layout.bound[target.target.value] = None
                layout.defined_at[target.target.value] = index
                if _is_typevar_call(small.value):
                    layout.typevars.add(target.target.value)


def _is_future_annotations(node: cst.ImportFrom) -> bool:
    return (
        isinstance(node.module, cst.Name)
        and node.module.value == "__future__"
        and not isinstance(node.names, cst.ImportStar)
        and any(get_full_name_for_node_or_raise(alias.name) == "annotations" for alias in node.names)
    )


def _is_typevar_call(value: cst.BaseExpression) -> bool:
    if not isinstance(value, cst.Call):
        return False
    name = cst.helpers.get_full_name_for_node(value.func)
    return name in ("TypeVar", "typing.TypeVar", "typing_extensions.TypeVar")


def _is_type_checking_block(statement: cst.CSTNode) -> bool:
    if not isinstance(statement, cst.If) or not isinstance(statement.body, cst.IndentedBlock):
        return False
    return cst.helpers.get_full_name_for_node(statement.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")


def _imported_names(
    body: Sequence[cst.BaseStatement] | Sequence[cst.BaseSmallStatement],
) -> list[tuple[str, str | None]]:
    names: list[tuple[str, str | None]] = []
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, (cst.Import, cst.ImportFrom)):
                    names.extend(_names_of_import(small))
    return names


def _names_of_import(node: cst.Import | cst.ImportFrom) -> list[tuple[str, str | None]]:
    """(bound name, module it came from) for each alias; the module is None for ``import x``/``as``."""
    if isinstance(node, cst.Import):
        return [(_bound_name(alias).partition(".")[0], None) for alias in node.names]
    if isinstance(node.names, cst.ImportStar):
        return []
    source = get_absolute_module_from_package_for_import(None, node)
    return [(_bound_name(alias), source if alias.asname is None else None) for alias in node.names]


def _bound_name(alias: cst.ImportAlias) -> str:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return get_full_name_for_node_or_raise(alias.name)


def _import_lines(wanted: Iterable[Import]) -> list[cst.SimpleStatementLine]:
    """One statement per module, its names sorted: ``from m import A, B`` and ``import m``."""
    names: dict[str, list[str]] = {}
    plain: list[str] = []
    # isort's order within a statement: CONSTANTS, then Classes, then functions.
    for item in sorted(set(wanted), key=_import_order):
        if item.name is None:
            plain.append(item.module)
        else:
            names.setdefault(item.module, []).append(item.name)
    texts = [f"import {module}" for module in plain]
    texts += [f"from {module} import {', '.join(found)}" for module, found in names.items()]
    lines: list[cst.SimpleStatementLine] = []
    for text in sorted(texts, key=lambda t: t.split()[1]):
        line = cst.parse_statement(text + "\n")
        assert isinstance(line, cst.SimpleStatementLine)
        lines.append(line)
    return lines


def _import_order(item: Import) -> tuple[str, int, str]:
    """isort's order: by module, then CONSTANTS, Classes and functions (``import m`` first)."""
    name = item.name or ""
    return item.module, 0 if not name or name.isupper() else 1 if name[:1].isupper() else 2, name


def add_imports(module: cst.Module, needed: Collection[Import]) -> cst.Module:
    """``module`` with the run-time imports ``needed``, each once and in the right block.

    A name from a module the file already imports ``from`` joins that statement; a new standard-library
    import goes after the file's last standard-library import (or first in its import block), any other
    after its last import.
    """
    if not needed:
        return module
    existing = {
        get_full_name_for_node_or_raise(small.module)
        for statement in module.body
        if isinstance(statement, cst.SimpleStatementLine)
        for small in statement.body
        if isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative
    }
    joining = [item for item in needed if item.name is not None and item.module in existing]
    if joining:
        context = CodemodContext()
        for item in sorted(joining, key=_import_order):
            AddImportsVisitor.add_needed_import(context, item.module, item.name)
        module = AddImportsVisitor(context).transform_module(module)
    new = [item for item in needed if item not in joining]
    standard = [item for item in new if _is_standard(item.module)]
    others = [item for item in new if not _is_standard(item.module)]
    body: list[cst.BaseStatement] = list(module.body)
    if others:
        _insert(body, _end_of_imports(body), _import_lines(others))
    if standard:
        block_end = _after_standard_imports(body)
        for line in _import_lines(standard):
            place, block_start = _sorted_place(body, block_end, line)
            displaced = body[place] if place < block_end else None
            if isinstance(displaced, cst.SimpleStatementLine) and place == block_start:
                # First of its block now: the blank lines above the block are the new line's.
                body[place] = displaced.with_changes(leading_lines=[])
                line = line.with_changes(leading_lines=displaced.leading_lines)
            _insert(body, place, [line])
            block_end += 1
    return module.with_changes(body=body)


def _sorted_place(
    body: Sequence[cst.BaseStatement], block_end: int, line: cst.SimpleStatementLine
) -> tuple[int, int]:
    """Where ``line`` keeps the standard-library imports ending at ``block_end`` in isort's order, and
    where that block starts.

    ``import m`` lines come before ``from m import`` lines, each sorted by module. An unsorted block
    is left unsorted: the new line then goes last.
    """
    start = block_end
    while start > 0 and (modules := _import_modules(body[start - 1])) and all(map(_is_standard, modules)):
        if modules == ["__future__"]:
            break
        start -= 1
    keys = [_sort_key(body[index]) for index in range(start, block_end)]
    if keys != sorted(keys):
        return block_end, start
    key = _sort_key(line)
    return next((start + i for i, other in enumerate(keys) if key < other), block_end), start


def _sort_key(statement: cst.BaseStatement) -> tuple[bool, str]:
    assert isinstance(statement, cst.SimpleStatementLine)
    first = statement.body[0]
    modules = _import_modules(statement) or [""]
    return isinstance(first, cst.ImportFrom), modules[0].lower()


def _insert(body: list[cst.BaseStatement], index: int, lines: Sequence[cst.SimpleStatementLine]) -> None:
    added: list[cst.BaseStatement] = list(lines)
    if index > 0 and _is_docstring(body[index - 1]) and lines:
        # A new import right after the module's docstring gets the blank line PEP 8 puts there.
        added[0] = lines[0].with_changes(leading_lines=[cst.EmptyLine()])
    body[index:index] = added


def _is_standard(module: str) -> bool:
    return module.partition(".")[0] in sys.stdlib_module_names


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _import_modules(statement: cst.BaseStatement) -> list[str] | None:
    """The modules a top-level import line imports from; None if it is not an import line."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return None
    modules: list[str] = []
    for small in statement.body:
        if isinstance(small, cst.Import):
            modules.extend(get_full_name_for_node_or_raise(alias.name) for alias in small.names)
        elif isinstance(small, cst.ImportFrom):
            if small.relative or small.module is None:
                modules.append(".")
            else:
                modules.append(get_full_name_for_node_or_raise(small.module))
        else:
            return None
    return modules


def _after_standard_imports(body: Sequence[cst.BaseStatement]) -> int:
    """Where a new standard-library import goes: after the last one, else first among the imports."""
    end = _end_of_imports(body)
    first = None
    last_standard = None
    for index in range(end):
        modules = _import_modules(body[index])
        if modules is None or modules == ["__future__"]:
            continue
        if first is None:
            first = index
        if all(_is_standard(m) for m in modules):
            last_standard = index + 1
    if last_standard is not None:
        return last_standard
    if first is not None:
        return first
    return end


def add_declarations(
    module: cst.Module, checking_imports: Iterable[Import], typevar: str | None
) -> cst.Module:
    """Put imports under ``if TYPE_CHECKING:`` (an existing block, else a new one after the imports),
    and declare the module's type variable after them.

    ``from typing import TYPE_CHECKING, TypeVar`` must already be in the module (the caller adds them
    with the other run-time imports).
    """
    wanted = sorted(set(checking_imports), key=_import_order)
    body = list(module.body)
    if wanted:
        block = next((i for i, s in enumerate(body) if _is_type_checking_block(s)), None)
        if block is None:
            new_block = cst.parse_statement("if TYPE_CHECKING:\n    pass\n")
            assert isinstance(new_block, cst.If) and isinstance(new_block.body, cst.IndentedBlock)
            new_block = new_block.with_changes(
                body=new_block.body.with_changes(body=_import_lines(wanted)),
                leading_lines=[cst.EmptyLine()],
            )
            body.insert(_end_of_imports(body), new_block)
        else:
            existing = body[block]
            assert isinstance(existing, cst.If) and isinstance(existing.body, cst.IndentedBlock)
            have = {(name, origin) for name, origin in _imported_names(existing.body.body)}
            missing = [w for w in wanted if (w.name or w.module, w.module if w.name else None) not in have]
            body[block] = existing.with_changes(
                body=existing.body.with_changes(body=[*existing.body.body, *_import_lines(missing)])
            )
    if typevar is not None:
        declaration = cst.parse_statement(f'{typevar} = TypeVar("{typevar}")\n')
        declaration = declaration.with_changes(leading_lines=[cst.EmptyLine()])
        body.insert(_end_of_imports(body), declaration)
    return module.with_changes(body=body)


def _end_of_imports(body: Sequence[cst.BaseStatement]) -> int:
    """The index after the module's leading docstring, imports and ``if TYPE_CHECKING:`` blocks."""
    end = 0
    for index, statement in enumerate(body):
        leading = _is_type_checking_block(statement) or (
            isinstance(statement, cst.SimpleStatementLine)
            and all(
                isinstance(small, (cst.Import, cst.ImportFrom))
                or (isinstance(small, cst.Expr) and isinstance(small.value, cst.SimpleString) and index == 0)
                for small in statement.body
            )
        )
        if leading:
            end = index + 1
        else:
            break
    return end
