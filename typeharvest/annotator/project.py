"""What the project says about the Python it targets, so annotations use syntax it can run and check.

``typing.Self`` written into a project that supports 3.10 is an error for mypy (which checks with the
project's ``python_version``) and an ImportError at run time. The version comes from the project's mypy
configuration, else from ``requires-python``; the nearest configuration above the code wins, as for mypy.
"""

from __future__ import annotations

import configparser
import re
import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # mypy itself depends on tomli before 3.11
    import tomli as tomllib

_INI_FILES = ("mypy.ini", ".mypy.ini", "setup.cfg")


def target_python(start: Path) -> tuple[int, int] | None:
    """The oldest Python the project at or above ``start`` supports, if its configuration says."""
    for directory in (start, *start.parents):
        found = _from_pyproject(directory / "pyproject.toml")
        for name in _INI_FILES:
            found = found or _from_ini(directory / name)
        if found is not None:
            return found
        if (directory / ".git").exists():
            return None
    return None


def _from_pyproject(path: Path) -> tuple[int, int] | None:
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    mypy = data.get("tool", {}).get("mypy", {})
    version = _version(str(mypy.get("python_version", "")))
    if version is None:
        version = _version(str(data.get("project", {}).get("requires-python", "")))
    return version


def _from_ini(path: Path) -> tuple[int, int] | None:
    parser = configparser.ConfigParser()
    try:
        parser.read_string(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, configparser.Error):
        return None
    if not parser.has_section("mypy"):
        return None
    return _version(parser.get("mypy", "python_version", fallback=""))


def _version(text: str) -> tuple[int, int] | None:
    """``3.10`` from ``"3.10"``, ``">=3.10"`` or ``">=3.10,<4"``."""
    match = re.search(r"3\.(\d+)", text)
    return (3, int(match.group(1))) if match else None
