"""Both interpreter backends turn real calls into the same aggregated signatures.

Each test runs under every backend this interpreter has: sys.setprofile everywhere, sys.monitoring on 3.12+.
"""

import asyncio
import contextlib
import gc
import json
import sys
import threading
import weakref
from pathlib import Path
from unittest import mock

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


class Builder:
    def __init__(self):
        self.parts = []

    def add(self, part):
        self.parts.append(part)
        return self

    def copy(self):
        clone = Builder()
        clone.parts = list(self.parts)
        return clone

    def rebound(self, other):
        self = other
        return self

    def positional_only(self, /):
        return self

    def first_of(*args):
        return args[0]

    @classmethod
    def create(cls):
        return cls

    @staticmethod
    def echo(value):
        return value

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return None

    def explode(self):
        raise ValueError(self)


class FancyBuilder(Builder):
    pass


def ident(x):
    return x


SELF = "typeharvest.Self"
BUILDER = f"{M}.Builder"


def test_a_method_returning_its_receiver_is_marked_self(traced):
    with traced:
        Builder().add(1).add(2)
        FancyBuilder().add("x")
        Builder().positional_only()
    assert traced.signatures("Builder.add") == {
        ((BUILDER, "builtins.int"), f"{SELF}[{BUILDER}]", NOT_OBSERVED): 2,
        ((f"{M}.FancyBuilder", "builtins.str"), f"{SELF}[{M}.FancyBuilder]", NOT_OBSERVED): 1,
    }
    assert traced.signatures("Builder.positional_only") == {((BUILDER,), f"{SELF}[{BUILDER}]", ""): 1}


def test_a_method_returning_another_instance_of_its_class_is_not_marked(traced):
    with traced:
        Builder().copy()
    assert traced.signatures("Builder.copy") == {((BUILDER,), BUILDER, NOT_OBSERVED): 1}


def test_a_classmethod_returning_cls_is_marked_self(traced):
    with traced:
        Builder.create()
        FancyBuilder.create()
    assert traced.signatures("Builder.create") == {
        ((f"builtins.type[{BUILDER}]",), f"{SELF}[builtins.type[{BUILDER}]]", NOT_OBSERVED): 1,
        ((f"builtins.type[{M}.FancyBuilder]",), f"{SELF}[builtins.type[{M}.FancyBuilder]]", ""): 1,
    }


def test_a_function_returning_its_first_argument_is_not_a_method_returning_self(traced):
    builder = Builder()
    with traced:
        ident(builder)
        Builder.echo(builder)
        builder.first_of()
    assert traced.signatures("ident") == {((BUILDER,), BUILDER, NOT_OBSERVED): 1}
    assert traced.signatures("Builder.echo") == {((BUILDER,), BUILDER, NOT_OBSERVED): 1}
    assert traced.signatures("Builder.first_of") == {
        ((f"builtins.tuple[{BUILDER}]",), BUILDER, NOT_OBSERVED): 1
    }


def test_the_receiver_is_the_first_argument_as_the_call_started_not_a_rebound_self(traced):
    with traced:
        Builder().rebound(Builder())
    assert traced.signatures("Builder.rebound") == {((BUILDER, BUILDER), BUILDER, NOT_OBSERVED): 1}


async def enter(builder):
    async with builder as entered:
        return entered


def test_a_coroutine_method_awaiting_to_its_receiver_is_marked_self(traced):
    with traced:
        asyncio.run(enter(Builder()))
    assert traced.signatures("Builder.__aenter__") == {((BUILDER,), f"{SELF}[{BUILDER}]", NOT_OBSERVED): 1}


def test_a_call_holds_its_receiver_only_until_it_ends(traced):
    with traced:
        builder = Builder().add(1)
        returned = weakref.ref(builder)
        del builder
        gc.collect()
        assert returned() is None
        builder = Builder()
        with contextlib.suppress(ValueError):
            builder.explode()
        raised = weakref.ref(builder)
        del builder
    gc.collect()
    assert raised() is None
    assert traced.signatures("Builder.explode") == {((BUILDER,), NOT_OBSERVED, NOT_OBSERVED): 1}


def takes(value):
    return None


def test_mocks_are_recorded_by_their_spec_class_or_not_at_all(traced):
    with traced:
        takes(mock.Mock())
        takes(mock.MagicMock())
        takes(mock.AsyncMock())
        takes(mock.sentinel.marker)
        takes(mock.Mock(spec=Path))
        takes(mock.create_autospec(Shape, instance=True))
    assert traced.signatures("takes") == {
        ((NOT_OBSERVED,), "builtins.NoneType", NOT_OBSERVED): 4,
        ((TypeNamer().class_name(Path),), "builtins.NoneType", NOT_OBSERVED): 1,
        ((f"{M}.Shape",), "builtins.NoneType", NOT_OBSERVED): 1,
    }
