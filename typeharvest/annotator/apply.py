"""Write annotations into a libcst tree, by qualified name, leaving everything else as it was.

The same transformer serves stubs and source files: it finds each ``def`` by the qualified name the
interpreter reported for it (``C.f``, ``f.<locals>.g``), which is how traces join the code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import libcst as cst

from typeharvest.annotator.signatures import RETURN


@dataclass(frozen=True, slots=True)
class FunctionAnnotations:
    """Annotation source texts for one function, by parameter name (and ``RETURN``)."""

    parameters: Mapping[str, str] = field(default_factory=dict)
    returns: str | None = None


@dataclass(frozen=True, slots=True)
class DefinitionShape:
    """What source code tells about a ``def`` that a trace cannot: its receiver and its defaults."""

    receiver: str | None  # the name of ``self``/``cls``, never annotated
    none_defaults: frozenset[str]  # parameters whose default is the literal None
    annotated: frozenset[str]  # slots (parameter names, RETURN) that already carry an annotation
    parameters: frozenset[str] = frozenset()  # every parameter's name
    statement: int = 0  # the index of the top-level statement the ``def`` is part of


class ScopeStack:
    """The enclosing classes and functions of the node being visited."""

    def __init__(self) -> None:
        self._scopes: list[tuple[str, bool]] = []  # (name, is_class)

    def push(self, name: str, *, is_class: bool) -> None:
        self._scopes.append((name, is_class))

    def pop(self) -> None:
        self._scopes.pop()

    def qualname(self, name: str) -> str:
        """The qualified name of ``name`` defined here, as the interpreter spells it (``f.<locals>.g``)."""
        parts: list[str] = []
        for scope, is_class in self._scopes:
            parts.append(scope)
            if not is_class:
                parts.append("<locals>")
        parts.append(name)
        return ".".join(parts)

    def in_class(self) -> bool:
        return bool(self._scopes) and self._scopes[-1][1]


def _shape(node: cst.FunctionDef, in_class: bool, statement: int) -> DefinitionShape:
    decorators = {d.decorator.value if isinstance(d.decorator, cst.Name) else None for d in node.decorators}
    params = node.params
    positional = [*params.posonly_params, *params.params]
    receiver = None
    if in_class and "staticmethod" not in decorators and positional:
        receiver = positional[0].name.value
    every = [*positional, *params.kwonly_params]
    none_defaults = frozenset(
        p.name.value for p in every if isinstance(p.default, cst.Name) and p.default.value == "None"
    )
    stars = [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
    annotated = {p.name.value for p in (*every, *stars) if p.annotation is not None}
    if node.returns is not None:
        annotated.add(RETURN)
    names = frozenset(p.name.value for p in (*every, *stars))
    return DefinitionShape(receiver, none_defaults, frozenset(annotated), names, statement)


class ShapeCollector(cst.CSTVisitor):
    """Reads the shape of every ``def`` in a module, by qualified name."""

    def __init__(self, top_level: dict[int, int]) -> None:
        super().__init__()
        self.shapes: dict[str, DefinitionShape] = {}
        self._scope = ScopeStack()
        self._top_level = top_level  # id(statement) → its index in the module's body
        self._statement = 0

    def on_visit(self, node: cst.CSTNode) -> bool:
        self._statement = self._top_level.get(id(node), self._statement)
        return super().on_visit(node)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._scope.push(node.name.value, is_class=True)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._scope.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        # @overload variants come before the implementation, the definition the interpreter runs: the last
        # one with a given name wins.
        self.shapes[self._scope.qualname(node.name.value)] = _shape(
            node, self._scope.in_class(), self._statement
        )
        self._scope.push(node.name.value, is_class=False)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._scope.pop()


def collect_shapes(module: cst.Module) -> dict[str, DefinitionShape]:
    """The shape of each ``def`` of ``module``."""
    collector = ShapeCollector({id(statement): index for index, statement in enumerate(module.body)})
    module.visit(collector)
    return collector.shapes


class AnnotationApplier(cst.CSTTransformer):
    """Sets the annotations of ``annotations`` on the matching ``def``s (what to keep is decided before)."""

    def __init__(self, annotations: Mapping[str, FunctionAnnotations]) -> None:
        super().__init__()
        self._annotations = annotations
        self.applied: set[str] = set()
        self._scope = ScopeStack()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._scope.push(node.name.value, is_class=True)

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        self._scope.pop()
        return updated_node

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._scope.push(node.name.value, is_class=False)

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        self._scope.pop()
        qualname = self._scope.qualname(original_node.name.value)
        wanted = self._annotations.get(qualname)
        if wanted is None:
            return updated_node
        params = updated_node.params

        def annotate(param: cst.Param) -> cst.Param:
            text = wanted.parameters.get(param.name.value)
            if text is None:
                return param
            annotation = cst.Annotation(cst.parse_expression(text))
            if param.default is None:
                return param.with_changes(annotation=annotation)
            # PEP 8 spaces the "=" of an annotated parameter's default (``x: int = 0``), not of a bare one.
            spaced = cst.AssignEqual(cst.SimpleWhitespace(" "), cst.SimpleWhitespace(" "))
            return param.with_changes(annotation=annotation, equal=spaced)

        star_arg = params.star_arg
        new_params = params.with_changes(
            posonly_params=[annotate(p) for p in params.posonly_params],
            params=[annotate(p) for p in params.params],
            kwonly_params=[annotate(p) for p in params.kwonly_params],
            star_arg=annotate(star_arg) if isinstance(star_arg, cst.Param) else star_arg,
            star_kwarg=annotate(params.star_kwarg) if params.star_kwarg is not None else None,
        )
        changes: dict[str, object] = {"params": new_params}
        if wanted.returns is not None:
            changes["returns"] = cst.Annotation(cst.parse_expression(wanted.returns))
        self.applied.add(qualname)
        return updated_node.with_changes(**changes)
