"""Where a traced module's source file is."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from typeharvest.annotator.errors import AnnotatorError


def find_module_source(module: str, recorded: str, src: Sequence[Path] = ()) -> Path:
    """The source of ``module``: under a ``--src`` root, else the file the tracer saw, else the one the
    import system finds.

    Traces imported from MonkeyType carry no file name, and traces from a server name the server's paths:
    ``--src`` points at the checkout to annotate. ``find_spec`` imports the parent packages (with the
    working directory on the path), never the module itself.
    """
    parts = module.split(".")
    for root in src:
        for candidate in (root.joinpath(*parts).with_suffix(".py"), root.joinpath(*parts, "__init__.py")):
            if candidate.is_file():
                return candidate
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
        raise AnnotatorError(
            f"cannot find the source of module {module!r} (run from the project's root, or give --src)"
        )
    return Path(spec.origin)
