"""Build the ``.pyi`` stub of a module from its source and its traces.

A stub beside a module hides the whole module from a type checker, so it must describe all of it: mypy's
own ``stubgen`` writes the skeleton (every class, function and variable), then the traced signatures are
written into it. Annotations the source already has are never replaced; the guesses stubgen made where the
source had none (a default's type, ``-> None`` for a body without ``return``) give way to what was observed.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from collections.abc import Sequence
from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

from typeharvest.annotator.apply import (
    AnnotationApplier,
    DefinitionShape,
    FunctionAnnotations,
    collect_shapes,
)
from typeharvest.annotator.combine import with_none
from typeharvest.annotator.errors import AnnotatorError
from typeharvest.annotator.render import Renderer
from typeharvest.annotator.signatures import InferredSignature, infer
from typeharvest.records import FunctionInfo, Observation


def build_stub(module: str, source_path: Path, observations: Sequence[Observation]) -> str:
    """The stub text of ``module`` (whose source is ``source_path``) with its traced signatures."""
    source = _parse(source_path)
    shapes = collect_shapes(source)
    skeleton = cst.parse_module(stubgen_skeleton(source_path))
    renderer = Renderer(module, _top_level_names(skeleton))
    annotations = {
        signature.function.qualname: _render(signature, shapes.get(signature.function.qualname), renderer)
        for signature in infer_all(observations)
    }
    protected = {qualname: shape.annotated for qualname, shape in shapes.items()}
    annotated = skeleton.visit(AnnotationApplier(annotations, protected))
    context = CodemodContext()
    for needed in sorted(renderer.imports):
        AddImportsVisitor.add_needed_import(context, needed.module, needed.name)
    with_imports = AddImportsVisitor(context).transform_module(annotated)
    # stubgen imported what its own guesses needed (``Incomplete``, ``Generator``); drop those that the
    # traced annotations replaced. An ``import x as x`` re-export is left alone.
    cleanup = CodemodContext(wrapper=cst.MetadataWrapper(with_imports))
    for module_name, name in _plain_from_imports(skeleton):
        RemoveImportsVisitor.remove_unused_import(cleanup, module_name, name)
    return RemoveImportsVisitor(cleanup).transform_module(with_imports).code


def infer_all(observations: Sequence[Observation]) -> list[InferredSignature]:
    """One inferred signature per function, in order of first appearance."""
    grouped: dict[FunctionInfo, list[Observation]] = {}
    for observation in observations:
        grouped.setdefault(observation.function, []).append(observation)
    return [infer(function, group) for function, group in grouped.items()]


def _render(
    signature: InferredSignature, shape: DefinitionShape | None, renderer: Renderer
) -> FunctionAnnotations:
    parameters: dict[str, str] = {}
    for name, union in signature.parameters.items():
        if shape is not None and name == shape.receiver:
            continue
        if shape is not None and name in shape.none_defaults:
            union = with_none(union)
        parameters[name] = renderer.render(union)
    returns = renderer.render(signature.returns) if signature.returns is not None else None
    return FunctionAnnotations(parameters, returns)


def _parse(path: Path) -> cst.Module:
    try:
        return cst.parse_module(path.read_bytes())
    except OSError as exc:
        raise AnnotatorError(f"cannot read {path}: {exc.strerror}") from None
    except cst.ParserSyntaxError as exc:
        raise AnnotatorError(f"cannot parse {path}: line {exc.raw_line}: {exc.message}") from None


def stubgen_skeleton(source_path: Path) -> str:
    """mypy's stubgen output for one source file (parse-only: nothing of the project is imported)."""
    from mypy import stubgen

    with tempfile.TemporaryDirectory(prefix="typeharvest-stubgen-") as out:
        options = stubgen.parse_options(
            ["--parse-only", "--include-private", "--quiet", "-o", out, str(source_path)]
        )
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                stubgen.generate_stubs(options)
        except (Exception, SystemExit) as exc:
            raise AnnotatorError(f"stubgen failed on {source_path}: {exc}") from None
        stubs = sorted(Path(out).rglob("*.pyi"))
        if len(stubs) != 1:
            raise AnnotatorError(f"stubgen wrote no stub for {source_path}")
        return stubs[0].read_text(encoding="utf-8")


def _top_level_names(module: cst.Module) -> dict[str, str | None]:
    """Names a module binds at top level: the module a name was imported from, None if defined here.

    An added import must not shadow any of them (``import a.b`` binds ``a``, from no module of its own).
    """
    names: dict[str, str | None] = {}
    for statement in module.body:
        if isinstance(statement, (cst.ClassDef, cst.FunctionDef)):
            names[statement.name.value] = None
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    names[small.target.value] = None
                elif isinstance(small, cst.Assign):
                    names.update(
                        (t.target.value, None) for t in small.targets if isinstance(t.target, cst.Name)
                    )
                elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                    source = cst.helpers.get_absolute_module_from_package_for_import(None, small)
                    for alias in small.names:
                        names[_bound_name(alias)] = source if alias.asname is None else None
                elif isinstance(small, cst.Import):
                    names.update((_bound_name(alias).partition(".")[0], None) for alias in small.names)
    return names


def _bound_name(alias: cst.ImportAlias) -> str:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return cst.helpers.get_full_name_for_node_or_raise(alias.name)


def _plain_from_imports(module: cst.Module) -> list[tuple[str, str]]:
    """(module, name) of each ``from module import name`` without ``as``: candidates for removal."""
    found: list[tuple[str, str]] = []
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative:
                if isinstance(small.names, cst.ImportStar):
                    continue
                source = cst.helpers.get_full_name_for_node_or_raise(small.module)
                found.extend(
                    (source, cst.helpers.get_full_name_for_node_or_raise(alias.name))
                    for alias in small.names
                    if alias.asname is None
                )
    return found
