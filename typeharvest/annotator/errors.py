"""The annotator's one user-facing failure."""

from __future__ import annotations


class AnnotatorError(Exception):
    """A problem with the user's input (a module's source), told in one line that names the file."""
