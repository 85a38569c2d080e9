"""How a function uses its parameters, for ``--generalize-args``: a list that is only iterated over is an
``Iterable``, and saying so lets callers pass a tuple, a set or a generator.

Read from the source with ``ast``. Only a few uses are understood — iteration (``for``, comprehensions,
the iterating built-ins), ``len()``, ``in`` and indexing; any other use of the parameter (an attribute, a
call of another function, a return, a rebinding) means the concrete type stays.
"""

from __future__ import annotations

import ast
import enum

from typeharvest.annotator.combine import NONE, merge
from typeharvest.annotator.qualnames import FunctionNode, functions
from typeharvest.annotator.signatures import InferredSignature
from typeharvest.annotator.typeexpr import TypeRef, Union

_ITERATING_CALLS = frozenset(
    {"list", "tuple", "set", "frozenset", "sorted", "sum", "min", "max", "any", "all", "enumerate", "iter"}
    | {"zip", "map", "filter", "dict"}
)


class Need(enum.IntEnum):
    """The least a parameter's uses need, from the most general type up."""

    ITERABLE = 1  # iterated over
    COLLECTION = 2  # and/or len(), ``in``
    SEQUENCE = 3  # and/or indexed


def parameter_needs(text: str) -> dict[str, dict[str, Need]]:
    """For each function (by qualified name), the parameters whose every use is understood, and the
    most general abstract type those uses allow."""
    return {qualname: _needs(node) for qualname, node in functions(text)}


def _needs(function: FunctionNode) -> dict[str, Need]:
    arguments = function.args
    names = {a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)}
    parents: dict[int, ast.AST] = {}
    uses: dict[str, list[Need | None]] = {name: [] for name in names}
    for statement in function.body:
        for node in ast.walk(statement):
            for child in ast.iter_child_nodes(node):
                parents[id(child)] = node
    for statement in function.body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and node.id in uses:
                uses[node.id].append(_use(node, parents.get(id(node))))
    needs: dict[str, Need] = {}
    for name, found in uses.items():
        understood = [need for need in found if need is not None]
        if understood and len(understood) == len(found):
            needs[name] = max(understood)
    return needs


def _use(name: ast.Name, parent: ast.AST | None) -> Need | None:
    if not isinstance(name.ctx, ast.Load):
        return None
    if isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)) and parent.iter is name:
        return Need.ITERABLE
    if isinstance(parent, ast.Call) and name in parent.args:
        function = parent.func
        if isinstance(function, ast.Name) and function.id in _ITERATING_CALLS:
            return Need.ITERABLE
        if isinstance(function, ast.Name) and function.id == "len":
            return Need.COLLECTION
        if isinstance(function, ast.Attribute) and function.attr == "join":
            return Need.ITERABLE
        return None
    if isinstance(parent, ast.Compare) and name in parent.comparators:
        operator = parent.ops[parent.comparators.index(name)]
        return Need.COLLECTION if isinstance(operator, (ast.In, ast.NotIn)) else None
    if isinstance(parent, ast.Subscript) and parent.value is name and not isinstance(parent.slice, ast.Slice):
        return Need.SEQUENCE
    return None


_ABSTRACT = {
    Need.ITERABLE: "collections.abc.Iterable",
    Need.COLLECTION: "collections.abc.Collection",
    Need.SEQUENCE: "collections.abc.Sequence",
}
_SEQUENCES = ("builtins.list", "builtins.tuple")
_CONTAINERS = (*_SEQUENCES, "builtins.set", "builtins.frozenset")


def generalize(signature: InferredSignature, needs: dict[str, Need]) -> None:
    """Replace a concrete container by the abstract type its uses need (``list[int]`` → ``Iterable[int]``)."""
    for name, need in needs.items():
        slot = signature.slots.get(name)
        if slot is None or slot.union is None:
            continue
        containers = [ref for ref in slot.union.members if ref.name != NONE]
        if len(containers) != 1 or containers[0].name not in _CONTAINERS or not containers[0].args:
            continue
        container, arguments = containers[0], containers[0].args or ()
        if need is Need.SEQUENCE and container.name not in _SEQUENCES:
            continue
        elements = merge(arguments) if container.name == "builtins.tuple" else arguments[0]
        abstract = TypeRef(_ABSTRACT[need], (elements,))
        slot.union = Union.of([abstract, *(ref for ref in slot.union.members if ref.name == NONE)])
        kind = abstract.name.rpartition(".")[2]
        slot.rules.append(f"--generalize-args: the function only uses what {kind} offers")
