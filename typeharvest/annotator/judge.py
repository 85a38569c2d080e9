"""mypy as the judge of every annotation: what a change adds to mypy's errors, and which annotation caused it.

mypy runs in-process through its API with its incremental cache, and sees candidate files through
``--shadow-file``: nothing is written to the user's tree until the candidate is accepted.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from typeharvest.annotator.errors import AnnotatorError
from typeharvest.annotator.qualnames import functions
from typeharvest.annotator.signatures import RETURN
from typeharvest.annotator.typeexpr import TypeRef, TypeStringError, Union, parse

#: How many mypy runs may leave their garbage before it is collected.
_COLLECT_EVERY = 4

#: A slot of a function of a module: (module, qualified name, parameter name or ``RETURN``).
ModuleSlot = tuple[str, str, str]

_ARGUMENT = re.compile(
    r'^Argument (?:(\d+)|"(\w+)") to "(\w+)"(?: of "(\w+)")? has incompatible type "(.*)"; expected "(.*)"$'
)
_RETURN_MESSAGES = (
    "Incompatible return value type",
    "Return value expected",
    "No return value expected",
    "Returning Any from function declared",
)
#: Errors that a function has because it is annotated at all (mypy checks the body of a typed function
#: only): the cure is to leave the whole function unannotated.
_TYPEDNESS_CODES = ("no-untyped-def", "no-untyped-call", "var-annotated")
#: mypy saw None reach a slot that traces never saw None in: widen with ``| None`` rather than withdraw.
_GOT_NONE = re.compile(r'(?:got|incompatible type) "(?:[^"]* \| )?None"')


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
        self._runs = 0
        self._paths: dict[str, Path] = {}  # as mypy prints them → resolved
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
        self._runs += 1
        if self._runs % _COLLECT_EVERY == 0:
            # A mypy run leaves its whole build graph behind as cyclic garbage (about 16 MB for click)
            # and turns the automatic collector's thresholds up: bisection makes hundreds of runs.
            gc.collect()
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
            file = str(record["file"])
            if file not in self._paths:
                self._paths[file] = (self.root / file).resolve()
            found.append(
                MypyError(
                    self._paths[file],
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


def widening(error: MypyError, slot: ModuleSlot) -> Union | None:
    """The types ``error`` says reach ``slot`` beyond its annotation, when they can be written safely:
    None returned where the slot is the return, or built-in types passed to the slot's own function (as
    a caller the traces never saw does). None when the error is no such thing."""
    if error.code == "return-value":
        return _NONE if slot[2] == RETURN and _GOT_NONE.search(error.message) else None
    match = _ARGUMENT.match(error.message)
    if match is None or slot[2] == RETURN or slot[1].rpartition(".")[2] != match.group(3):
        return None
    return builtin_types(match.group(5))


_NONE = Union.of([TypeRef("builtins.NoneType")])
_BUILTIN_NAMES = frozenset(
    {"int", "float", "complex", "bool", "str", "bytes", "list", "dict", "set", "tuple"}
)


def builtin_types(text: str) -> Union | None:
    """A type as mypy prints it (``int | list[str] | None``), if it names built-in types only."""
    names = re.findall(r"[A-Za-z_][\w.]*", text)
    if text.startswith("*"):  # ``**dict[str, int]``: a splat, not a type
        return None
    if not names or any(name not in _BUILTIN_NAMES and name != "None" for name in names):
        return None
    spelled = re.sub(
        r"[A-Za-z_][\w.]*", lambda m: "builtins.NoneType" if m[0] == "None" else f"builtins.{m[0]}", text
    )
    try:
        return parse(spelled)
    except TypeStringError:
        return None


class FunctionFinder:
    """Which function an error line is in, for files read from ``texts`` (candidates) or from disk."""

    def __init__(self, texts: Mapping[Path, str]) -> None:
        self._texts = dict(texts)
        self._spans: dict[Path, list[FunctionSpan]] = {}

    def text(self, path: Path) -> str:
        """The candidate text of ``path``, else the file as it is on disk."""
        if path not in self._texts:
            try:
                self._texts[path] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                self._texts[path] = ""
        return self._texts[path]

    def qualname_at(self, path: Path, line: int) -> str:
        """The qualified name of the innermost ``def`` around ``line`` ("" at module level)."""
        span = self.span_at(path, line)
        return span.qualname if span is not None else ""

    def span_at(self, path: Path, line: int) -> FunctionSpan | None:
        """The innermost ``def`` around ``line``."""
        spans = self._spans.get(path)
        if spans is None:
            spans = self._spans[path] = function_spans("", self.text(path))
        inside = [span for span in spans if span.first <= line <= span.last]
        return max(inside, key=lambda span: span.first) if inside else None


def _keys(errors: Sequence[MypyError], finder: FunctionFinder) -> list[tuple[MypyError, tuple[Path, str]]]:
    """Each error with what identifies it across an edit: file and message, not line (an added import
    moves every line below it); an untyped function is one complaint however mypy words it, since
    "missing a type annotation" becomes two messages when a function is partly annotated."""
    keyed: list[tuple[MypyError, tuple[Path, str]]] = []
    seen: set[tuple[Path, str]] = set()
    for error in errors:
        if error.code == "no-untyped-def":
            key = (error.path, "no-untyped-def " + finder.qualname_at(error.path, error.line))
            if key in seen:
                continue
            seen.add(key)
        else:
            key = (error.path, error.message)
        keyed.append((error, key))
    return keyed


def identity(error: MypyError, finder: FunctionFinder) -> tuple[Path, str | None, str]:
    """What stays the same about an error while annotations around it change: its file, its code and
    the function it is in (its line and the types in its message move)."""
    return error.path, error.code, finder.qualname_at(error.path, error.line)


def added_errors(
    before: Sequence[MypyError],
    after: Sequence[MypyError],
    original: FunctionFinder | None = None,
    candidate: FunctionFinder | None = None,
) -> list[MypyError]:
    """The errors of ``after`` (mypy on the candidate files) that ``before`` (on the files as they are)
    did not have."""
    budget = Counter(key for _, key in _keys(before, original or FunctionFinder({})))
    added: list[MypyError] = []
    for error, key in _keys(after, candidate or FunctionFinder({})):
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
    """Every ``def`` of a candidate file, where it is and where its annotations are."""
    spans: list[FunctionSpan] = []
    for qualname, node in functions(text):
        arguments = node.args
        every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
        lines = {a.arg: a.annotation.lineno for a in every if a.annotation is not None}
        if node.returns is not None:
            lines[RETURN] = node.returns.lineno
        positional = tuple(a.arg for a in (*arguments.posonlyargs, *arguments.args))
        last = node.end_lineno or node.lineno
        spans.append(
            FunctionSpan(module, qualname, node.lineno, node.body[0].lineno, last, lines, positional)
        )
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
        """The written slots that ``error`` itself points at; empty when its message and place do not
        tell (the caller then finds the culprit by elimination)."""
        found = self._argument(error) or self._imported(error)
        if found:
            return found
        span = self._innermost(error)
        return self._in_function(error, span) if span is not None else set()

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
        position, keyword, function, owner, passed, expected = match.groups()
        found: set[ModuleSlot] = set()
        for span in self._callees(error, function):
            if owner is not None and not span.qualname.endswith(f"{owner}.{function}"):
                continue
            if passed.startswith("*"):
                # ``f(**options)``: mypy names the splat, not the parameter; blame those it cannot fill.
                expecting = {
                    slot
                    for slot in self._slots_of(span)
                    if slot[2] != RETURN and self._written[slot].strip('"') == expected
                }
                found |= expecting or {slot for slot in self._slots_of(span) if slot[2] != RETURN}
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

    def _callees(self, error: MypyError, name: str) -> list[FunctionSpan]:
        """The annotated functions called ``name`` that the error's file can be calling: when modules
        share the name (``slugify.slugify`` and ``slugify._legacy.slugify``), those the file imports."""
        spans = self._by_name.get(name, [])
        if len({span.module for span in spans}) < 2:
            return spans
        self._line(error)  # reads the file in
        text = "\n".join(self._lines.get(error.path) or [])
        home = self._modules_at(error.path)
        near = [span for span in spans if span.module in home or _imports(text, span.module)]
        return near or spans

    def _imported(self, error: MypyError) -> set[ModuleSlot]:
        """An error on an import line (a name the module or its stubs lack): the annotations using it."""
        line = self._line(error).strip()
        if not line.startswith(("from ", "import ")):
            return set()
        names = set(_identifiers(line.partition(" import ")[2] or line)) - {"as", "import"}
        return {
            slot
            for slot, text in self._written.items()
            if slot[0] in self._modules_at(error.path) and names.intersection(_identifiers(text))
        }

    def _modules_at(self, path: Path) -> set[str]:
        return {span.module for span in self._spans.get(path, ())}

    def _innermost(self, error: MypyError) -> FunctionSpan | None:
        inside = [s for s in self._spans.get(error.path, ()) if s.first <= error.line <= s.last]
        return max(inside, key=lambda s: s.first) if inside else None

    def _in_function(self, error: MypyError, span: FunctionSpan) -> set[ModuleSlot]:
        if error.code in _TYPEDNESS_CODES:
            return self._slots_of(span)
        if error.line < span.body:  # in the signature itself
            on_line = {slot for slot, line in span.annotation_lines.items() if line == error.line}
            return self._slots_of(span, on_line or None)
        if error.message.startswith(_RETURN_MESSAGES):
            return self._slots_of(span, {RETURN})
        return set()

    def _line(self, error: MypyError) -> str:
        lines = self._lines.get(error.path)
        if lines is None:
            try:
                lines = error.path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                lines = []
            self._lines[error.path] = lines
        return lines[error.line - 1] if 0 < error.line <= len(lines) else ""


def _imports(text: str, module: str) -> bool:
    """Whether source ``text`` imports from ``module`` (absolutely, or relatively by its last part)."""
    last = re.escape(module.rpartition(".")[2])
    absolute = re.escape(module)
    pattern = rf"^\s*(from\s+({absolute}|\.+{last})\s+import|import\s+{absolute}\b)"
    return re.search(pattern, text, re.MULTILINE) is not None


def _identifiers(line: str) -> list[str]:
    return re.findall(r"[A-Za-z_]\w*", line)
