"""Judge how completely each function of one source file is annotated.

The definition (also in the README, applied exactly here):

- every ``def`` and ``async def`` counts, methods and nested functions included; lambdas do not;
- the receiver (``self``/``cls``: the first parameter of a function defined in a class body, unless it is a
  ``@staticmethod``) never needs an annotation;
- the *slots* of a function are its other parameters (``*args`` and ``**kwargs`` included) and its return;
  ``__init__`` of a class needs no return annotation when at least one parameter is annotated (mypy's rule);
- *fully typed*: every slot annotated; *partially typed*: some; *untyped*: none;
- ``@overload`` variants and their implementation count as one function, judged by the variants (the
  signature callers see): fully typed if every variant is, untyped if none has an annotation.

``ast`` rather than libcst: it is a C parser, many times faster, and coverage only needs annotations and
names, not formatting.
"""

from __future__ import annotations

import ast
import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

_Function = ast.FunctionDef | ast.AsyncFunctionDef
_TRY_STATEMENTS: tuple[type[ast.Try], ...] = tuple(
    getattr(ast, name) for name in ("Try", "TryStar") if hasattr(ast, name)
)


class Status(str, enum.Enum):
    FULL = "full"
    PARTIAL = "partial"
    UNTYPED = "untyped"


@dataclass(frozen=True, slots=True)
class FunctionCoverage:
    """One function: its runtime qualified name, where it starts, how typed it is, the slots it lacks."""

    qualname: str
    lineno: int
    status: Status
    missing: tuple[str, ...]


def scan_source(source: str | bytes, filename: str = "<source>") -> list[FunctionCoverage]:
    """Every function of a module's source, in source order. Raises SyntaxError for invalid source."""
    tree = ast.parse(source, filename=filename)
    return list(_scan_body(tree.body, prefix="", in_class=False))


def _scan_body(body: Sequence[ast.stmt], prefix: str, in_class: bool) -> Iterator[FunctionCoverage]:
    overloads: dict[str, list[_Function]] = {}
    for node in _statements(body):
        if isinstance(node, ast.ClassDef):
            yield from _scan_body(node.body, f"{prefix}{node.name}.", in_class=True)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            qualname = f"{prefix}{node.name}"
            if _is_overload(node):
                overloads.setdefault(node.name, []).append(node)
            else:
                variants = overloads.pop(node.name, None)
                yield _judge(qualname, variants or [node], in_class)
            yield from _scan_body(node.body, f"{qualname}.<locals>.", in_class=False)
    # Overloads without an implementation (stubs, Protocols): judged on their own.
    for name, variants in overloads.items():
        yield _judge(f"{prefix}{name}", variants, in_class)


def _statements(body: Sequence[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements of a block, looking into if/try/with/for/while blocks where defs also live."""
    for node in body:
        yield node
        if isinstance(node, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith)):
            yield from _statements(node.body)
            yield from _statements(getattr(node, "orelse", []))
        elif isinstance(node, _TRY_STATEMENTS):
            yield from _statements(node.body)
            for handler in node.handlers:
                yield from _statements(handler.body)
            yield from _statements(node.orelse)
            yield from _statements(node.finalbody)


def _decorator_names(node: _Function) -> set[str]:
    names = set()
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Name):
            names.add(decorator.id)
        elif isinstance(decorator, ast.Attribute):
            names.add(decorator.attr)
    return names


def _is_overload(node: _Function) -> bool:
    return "overload" in _decorator_names(node)


def _judge(qualname: str, variants: Sequence[_Function], in_class: bool) -> FunctionCoverage:
    statuses = [_slots(node, in_class) for node in variants]
    missing = tuple(dict.fromkeys(slot for slots in statuses for slot, annotated in slots if not annotated))
    any_annotated = any(annotated for slots in statuses for _, annotated in slots)
    if not missing:
        status = Status.FULL
    elif any_annotated:
        status = Status.PARTIAL
    else:
        status = Status.UNTYPED
    return FunctionCoverage(qualname, variants[0].lineno, status, missing)


def _slots(node: _Function, in_class: bool) -> list[tuple[str, bool]]:
    """(slot name, annotated) for each slot of ``node``; the return slot is named "return"."""
    arguments = node.args
    positional = [*arguments.posonlyargs, *arguments.args]
    if in_class and "staticmethod" not in _decorator_names(node) and positional:
        positional = positional[1:]
    parameters = [*positional, *arguments.kwonlyargs]
    if arguments.vararg is not None:
        parameters.append(arguments.vararg)
    if arguments.kwarg is not None:
        parameters.append(arguments.kwarg)
    slots = [(p.arg, p.annotation is not None) for p in parameters]
    init_exempt = in_class and node.name == "__init__" and any(annotated for _, annotated in slots)
    if not init_exempt:
        slots.append(("return", node.returns is not None))
    return slots
