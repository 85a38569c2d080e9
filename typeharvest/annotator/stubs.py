"""Stubs (``.pyi``) that describe a whole module, with the traced signatures filled in.

A ``.pyi`` beside a ``.py`` hides the ``.py`` from type checkers, so a stub that only listed the traced
functions would break every user of the module: the skeleton comes from mypy's ``stubgen`` (or from the
stub that is already there, which is merged into, never replaced).
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from collections.abc import Collection
from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import RemoveImportsVisitor

from typeharvest.annotator.apply import AnnotationApplier, collect_shapes
from typeharvest.annotator.errors import AnnotatorError
from typeharvest.annotator.inline import Rendering, collect_annotations
from typeharvest.annotator.layout import add_declarations, add_imports, read_layout
from typeharvest.annotator.plan import ModulePlan, SlotKey
from typeharvest.annotator.render import TYPEVAR_NAME, Import, Renderer


def render_stub(
    plan: ModulePlan,
    withdrawn: Collection[SlotKey],
    *,
    existing: str | None,
    overwrite: bool,
    python_version: tuple[int, int],
) -> Rendering:
    """The stub of ``plan``'s module: ``existing`` (or stubgen's skeleton) with the traced signatures."""
    try:
        skeleton = cst.parse_module(existing if existing is not None else stubgen_skeleton(plan.path))
    except cst.ParserSyntaxError as exc:
        raise AnnotatorError(f"cannot parse the stub of {plan.module}: {exc.message}") from None
    layout = read_layout(skeleton)
    renderer = Renderer(plan.module, layout.bound, python_version=python_version)
    # What the source annotates is kept, and so is what a stub that is already there annotates (stubgen's
    # own guesses, like ``Generator[Incomplete]``, are not worth keeping).
    kept = collect_shapes(skeleton) if existing is not None else plan.shapes
    protected = {} if overwrite else {q: shape.annotated for q, shape in kept.items()}
    annotations, written = collect_annotations(plan, renderer, withdrawn, protected, lambda _: ())
    applier = AnnotationApplier(annotations)
    tree = skeleton.visit(applier)
    # Functions nested in functions have no place in a stub.
    written = {slot: text for slot, text in written.items() if slot[0] in applier.applied}
    typevar = TYPEVAR_NAME if renderer.typevar_used and TYPEVAR_NAME not in layout.typevars else None
    needed = set(renderer.imports) | ({Import("typing", "TypeVar")} if typevar else set())
    tree = add_declarations(add_imports(tree, needed), (), typevar)
    if existing is None:
        # stubgen imported what its own guesses needed (``Incomplete``, ``Generator``); drop those that
        # the traced annotations replaced. An ``import x as x`` re-export is left alone.
        cleanup = CodemodContext(wrapper=cst.MetadataWrapper(tree))
        for module_name, name in _plain_from_imports(skeleton):
            RemoveImportsVisitor.remove_unused_import(cleanup, module_name, name)
        tree = RemoveImportsVisitor(cleanup).transform_module(tree)
    return Rendering(tree.code, written)


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
