"""The annotator: turns traced signatures into type annotations (stubs now, inline edits next)."""

from __future__ import annotations

from typeharvest.annotator.errors import AnnotatorError
from typeharvest.annotator.sources import find_module_source
from typeharvest.annotator.stubs import build_stub

__all__ = ["AnnotatorError", "build_stub", "find_module_source"]
