"""Where a traced module's source file is."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from typeharvest.annotator.errors import AnnotatorError


def find_module_source(module: str, recorded: str) -> Path:
    """The source of ``module``: the file the tracer saw, else the one the import system finds.

    Traces imported from MonkeyType carry no file name. ``find_spec`` imports the parent packages (with
    the working directory on the path), never the module itself.
    """
    if recorded and Path(recorded).is_file():
        return Path(recorded)
    sys.path.insert(0, os.getcwd())
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    finally:
        sys.path.pop(0)
    if spec is None or spec.origin is None or not Path(spec.origin).is_file():
        raise AnnotatorError(f"cannot find the source of module {module!r} (run from the project's root)")
    return Path(spec.origin)
