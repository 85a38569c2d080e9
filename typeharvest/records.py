"""The records that cross the boundary between the tracer and the store.

The tracer produces them, the store persists them, the annotator reads them back. Keeping them in one small
module with no dependencies is what lets each part know nothing of the others.

Types are carried as strings (see ``typeharvest.tracer.typenames`` for the grammar): a dotted, fully
qualified class name, optionally followed by ``[arg, ...]``. When a class's qualified name itself contains
a dot (a nested class) the module is separated from it by a colon, ``pkg.mod:Outer.Inner``, so the module
to import from is never ambiguous.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


class ParameterKind(str, enum.Enum):
    """How a parameter is bound, with the same names as ``inspect.Parameter`` kinds."""

    POSITIONAL_ONLY = "positional_only"
    POSITIONAL_OR_KEYWORD = "positional_or_keyword"
    VAR_POSITIONAL = "var_positional"
    KEYWORD_ONLY = "keyword_only"
    VAR_KEYWORD = "var_keyword"


class FunctionKind(str, enum.Enum):
    """What calling the function produces, which decides what its "return" means."""

    FUNCTION = "function"
    GENERATOR = "generator"
    COROUTINE = "coroutine"
    ASYNC_GENERATOR = "async_generator"


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    kind: ParameterKind


@dataclass(frozen=True, slots=True)
class FunctionInfo:
    """A traced function, identified the way source code identifies it: module and qualified name."""

    module: str
    qualname: str
    filename: str
    firstlineno: int
    kind: FunctionKind
    parameters: tuple[Parameter, ...]
    #: A digest of the function's source (or of its bytecode when the source cannot be read): when it
    #: changes, observations made against the old code are stale.
    code_hash: str = ""


#: The type string used when nothing was observed for a slot (a generator abandoned before returning,
#: a function that never yielded). It never names a type.
NOT_OBSERVED = ""


@dataclass(frozen=True, slots=True)
class Signature:
    """One distinct combination of types seen for one call of a function.

    ``arg_types`` is aligned with ``FunctionInfo.parameters``. ``yield_type`` is a ``" | "``-joined,
    sorted set of the types yielded during the call (``NOT_OBSERVED`` for a plain function or a generator
    that yielded nothing). For a coroutine, ``return_type`` is the type of the awaited result.

    When a method or classmethod returned its own receiver — the very object its first argument was bound
    to as the call started, not merely one of the same class — ``return_type`` is that type wrapped in
    ``typeharvest.Self[...]``: ``typeharvest.Self[pkg.mod.Builder]`` for ``return self``,
    ``typeharvest.Self[builtins.type[pkg.mod.Builder]]`` for ``return cls``. It is what lets an annotator
    write ``-> Self``, which it may only do when every call of the function returned its receiver.
    """

    arg_types: tuple[str, ...]
    return_type: str
    yield_type: str = NOT_OBSERVED


@dataclass(frozen=True, slots=True)
class Observation:
    """A signature of a function with how often and when it was seen (times are Unix seconds)."""

    function: FunctionInfo
    signature: Signature
    calls: int
    first_seen: float
    last_seen: float


@dataclass(frozen=True, slots=True)
class CoverageCounts:
    """Typed-function coverage figures of a module or of a whole tree."""

    functions: int
    full: int
    partial: int
    untyped: int

    @property
    def percent(self) -> float:
        """The share of fully typed functions (100 when there is nothing to type)."""
        return 100.0 * self.full / self.functions if self.functions else 100.0


@dataclass(frozen=True, slots=True)
class CoverageSnapshot:
    """Coverage at one moment (and commit), as the coverage report records it in the store."""

    taken_at: float
    commit: str | None
    branch: str | None
    root: str
    totals: CoverageCounts
    modules: tuple[tuple[str, str, CoverageCounts], ...] = ()  # (module, path, counts)


class ObservationSink(Protocol):
    """Where the tracer hands what it aggregated: the store's writer, or anything else in tests."""

    def __call__(self, observations: Sequence[Observation], errors: Mapping[str, int]) -> None: ...
