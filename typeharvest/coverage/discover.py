"""Which files a coverage report reads, and the module name of each.

Defaults leave out what is not the project's own typed surface: tests, migrations, virtualenvs, hidden and
build folders. ``exclude`` adds glob patterns (matched against the path relative to the scanned root, and
against each folder name); ``[tool.typeharvest] exclude = [...]`` in ``pyproject.toml`` does the same.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TypeVar

PathT = TypeVar("PathT", Path, PurePosixPath)

DEFAULT_EXCLUDES = (
    "test_*.py",
    "*_test.py",
    "conftest.py",
    "tests",
    "test",
    "testing",
    "migrations",
    "site-packages",
    "node_modules",
    "__pycache__",
    "build",
    "dist",
    "venv",
    ".*",
)


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A module to judge: ``path`` is the file read (a ``.pyi`` beside a ``.py`` wins, as for mypy)."""

    module: str
    path: Path


def discover(roots: Sequence[Path], exclude: Sequence[str] = ()) -> list[SourceFile]:
    """The modules under ``roots`` (files or folders), sorted by module name."""
    patterns = (*DEFAULT_EXCLUDES, *exclude)
    paths = [path for root in roots for path in _walk(root, patterns)]
    return choose_sources(paths, module_name)


def choose_sources(paths: Iterable[PathT], name_of: Callable[[PathT], str]) -> list[SourceFile]:
    """One source per module, a stub shadowing its source exactly as a type checker resolves it."""
    found: dict[str, SourceFile] = {}
    for path in paths:
        module = name_of(path)
        existing = found.get(module)
        if existing is None or (path.suffix == ".pyi" and existing.path.suffix == ".py"):
            found[module] = SourceFile(module, Path(path))
    return sorted(found.values(), key=lambda source: source.module)


def _walk(root: Path, patterns: Sequence[str]) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for folder, dirnames, filenames in os.walk(root):
        here = Path(folder)
        dirnames[:] = sorted(
            name
            for name in dirnames
            if not excluded(PurePosixPath((here / name).relative_to(root).as_posix()), patterns)
            and not _is_virtualenv(here / name)
        )
        for name in sorted(filenames):
            relative = PurePosixPath((here / name).relative_to(root).as_posix())
            if name.endswith((".py", ".pyi")) and not excluded(relative, patterns):
                yield here / name


def _is_virtualenv(folder: Path) -> bool:
    try:
        return (folder / "pyvenv.cfg").is_file()
    except OSError:  # unreadable: not ours to scan either
        return True


def excluded(relative: PurePosixPath, patterns: Sequence[str]) -> bool:
    """Whether a path (relative to the scanned root) or any of its folders or its name matches a pattern."""
    text = relative.as_posix()
    return any(
        fnmatch.fnmatch(text, pattern) or any(fnmatch.fnmatch(part, pattern) for part in relative.parts)
        for pattern in patterns
    )


def module_name(path: Path) -> str:
    """The importable name of a file: its folders count as packages while they hold an ``__init__``."""
    path = path.resolve()
    return dotted_name(
        path, lambda folder: (folder / "__init__.py").exists() or (folder / "__init__.pyi").exists()
    )


def dotted_name(path: PathT, is_package: Callable[[PathT], bool]) -> str:
    """``pkg/sub/mod.py`` → ``pkg.sub.mod`` for as many enclosing folders as ``is_package`` accepts."""
    parts = [] if path.stem == "__init__" else [path.stem]
    folder = path.parent
    while folder != folder.parent and is_package(folder):
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts) or path.parent.name
