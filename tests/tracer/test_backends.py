"""Both interpreter backends turn real calls into the same aggregated signatures.

Each test runs under every backend this interpreter has: sys.setprofile everywhere, sys.monitoring on 3.12+.
"""

import asyncio
import contextlib
import json
import sys
import threading

import pytest

from typeharvest.records import NOT_OBSERVED, FunctionKind, ParameterKind
from typeharvest.tracer.config import TracerConfig
from typeharvest.tracer.profile_backend import ProfileBackend
from typeharvest.tracer.recorder import Recorder
from typeharvest.tracer.selection import CodeSelector
from typeharvest.tracer.typenames import TypeNamer

BACKENDS = ["profile"] + (["monitoring"] if sys.version_info >= (3, 12) else [])
M = __name__


def make_backend(kind, recorder):
    if kind == "monitoring":
        from typeharvest.tracer.monitoring_backend import MonitoringBackend

        return MonitoringBackend(recorder)
    return ProfileBackend(recorder)


class Traced:
    """Runs code under one backend and gives back what was recorded, by qualified name."""

    def __init__(self, kind, **settings):
        config = TracerConfig(include=[M], **settings)
        self.recorder = Recorder(config, CodeSelector(include=[M]), TypeNamer())
        self.backend = make_backend(kind, self.recorder)
        self.observations = []
        self.errors = {}

    def __enter__(self):
        self.backend.install()
        return self

    def __exit__(self, *exc):
        self.backend.uninstall()
        self.recorder.finish_pending()
        self.observations, self.errors = self.recorder.drain()

    def signatures(self, qualname):
        found = {
            (o.signature.arg_types, o.signature.return_type, o.signature.yield_type): o.calls
            for o in self.observations
            if o.function.qualname == qualname
        }
        return found

    def function(self, qualname):
        (info,) = {o.function for o in self.observations if o.function.qualname == qualname}
        return info


@pytest.fixture(params=BACKENDS)
def traced(request):
    return Traced(request.param)


def add(a, b):
    return a + b


def test_arguments_and_return_types_are_recorded(traced):
    with traced:
        add(1, 2)
        add("a", "b")
    assert traced.signatures("add") == {
        (("builtins.int", "builtins.int"), "builtins.int", NOT_OBSERVED): 1,
        (("builtins.str", "builtins.str"), "builtins.str", NOT_OBSERVED): 1,
    }


def test_repeated_calls_with_the_same_types_are_one_signature_with_a_count(traced):
    with traced:
        for i in range(100):
            add(i, 1)
    assert traced.signatures("add") == {(("builtins.int", "builtins.int"), "builtins.int", NOT_OBSERVED): 100}


def returns_constant():
    return 7


def falls_off_the_end(x):
    x.append(1)


def test_a_constant_return_and_an_implicit_none_are_recorded(traced):
    with traced:
        returns_constant()
        falls_off_the_end([])
    assert traced.signatures("returns_constant") == {((), "builtins.int", NOT_OBSERVED): 1}
    assert traced.signatures("falls_off_the_end") == {
        (("builtins.list",), "builtins.NoneType", NOT_OBSERVED): 1
    }


def rebinds(value):
    value = str(value)
    return value


def test_arguments_are_read_before_the_body_rebinds_them(traced):
    with traced:
        rebinds(5)
    assert traced.signatures("rebinds") == {(("builtins.int",), "builtins.str", NOT_OBSERVED): 1}


def every_kind(a, /, b, *args, c, d=None, **kwargs):
    return None


def test_every_parameter_kind_is_recorded_in_signature_order(traced):
    with traced:
        every_kind(1, "b", 2.5, c=True, e=b"x")
    info = traced.function("every_kind")
    assert [(p.name, p.kind) for p in info.parameters] == [
        ("a", ParameterKind.POSITIONAL_ONLY),
        ("b", ParameterKind.POSITIONAL_OR_KEYWORD),
        ("args", ParameterKind.VAR_POSITIONAL),
        ("c", ParameterKind.KEYWORD_ONLY),
        ("d", ParameterKind.KEYWORD_ONLY),
        ("kwargs", ParameterKind.VAR_KEYWORD),
    ]
    assert traced.signatures("every_kind") == {
        (
            (
                "builtins.int",
                "builtins.str",
                "builtins.tuple[builtins.float]",
                "builtins.bool",
                "builtins.NoneType",
                "builtins.dict[builtins.str, builtins.bytes]",
            ),
            "builtins.NoneType",
            NOT_OBSERVED,
        ): 1
    }


