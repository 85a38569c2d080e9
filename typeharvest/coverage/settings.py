"""``[tool.typeharvest]`` in ``pyproject.toml``: project-wide coverage settings."""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # mypy, a dependency, brings tomli on 3.10
    import tomli as tomllib


class SettingsError(ValueError):
    """A ``[tool.typeharvest]`` table that cannot be used; the message names the file."""


def configured_excludes(project: Path) -> list[str]:
    """The ``exclude`` patterns of ``project/pyproject.toml``'s ``[tool.typeharvest]`` table, if any."""
    path = project / "pyproject.toml"
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"cannot read {path}: {exc}") from None
    table = data.get("tool", {}).get("typeharvest", {})
    exclude = table.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(item, str) for item in exclude):
        raise SettingsError(f"{path}: [tool.typeharvest] exclude must be a list of strings")
    return exclude
