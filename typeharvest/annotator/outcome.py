"""The annotator's own records: what it was asked, and what it did."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from typeharvest.records import Observation


@dataclass(frozen=True, slots=True)
class AnnotateOptions:
    """What ``typeharvest annotate`` was asked to do."""

    stub: bool = False
    out: Path | None = None  # where stubs go (mirroring the package path); None: beside the module
    overwrite: bool = False
    min_calls: int = 0
    check: bool = True
    generalize_arguments: bool = False
    python_version: tuple[int, int] | None = None  # None: the project's, else the running interpreter's


@dataclass(frozen=True, slots=True)
class Verdict:
    """What mypy made of an annotation (withdrawn, or widened with the types shown), and why."""

    module: str
    qualname: str
    slot: str
    annotation: str
    reason: str


@dataclass(slots=True)
class FileChange:
    """The new content of one file (a source file, or a stub) and the annotations it gained."""

    module: str
    path: Path
    before: str | None  # None: a new file
    after: str
    written: dict[tuple[str, str], str]

    @property
    def changed(self) -> bool:
        """Whether writing it would change the file (a stub that is already there may be the same)."""
        return self.before != self.after


@dataclass(slots=True)
class AnnotateReport:
    """What was annotated, what mypy made the annotator withdraw, and what could not be done."""

    changes: list[FileChange] = field(default_factory=list)
    withdrawals: list[Verdict] = field(default_factory=list)
    widenings: list[Verdict] = field(default_factory=list)  # annotations that gained types
    problems: list[str] = field(default_factory=list)  # modules skipped, one line each
    unresolved: list[str] = field(default_factory=list)  # stubs not written: their skeleton fails mypy
    checked: bool = False

    @property
    def functions(self) -> int:
        """How many functions gained at least one annotation."""
        return sum(len({qualname for qualname, _ in change.written}) for change in self.changes)

    @property
    def slots(self) -> int:
        """How many annotations were written."""
        return sum(len(change.written) for change in self.changes)


@dataclass(frozen=True, slots=True)
class ModuleTraces:
    """A module to annotate: its name, its source file, and its observations."""

    module: str
    path: Path
    observations: Sequence[Observation]
