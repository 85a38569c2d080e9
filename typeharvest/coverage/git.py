"""Coverage at any commit, read from git itself, never from (or into) the working tree.

Why: a project adopting the report wants its history on day one (``--backfill N``), and a pull request
wants to know what it changed against its base (``--diff-base REV``); checking out old commits would
disturb the developer's work tree, while ``git ls-tree`` and ``git cat-file --batch`` read any commit
directly from the object database.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from typeharvest.coverage.discover import DEFAULT_EXCLUDES, choose_sources, dotted_name, excluded
from typeharvest.coverage.report import CoverageReport, ModuleCoverage
from typeharvest.coverage.scan import scan_source


class GitError(Exception):
    """git failed or is missing; the message is one line."""


@dataclass(frozen=True, slots=True)
class Commit:
    sha: str
    timestamp: float
    subject: str


def run_git(args: Sequence[str], cwd: Path, stdin: bytes | None = None) -> bytes:
    """Run git and return its output; a failure becomes a one-line GitError."""
    try:
        result = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, check=False)
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror}") from None
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        raise GitError(f"git {args[0]}: {message[-1] if message else 'failed'}")
    return result.stdout


def repository_root(cwd: Path) -> Path | None:
    """The top folder of the git work tree holding ``cwd``, or None outside a repository."""
    try:
        return Path(run_git(["rev-parse", "--show-toplevel"], cwd).decode().strip())
    except GitError:
        return None


def head(cwd: Path) -> tuple[str | None, str | None]:
    """(commit, branch) of the work tree, each None when unknown (no repository, detached HEAD)."""
    try:
        commit = run_git(["rev-parse", "HEAD"], cwd).decode().strip()
    except GitError:
        return None, None
    try:
        branch = run_git(["symbolic-ref", "--quiet", "--short", "HEAD"], cwd).decode().strip() or None
    except GitError:
        branch = None
    return commit, branch


def recent_commits(count: int, cwd: Path) -> list[Commit]:
    """The last ``count`` commits of HEAD's first-parent history, oldest first."""
    out = run_git(["log", "--first-parent", f"-n{count}", "--format=%H%x00%ct%x00%s"], cwd).decode()
    commits = []
    for line in out.splitlines():
        sha, timestamp, subject = line.split("\0", 2)
        commits.append(Commit(sha, float(timestamp), subject))
    return commits[::-1]


def measure_at(revision: str, roots: Sequence[Path], exclude: Sequence[str], cwd: Path) -> CoverageReport:
    """The coverage report of ``roots`` as they were at ``revision``."""
    top = repository_root(cwd)
    if top is None:
        raise GitError(f"not in a git repository: {cwd}")
    try:
        prefixes = [PurePosixPath(root.resolve().relative_to(top.resolve()).as_posix()) for root in roots]
    except ValueError:
        raise GitError(f"not inside the git repository at {top}: {' '.join(map(str, roots))}") from None
    listing = run_git(["ls-tree", "-r", "-z", "--name-only", revision, "--", *map(str, prefixes)], top)
    files = [PurePosixPath(name) for name in listing.decode().split("\0") if name]
    every = set(files)
    patterns = (*DEFAULT_EXCLUDES, *exclude)
    wanted = [
        path
        for path in files
        if path.suffix in (".py", ".pyi") and not excluded(_relative_to_roots(path, prefixes), patterns)
    ]

    def is_package(folder: PurePosixPath) -> bool:
        return folder / "__init__.py" in every or folder / "__init__.pyi" in every

    sources = choose_sources(wanted, lambda path: dotted_name(path, is_package))
    contents = _read_blobs(revision, [source.path.as_posix() for source in sources], top)
    modules = []
    errors = []
    lines = 0
    for source, data in zip(sources, contents, strict=True):
        try:
            functions = scan_source(data, source.path.as_posix())
        except (SyntaxError, ValueError) as exc:
            errors.append((source.path.as_posix(), f"syntax error: {exc}"))
            continue
        lines += data.count(b"\n")
        modules.append(ModuleCoverage(source.module, source.path.as_posix(), tuple(functions)))
    return CoverageReport(tuple(modules), tuple(errors), lines)


def _relative_to_roots(path: PurePosixPath, prefixes: Sequence[PurePosixPath]) -> PurePosixPath:
    for prefix in prefixes:
        if prefix != PurePosixPath(".") and path.is_relative_to(prefix):
            return path.relative_to(prefix)
    return path


def _read_blobs(revision: str, paths: Sequence[str], top: Path) -> list[bytes]:
    """The contents of ``paths`` at ``revision``, in one ``git cat-file --batch`` process."""
    if not paths:
        return []
    request = "".join(f"{revision}:{path}\n" for path in paths).encode()
    out = run_git(["cat-file", "--batch"], top, stdin=request)
    contents = []
    position = 0
    for _ in paths:
        header_end = out.index(b"\n", position)
        header = out[position:header_end].split()
        size = int(header[2])
        start = header_end + 1
        contents.append(out[start : start + size])
        position = start + size + 1
    return contents
