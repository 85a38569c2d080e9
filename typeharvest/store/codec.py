"""How the records' tuples are spelled in TEXT columns, and read back.

The spelling of ``arg_types`` is part of the ``signatures`` UNIQUE key: the same tuple must always give
the same bytes, or one signature would be counted in two rows. So there is exactly one encoder, used by
every writer, and it must never change for a given schema version.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from json.encoder import encode_basestring as _quoted  # what json.dumps(..., ensure_ascii=False) quotes with

from typeharvest.records import NOT_OBSERVED, Parameter, ParameterKind

# Both spellings are ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))`` of a JSON object or
# list of strings, written out: ``json.dumps`` builds an encoder per call, which was half of what a flush
# of a few thousand rows cost (a test holds the two spellings equal).


def encode_arg_types(parameters: Sequence[Parameter], arg_types: Sequence[str]) -> str:
    """Spell argument types as ``{name: type}`` in parameter order, canonically.

    Keyed by name so a row stays meaningful after the function's parameters change (its observations
    are then stale, but an old type is never read as the type of another parameter).
    """
    pairs = zip(parameters, arg_types, strict=False)
    return "{" + ",".join([f"{_quoted(parameter.name)}:{_quoted(type_)}" for parameter, type_ in pairs]) + "}"


def decode_arg_types(text: str, parameters: Sequence[Parameter]) -> tuple[str, ...]:
    """The types of ``parameters`` (the function's current ones) from ``encode_arg_types`` output.

    A parameter the row does not name gets ``NOT_OBSERVED``. Raises ``ValueError`` when the text is not
    a JSON object of strings, so a damaged row is reported rather than turned into nonsense annotations.
    """
    value = json.loads(text)
    if not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values()):
        raise ValueError(f"expected a JSON object of type strings, got {text!r}")
    return tuple(value.get(parameter.name, NOT_OBSERVED) for parameter in parameters)


def encode_parameters(parameters: Sequence[Parameter]) -> str:
    """Spell a parameter list as ``[[name, kind], ...]``: compact, and readable in a SQLite shell."""
    # A ParameterKind is a str whose text is its value.
    return "[" + ",".join([f"[{_quoted(p.name)},{_quoted(p.kind)}]" for p in parameters]) + "]"


def decode_parameters(text: str) -> tuple[Parameter, ...]:
    """Rebuild ``Parameter`` records with their enum kinds from ``encode_parameters`` output.

    Raises ``ValueError`` on anything else (including an unknown kind), for the same reason as
    ``decode_arg_types``.
    """
    value = json.loads(text)
    if not isinstance(value, list):
        raise ValueError(f"expected a JSON list of [name, kind] pairs, got {text!r}")
    parameters: list[Parameter] = []
    for item in value:
        if not (isinstance(item, list) and len(item) == 2 and all(isinstance(part, str) for part in item)):
            raise ValueError(f"expected a JSON list of [name, kind] pairs, got {text!r}")
        parameters.append(Parameter(item[0], ParameterKind(item[1])))
    return tuple(parameters)
