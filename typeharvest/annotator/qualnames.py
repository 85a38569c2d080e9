"""The functions of a source text under the names the interpreter gives them: the key traces join on."""

from __future__ import annotations

import ast
from collections.abc import Iterator

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def functions(text: str) -> Iterator[tuple[str, FunctionNode]]:
    """Every ``def`` of ``text`` with its ``__qualname__`` (``C.f``, ``f.<locals>.g``); none if it does
    not parse."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return
    yield from _walk(tree, "")


def _walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, FunctionNode]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.ClassDef):
            yield from _walk(child, f"{prefix}{child.name}.")
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            qualname = f"{prefix}{child.name}"
            yield qualname, child
            yield from _walk(child, f"{qualname}.<locals>.")
        else:
            yield from _walk(child, prefix)
