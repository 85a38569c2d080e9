"""Read a MonkeyType trace database (``monkeytype.sqlite3``) into a typeharvest database.

MonkeyType stores one row per call in ``monkeytype_call_traces``, with argument, return and yield types as
JSON: ``{"module": "typing", "qualname": "List", "elem_types": [...]}``. Identical rows become one
signature with a count, and the types are rewritten in typeharvest's spelling (``typing.List[int]`` →
``builtins.list[builtins.int]``), so a team that traced with MonkeyType keeps its data.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from typeharvest.records import (
    NOT_OBSERVED,
    FunctionInfo,
    FunctionKind,
    Observation,
    Parameter,
    ParameterKind,
    Signature,
)
from typeharvest.store.errors import StoreError
from typeharvest.store.writer import write_observations

_TABLE = "monkeytype_call_traces"

# typing's aliases of builtin and abstract classes, spelled as typeharvest spells their runtime classes.
_TYPING_NAMES = {
    "List": "builtins.list",
    "Dict": "builtins.dict",
    "Set": "builtins.set",
    "FrozenSet": "builtins.frozenset",
    "Tuple": "builtins.tuple",
    "Type": "builtins.type",
    "DefaultDict": "collections.defaultdict",
    "OrderedDict": "collections.OrderedDict",
    "Deque": "collections.deque",
    "Iterator": "collections.abc.Iterator",
    "Iterable": "collections.abc.Iterable",
    "Generator": "collections.abc.Generator",
    "AsyncGenerator": "collections.abc.AsyncGenerator",
    "AsyncIterator": "collections.abc.AsyncIterator",
    "Callable": "builtins.function",
}


@dataclass(frozen=True, slots=True)
class ImportResult:
    calls: int
    functions: int
    signatures: int
    skipped_rows: int


def import_monkeytype(source: str | os.PathLike[str], db: str | os.PathLike[str]) -> ImportResult:
    """Add every call trace of the MonkeyType database ``source`` to the typeharvest database ``db``."""
    shown = os.path.abspath(os.fspath(source))
    if not os.path.isfile(shown):
        raise StoreError(f"MonkeyType database not found: {shown}", shown)
    try:
        connection = sqlite3.connect(f"file:{shown}?mode=ro", uri=True)
        try:
            rows = connection.execute(
                f"SELECT module, qualname, arg_types, return_type, yield_type FROM {_TABLE}"
            ).fetchall()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise StoreError(f"not a MonkeyType trace database ({exc}): {shown}", shown) from None
    counts: Counter[tuple[str, str, str, str, str]] = Counter()
    skipped = 0
    for module, qualname, arg_types, return_type, yield_type in rows:
        try:
            arguments = json.loads(arg_types or "{}")
            key = (
                str(module),
                str(qualname),
                json.dumps({name: type_string(spec) for name, spec in arguments.items()}),
                type_string(json.loads(return_type)) if return_type else NOT_OBSERVED,
                type_string(json.loads(yield_type)) if yield_type else NOT_OBSERVED,
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            skipped += 1
            continue
        counts[key] += 1
    now = time.time()
    observations = []
    for (module, qualname, arguments_json, return_type, yield_type), calls in counts.items():
        described: dict[str, str] = json.loads(arguments_json)
        function = FunctionInfo(
            module=module,
            qualname=qualname,
            filename="",
            firstlineno=0,
            kind=FunctionKind.GENERATOR if yield_type else FunctionKind.FUNCTION,
            parameters=tuple(Parameter(name, ParameterKind.POSITIONAL_OR_KEYWORD) for name in described),
        )
        signature = Signature(tuple(described.values()), return_type, yield_type)
        observations.append(Observation(function, signature, calls, now, now))
    write_observations(db, observations, {}, source="monkeytype", describe_functions=False)
    return ImportResult(
        calls=sum(counts.values()),
        functions=len({(key[0], key[1]) for key in counts}),
        signatures=len(counts),
        skipped_rows=skipped,
    )


def type_string(spec: Mapping[str, Any]) -> str:
    """MonkeyType's JSON description of a type, in typeharvest's type-string grammar."""
    module, qualname = str(spec["module"]), str(spec["qualname"])
    if spec.get("is_typed_dict"):
        values = " | ".join(sorted({type_string(value) for value in spec["elem_types"].values()}))
        return f"builtins.dict[builtins.str, {values}]" if values else "builtins.dict"
    elements = [element for element in spec.get("elem_types", []) if element.get("qualname") != "Any"]
    if module == "typing" and qualname == "Union":
        return " | ".join(sorted({type_string(element) for element in elements}))
    name = (
        _TYPING_NAMES.get(qualname, f"typing.{qualname}") if module == "typing" else _name(module, qualname)
    )
    if "elem_types" not in spec:
        return name
    if not elements:
        return "builtins.tuple[()]" if name == "builtins.tuple" and not spec["elem_types"] else name
    if name == "builtins.tuple" and elements[-1].get("qualname") == "ellipsis":
        return f"{name}[{type_string(elements[0])}, ...]"
    return f"{name}[{', '.join(type_string(element) for element in elements)}]"


def _name(module: str, qualname: str) -> str:
    return f"{module}:{qualname}" if "." in qualname else f"{module}.{qualname}"
