"""What goes in through write_observations comes back out of TraceReader unchanged and in a useful order."""

from __future__ import annotations

from pathlib import Path

from typeharvest.records import (
    NOT_OBSERVED,
    FunctionInfo,
    FunctionKind,
    Observation,
    Parameter,
    ParameterKind,
    Signature,
)
from typeharvest.store import ModuleSummary, TraceReader, write_observations

ALL_PARAMETER_KINDS = (
    Parameter("a", ParameterKind.POSITIONAL_ONLY),
    Parameter("b", ParameterKind.POSITIONAL_OR_KEYWORD),
    Parameter("args", ParameterKind.VAR_POSITIONAL),
    Parameter("c", ParameterKind.KEYWORD_ONLY),
    Parameter("kwargs", ParameterKind.VAR_KEYWORD),
)


def function(
    module: str, qualname: str, line: int, kind: FunctionKind = FunctionKind.FUNCTION
) -> FunctionInfo:
    return FunctionInfo(
        module=module,
        qualname=qualname,
        filename=f"/src/{module.replace('.', '/')}.py",
        firstlineno=line,
        kind=kind,
        parameters=(Parameter("x", ParameterKind.POSITIONAL_OR_KEYWORD),),
    )


def observation(
    func: FunctionInfo, arg: str, ret: str, calls: int = 1, yields: str = NOT_OBSERVED
) -> Observation:
    return Observation(func, Signature((arg,) * len(func.parameters), ret, yields), calls, 1000.25, 2000.5)


def test_every_function_kind_and_parameter_kind_round_trips_exactly(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    plain = FunctionInfo("pkg.mod", "f", "/src/pkg/mod.py", 10, FunctionKind.FUNCTION, ALL_PARAMETER_KINDS)
    gen = FunctionInfo("pkg.mod", "C.gen", "/src/pkg/mod.py", 20, FunctionKind.GENERATOR, ())
    coro = FunctionInfo("pkg.mod", "C.f.<locals>.coro", "/src/pkg/mod.py", 30, FunctionKind.COROUTINE, ())
    agen = FunctionInfo("pkg.mod", "agen", "/src/pkg/mod.py", 40, FunctionKind.ASYNC_GENERATOR, ())
    written = [
        Observation(
            plain,
            Signature(("int", "str", "tuple[int, ...]", "pkg.mod:C.Inner", "dict[str, bytes]"), "None"),
            3,
            1_700_000_000.123456,
            1_700_000_100.654321,
        ),
        Observation(gen, Signature((), NOT_OBSERVED, "int | str"), 2, 5.5, 6.5),
        Observation(coro, Signature((), "list[\u00e9t\u00e9]"), 1, 7.0, 7.0),
        Observation(agen, Signature((), NOT_OBSERVED, "bytes"), 4, 8.0, 9.0),
    ]
    write_observations(db, written, {})

    with TraceReader(db) as reader:
        read = reader.observations("pkg.mod")

    assert read == written
    assert {o.function.kind for o in read} == set(FunctionKind)
    assert {p.kind for p in read[0].function.parameters} == set(ParameterKind)
    assert all(type(p.kind) is ParameterKind for p in read[0].function.parameters)
    assert type(read[0].signature.arg_types) is tuple


def test_observations_are_ordered_by_first_line_then_most_called_first(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    late = function("m", "late", 30)
    early = function("m", "early", 10)
    middle = function("m", "middle", 20)
    write_observations(
        str(db),
        [
            observation(late, "int", "int", calls=1),
            observation(early, "int", "int", calls=2),
            observation(middle, "str", "str", calls=1),
            observation(early, "str", "str", calls=9),
            observation(middle, "int", "int", calls=5),
        ],
        {},
    )
    with TraceReader(db) as reader:
        order = [(o.function.qualname, o.calls) for o in reader.observations("m")]
    assert order == [("early", 9), ("early", 2), ("middle", 5), ("middle", 1), ("late", 1)]


def test_observations_of_one_function_share_one_function_info(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    f = function("m", "f", 1)
    write_observations(db, [observation(f, "int", "int"), observation(f, "str", "str")], {})
    with TraceReader(db) as reader:
        first, second = reader.observations("m")
    assert first.function is second.function


def test_observations_of_an_unknown_module_are_empty_and_other_modules_are_excluded(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    write_observations(db, [observation(function("a", "f", 1), "int", "int")], {})
    with TraceReader(db) as reader:
        assert reader.observations("b") == []
        assert reader.observations("a.sub") == []
        assert len(reader.observations("a")) == 1


def test_modules_are_summarised_with_exact_counts_sorted_by_name(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    f, g, h = function("zeta", "f", 1), function("zeta", "g", 5), function("alpha.beta", "h", 1)
    write_observations(
        db,
        [
            observation(f, "int", "int", calls=2),
            observation(f, "str", "str", calls=3),
            observation(g, "int", "None", calls=7),
            observation(h, "bytes", "None", calls=1),
        ],
        {},
    )
    with TraceReader(db) as reader:
        assert reader.modules() == [
            ModuleSummary(module="alpha.beta", functions=1, signatures=1, calls=1),
            ModuleSummary(module="zeta", functions=2, signatures=3, calls=12),
        ]


def test_reader_closes_its_connection_on_leaving_the_with_block(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    write_observations(db, [observation(function("m", "f", 1), "int", "int")], {})
    with TraceReader(db) as reader:
        pass
    reader.close()  # a second close is harmless
    try:
        reader.modules()
    except Exception as exc:  # sqlite3.ProgrammingError: Cannot operate on a closed database.
        assert "closed" in str(exc)
    else:
        raise AssertionError("a closed reader still answered")