class Shape:
    def area(self, scale):
        return 2.0 * scale

    @classmethod
    def unit(cls):
        return cls()

    @staticmethod
    def sides(n):
        return n


def test_methods_classmethods_and_staticmethods_are_recorded_by_qualified_name(traced):
    with traced:
        Shape().area(3)
        Shape.unit()
        Shape.sides(4)
    assert traced.signatures("Shape.area") == {((f"{M}.Shape", "builtins.int"), "builtins.float", ""): 1}
    assert traced.signatures("Shape.unit") == {((f"builtins.type[{M}.Shape]",), f"{M}.Shape", ""): 1}
    assert traced.signatures("Shape.sides") == {(("builtins.int",), "builtins.int", ""): 1}


def countdown(n):
    while n:
        yield n
        n -= 1
    return "done"


def mixed():
    yield 1
    yield "two"


def test_generator_yields_and_return_are_recorded_for_the_whole_run(traced):
    with traced:
        list(countdown(3))
        list(mixed())
    assert traced.function("countdown").kind is FunctionKind.GENERATOR
    assert traced.signatures("countdown") == {(("builtins.int",), "builtins.str", "builtins.int"): 1}
    assert traced.signatures("mixed") == {((), "builtins.NoneType", "builtins.int | builtins.str"): 1}


def test_an_abandoned_generator_keeps_its_yields_without_a_return(traced):
    with traced:
        for _ in countdown(10):
            break
    assert traced.signatures("countdown") == {(("builtins.int",), NOT_OBSERVED, "builtins.int"): 1}


async def fetch(key):
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    return {key: 1}


def test_a_coroutine_records_the_awaited_result_not_the_event_loops_yields(traced):
    with traced:
        asyncio.run(fetch("k"))
    assert traced.function("fetch").kind is FunctionKind.COROUTINE
    assert traced.signatures("fetch") == {
        (("builtins.str",), "builtins.dict[builtins.str, builtins.int]", NOT_OBSERVED): 1
    }


def fails(value):
    raise KeyError(value)


def test_a_raising_call_keeps_its_arguments_and_the_exception_reaches_the_caller_unchanged(traced):
    error = None
    with traced:
        try:
            fails("missing")
        except KeyError as exc:
            error = exc
    assert error is not None and error.args == ("missing",)
    assert traced.signatures("fails") == {(("builtins.str",), NOT_OBSERVED, NOT_OBSERVED): 1}


def factorial(n):
    return 1 if n <= 1 else n * factorial(n - 1)


def test_each_level_of_a_recursion_is_a_call(traced):
    with traced:
        factorial(5)
    assert traced.signatures("factorial") == {(("builtins.int",), "builtins.int", NOT_OBSERVED): 5}


def test_calls_in_a_thread_started_while_tracing_are_recorded(traced):
    with traced:
        worker = threading.Thread(target=add, args=(1.0, 2.0))
        worker.start()
        worker.join()
    assert traced.signatures("add") == {(("builtins.float", "builtins.float"), "builtins.float", ""): 1}


def uses_the_standard_library(data):
    return json.dumps(data)


def test_only_included_modules_are_recorded(traced):
    with traced:
        uses_the_standard_library({"a": 1})
    assert {o.function.module for o in traced.observations} == {M}


def test_an_error_inside_the_hook_never_reaches_the_program(traced, monkeypatch):
    def broken(self, value):
        raise RuntimeError("injected")

    monkeypatch.setattr(TypeNamer, "name_of", broken)
    with traced:
        result = add(2, 3)
        generated = list(countdown(2))
    assert result == 5
    assert generated == [2, 1]
    assert traced.errors["RuntimeError"] >= 2


def guarded(n):
    try:
        yield n
        yield n + 1
    finally:
        pass


def test_generators_closed_early_are_each_one_call_and_closing_yields_nothing(traced):
    with traced:
        for _ in range(10):
            plain = countdown(5)
            next(plain)
            plain.close()
            with_finally = guarded(1)
            next(with_finally)
            with_finally.close()
    assert traced.signatures("countdown") == {(("builtins.int",), NOT_OBSERVED, "builtins.int"): 10}
    assert traced.signatures("guarded") == {(("builtins.int",), NOT_OBSERVED, "builtins.int"): 10}


def test_each_raising_call_is_counted_with_its_arguments(traced):
    with traced:
        for key in ("a", "b", "c"):
            with contextlib.suppress(KeyError):
                fails(key)
    assert traced.signatures("fails") == {(("builtins.str",), NOT_OBSERVED, NOT_OBSERVED): 3}
