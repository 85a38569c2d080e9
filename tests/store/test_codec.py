"""The spellings that are part of the signatures' UNIQUE key must equal json.dumps's, byte for byte."""

from __future__ import annotations

import json

from typeharvest.records import Parameter, ParameterKind
from typeharvest.store.codec import (
    decode_arg_types,
    decode_parameters,
    encode_arg_types,
    encode_parameters,
)

NAMES = ["self", "_", "naïve", "ключ", 'a"quote', "back\\slash", "tab\there", "\u2028", "emoji\U0001f600"]
TYPES = ["builtins.int", "builtins.dict[builtins.str, builtins.list[builtins.int]]", "", 'x"y', "é\n"]


def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_argument_types_are_spelled_exactly_as_json_dumps_spells_them() -> None:
    parameters = [Parameter(name, ParameterKind.POSITIONAL_OR_KEYWORD) for name in NAMES]
    for start in range(len(TYPES)):
        arg_types = [TYPES[(start + i) % len(TYPES)] for i in range(len(NAMES))]
        encoded = encode_arg_types(parameters, arg_types)
        assert encoded == dumps(dict(zip(NAMES, arg_types, strict=True)))
        assert decode_arg_types(encoded, parameters) == tuple(arg_types)
    assert encode_arg_types([], []) == dumps({}) == "{}"


def test_parameters_are_spelled_exactly_as_json_dumps_spells_them() -> None:
    kinds = list(ParameterKind)
    parameters = tuple(Parameter(name, kinds[i % len(kinds)]) for i, name in enumerate(NAMES))
    encoded = encode_parameters(parameters)
    assert encoded == dumps([[p.name, p.kind.value] for p in parameters])
    assert decode_parameters(encoded) == parameters
    assert encode_parameters(()) == "[]"
