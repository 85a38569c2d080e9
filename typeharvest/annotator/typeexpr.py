"""Type strings as the tracer writes them, parsed into a small tree that can be merged and printed.

Grammar (see ``typeharvest.records``)::

    union := atom ("|" atom)*
    atom  := NAME ["[" args "]"]
    args  := "()" | union ("," union)* ["," "..."]
    NAME  := dotted module path, then "." or ":" and the class's qualified name
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z_][^\s\[\],|]*")  # a class name starts like an identifier (``method-wrapper``)
_TOKEN = re.compile(r"\s*(\.\.\.|\(\)|[\[\],|]|[^\s\[\],|]+)")


@dataclass(frozen=True, slots=True, order=True)
class TypeRef:
    """One class, possibly parameterised. ``args`` is None when the tracer saw no elements (``list``)."""

    name: str
    args: tuple[Union, ...] | None = None
    variadic: bool = False  # tuple[X, ...]

    @property
    def module(self) -> str:
        module, _ = split_name(self.name)
        return module

    @property
    def qualname(self) -> str:
        _, qualname = split_name(self.name)
        return qualname


@dataclass(frozen=True, slots=True, order=True)
class Union:
    """A set of alternatives, kept sorted so that equal unions compare and print equal."""

    members: tuple[TypeRef, ...]

    @staticmethod
    def of(members: Iterable[TypeRef]) -> Union:
        """A union of TypeRefs, de-duplicated and sorted."""
        return Union(tuple(sorted(set(members), key=_order)))


def _order(ref: TypeRef) -> tuple[object, ...]:
    """The sort key of a TypeRef. Why not the dataclass order: ``list`` (args None) and ``list[int]`` in one
    union (a list holding ``[]`` and ``[1]``) would compare None with a tuple and raise TypeError."""
    args = tuple(tuple(_order(member) for member in arg.members) for arg in ref.args or ())
    return (ref.name, ref.args is not None, args, ref.variadic)


class TypeStringError(ValueError):
    """A type string that does not follow the grammar (a database written by something else)."""


def split_name(name: str) -> tuple[str, str]:
    """(module, qualname) of a type name: ``a.b:C.D`` → (``a.b``, ``C.D``); ``a.b.C`` → (``a.b``, ``C``)."""
    if ":" in name:
        module, _, qualname = name.partition(":")
        return module, qualname
    module, _, qualname = name.rpartition(".")
    return module, qualname


def parse(text: str) -> Union:
    """Parse one type string."""
    tokens = _TOKEN.findall(text)
    parser = _Parser(tokens, text)
    result = parser.union()
    if parser.position != len(tokens):
        raise TypeStringError(f"unexpected {tokens[parser.position]!r} in type {text!r}")
    return result


class _Parser:
    def __init__(self, tokens: list[str], text: str) -> None:
        self.tokens = tokens
        self.text = text
        self.position = 0

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise TypeStringError(f"expected {expected or 'a name'} in type {self.text!r}")
        self.position += 1
        return token

    def union(self) -> Union:
        members = [self.atom()]
        while self.peek() == "|":
            self.take("|")
            members.append(self.atom())
        return Union.of(members)

    def atom(self) -> TypeRef:
        name = self.take()
        if _NAME.fullmatch(name) is None:
            raise TypeStringError(f"expected a name, found {name!r} in type {self.text!r}")
        if self.peek() != "[":
            return TypeRef(name)
        self.take("[")
        if self.peek() == "()":
            self.take("()")
            self.take("]")
            return TypeRef(name, ())
        args = [self.union()]
        variadic = False
        while self.peek() == ",":
            self.take(",")
            if self.peek() == "...":
                self.take("...")
                variadic = True
                break
            args.append(self.union())
        self.take("]")
        return TypeRef(name, tuple(args), variadic)
