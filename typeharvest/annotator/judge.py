"""mypy as the judge of every annotation: what a change adds to mypy's errors, and which annotation caused it.

mypy runs in-process through its API with its incremental cache, and sees candidate files through
``--shadow-file``: nothing is written to the user's tree until the candidate is accepted.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from typeharvest.annotator.errors import AnnotatorError
from typeharvest.annotator.signatures import RETURN

#: A slot of a function of a module: (module, qualified name, parameter name or ``RETURN``).
ModuleSlot = tuple[str, str, str]

_ARGUMENT = re.compile(r'^Argument (?:(\d+)|"(\w+)") to "(\w+)"(?: of "(\w+)")? has incompatible type')
_RETURN_MESSAGES = ("Incompatible return value type", "Return value expected", "No return value expected")


@dataclass(frozen=True, slots=True)
class MypyError:
    """One error mypy reported (notes are not errors)."""

    path: Path
    line: int
    column: int
    message: str
    code: str | None

    def __str__(self) -> str:
        code = f"  [{self.code}]" if self.code else ""
        return f"{self.path.name}:{self.line}: {self.message}{code}"


class Mypy:
    """Runs mypy over ``targets`` from ``root`` (so the project's own configuration applies)."""

    def __init__(self, root: Path, targets: Sequence[Path], *, stubs: bool) -> None:
        self.root = root
        self.targets = sorted(set(targets))
        # A stub is checked in place of its module's source, which makes stub bodies (``...``) look like
        # missing returns to mypy: that check is meaningless for a stub.
        self._flags = (
            ["--disable-error-code", "empty-body", "--disable-error-code", "no-overload-impl"]
            if stubs
            else []
        )

    def errors(self, shadows: Mapping[Path, str]) -> list[MypyError]:
        """mypy's errors with each file of ``shadows`` read from the given text instead of the disk."""
        from mypy import api

        with (
            tempfile.TemporaryDirectory(prefix="typeharvest-mypy-") as scratch,
            _working_directory(self.root),
        ):
            arguments = ["-O", "json", "--no-error-summary", "--show-column-numbers", *self._flags]
            for index, (path, text) in enumerate(sorted(shadows.items())):
                shadow = Path(scratch) / f"{index}{path.suffix}"
                shadow.write_text(text, encoding="utf-8")
                arguments += ["--shadow-file", str(path), str(shadow)]
            stdout, stderr, status = api.run([*arguments, *map(str, self.targets)])
        if status not in (0, 1):
            reason = (stderr or stdout).strip().splitlines()
            raise AnnotatorError(
                f"mypy could not check the code: {reason[-1] if reason else status} (use --no-check)"
            )
        found: list[MypyError] = []
        for line in stdout.splitlines():
            if not line.startswith("{"):
                continue
            record = json.loads(line)
            if record.get("severity") != "error":
                continue
            path = Path(record["file"])
            found.append(
                MypyError(
                    (self.root / path).resolve(),
                    int(record["line"]),
                    int(record.get("column") or 0),
                    str(record["message"]),
                    record.get("code"),
                )
            )
        return found


@contextlib.contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def added_errors(before: Sequence[MypyError], after: Sequence[MypyError]) -> list[MypyError]:
    """The errors of ``after`` that ``before`` did not have, told apart by file and message, not line
    (an added import moves every line below it)."""
    budget = Counter((error.path, error.message) for error in before)
    added: list[MypyError] = []
    for error in after:
        key = (error.path, error.message)
        if budget[key] > 0:
            budget[key] -= 1
        else:
            added.append(error)
    return added


@dataclass(frozen=True, slots=True)
class FunctionSpan:
    """Where a ``def`` is in a candidate file, and where each of its annotations is."""

    module: str
    qualname: str
    first: int  # the ``def`` line (after decorators)
    body: int  # the first line of the body
    last: int
    annotation_lines: Mapping[str, int]  # slot → line of its annotation
    parameters: tuple[str, ...]  # positional parameters in order, receiver included


def function_spans(module: str, text: str) -> list[FunctionSpan]:
    """Every ``def`` of a candidate file with its qualified name as the interpreter spells it."""
    spans: list[FunctionSpan] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                qualname = f"{prefix}{child.name}"
                arguments = child.args
                every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
                every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
                lines = {a.arg: a.annotation.lineno for a in every if a.annotation is not None}
                if child.returns is not None:
                    lines[RETURN] = child.returns.lineno
                positional = tuple(a.arg for a in (*arguments.posonlyargs, *arguments.args))
                last = child.end_lineno or child.lineno
                spans.append(
                    FunctionSpan(
                        module, qualname, child.lineno, child.body[0].lineno, last, lines, positional
                    )
                )
                visit(child, f"{qualname}.<locals>.")
            else:
                visit(child, prefix)

    with contextlib.suppress(SyntaxError):
        visit(ast.parse(text), "")
    return spans


class Attributor:
    """Finds the annotations to blame for an error, from what mypy says and where it says it."""

    def __init__(
        self,
        written: Mapping[ModuleSlot, str],
        spans: Mapping[Path, Sequence[FunctionSpan]],
        texts: Mapping[Path, str],
    ) -> None:
        self._written = written
        self._spans = spans
        self._lines = {path: text.splitlines() for path, text in texts.items()}
        self._by_name: dict[str, list[FunctionSpan]] = {}
        for file_spans in spans.values():
            for span in file_spans:
                self._by_name.setdefault(span.qualname.rpartition(".")[2], []).append(span)

    def blame(self, error: MypyError) -> set[ModuleSlot]:
        """The written slots that caused ``error``; empty when no annotation can be blamed."""
        found = self._argument(error)
        if found:
            return found
        span = self._innermost(error)
        if span is not None:
            found = self._in_function(error, span)
            if found:
                return found
        # An error in a caller: the parameters of what it calls first; if the error outlives their
        # withdrawal, the next round blames the returns.
        return self._called_on_line(error, parameters=True) or self._called_on_line(error, parameters=False)

    def _slots_of(self, span: FunctionSpan, names: set[str] | None = None) -> set[ModuleSlot]:
        return {
            (span.module, span.qualname, slot)
            for slot in span.annotation_lines
            if (span.module, span.qualname, slot) in self._written and (names is None or slot in names)
        }

    def _argument(self, error: MypyError) -> set[ModuleSlot]:
        match = _ARGUMENT.match(error.message)
        if match is None:
            return set()
        position, keyword, function, owner = match.groups()
        found: set[ModuleSlot] = set()
        for span in self._by_name.get(function, []):
            if owner is not None and not span.qualname.endswith(f"{owner}.{function}"):
                continue
            if keyword is not None:
                found |= self._slots_of(span, {keyword})
                continue
            index = int(position) - 1
            # A method's receiver is not counted in mypy's argument numbers.
            positional = span.parameters[1:] if owner is not None and span.parameters else span.parameters
            names = {positional[index]} if index < len(positional) else None
            found |= {slot for slot in self._slots_of(span, names) if slot[2] != RETURN}
        return found

    def _innermost(self, error: MypyError) -> FunctionSpan | None:
        inside = [s for s in self._spans.get(error.path, ()) if s.first <= error.line <= s.last]
        return max(inside, key=lambda s: s.first) if inside else None

    def _in_function(self, error: MypyError, span: FunctionSpan) -> set[ModuleSlot]:
        if error.line < span.body:  # in the signature itself
            on_line = {slot for slot, line in span.annotation_lines.items() if line == error.line}
            return self._slots_of(span, on_line or None)
        if error.message.startswith(_RETURN_MESSAGES):
            return self._slots_of(span, {RETURN}) or self._called_on_line(error, parameters=False)
        named = set(_identifiers(self._line(error))) - {RETURN}
        found = self._slots_of(span, named) | self._called_on_line(error, parameters=False)
        return found or self._slots_of(span)

    def _called_on_line(self, error: MypyError, *, parameters: bool) -> set[ModuleSlot]:
        """The annotations of the functions named on the error's line: their parameters, or returns."""
        found: set[ModuleSlot] = set()
        for name in _identifiers(self._line(error)):
            for span in self._by_name.get(name, []):
                found |= {s for s in self._slots_of(span) if (s[2] != RETURN) == parameters}
        return found

    def _line(self, error: MypyError) -> str:
        lines = self._lines.get(error.path)
        if lines is None:
            try:
                lines = error.path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                lines = []
            self._lines[error.path] = lines
        return lines[error.line - 1] if 0 < error.line <= len(lines) else ""


def _identifiers(line: str) -> list[str]:
    return re.findall(r"[A-Za-z_]\w*", line)
