"""The annotator: turns traced signatures into annotations, written inline or as stubs, judged by mypy."""

from __future__ import annotations

from typeharvest.annotator.errors import AnnotatorError
from typeharvest.annotator.explain import explain_function
from typeharvest.annotator.outcome import AnnotateOptions, AnnotateReport, ModuleTraces
from typeharvest.annotator.pipeline import annotate, write_changes
from typeharvest.annotator.sources import find_module_source

__all__ = [
    "AnnotateOptions",
    "AnnotateReport",
    "AnnotatorError",
    "ModuleTraces",
    "annotate",
    "explain_function",
    "find_module_source",
    "write_changes",
]
