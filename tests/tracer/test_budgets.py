"""Budgets switch a well-known function off; re-arming lets new types show up; memory is capped."""

import sys
import threading

import pytest

from typeharvest.tracer import Tracer

M = __name__


def steady(x):
    return x


def varied(x):
    return x


def make_tracer(sink, **settings):
    settings.setdefault("flush_interval", 60)
    return Tracer(sink, include=[M], **settings)


def test_a_function_stops_being_recorded_after_its_budget_of_calls_without_news(sink):
    tracer = make_tracer(sink, budget=10)
    tracer.start()
    for i in range(1000):
        steady(i)
    tracer.stop()
    # The first call is news; ten more without news exhaust the budget.
    assert sink.calls("steady") == 11


def test_a_budget_of_zero_records_every_call(sink):
    tracer = make_tracer(sink, budget=0)
    tracer.start()
    for i in range(1000):
        steady(i)
    tracer.stop()
    assert sink.calls("steady") == 1000


def test_a_new_type_resets_the_budget(sink):
    tracer = make_tracer(sink, budget=10)
    tracer.start()
    for i in range(5):
        steady(i)
    steady("news")
    for i in range(100):
        steady(i)
    tracer.stop()
    assert sink.calls("steady") == 5 + 1 + 10


def test_a_type_that_appears_after_exhaustion_is_found_after_rearming(sink):
    tracer = make_tracer(sink, budget=10)
    tracer.start()
    for i in range(100):
        steady(i)
    steady("rare")  # the function is switched off: not seen
    assert {s.arg_types for s in sink.signatures("steady")} == set()
    tracer.rearm()
    steady("rare")
    tracer.stop()
    assert {s.arg_types for s in sink.signatures("steady")} == {("builtins.int",), ("builtins.str",)}
    assert tracer.status().rearms == 1


def callbacks_for(tracer, function):
    """A list that grows by one each time an interpreter callback looks ``function`` up from now on."""
    recorder = tracer._recorder
    calls = []
    original = recorder.known_entry

    def counting(code):
        if code is function.__code__:
            calls.append(code)
        return original(code)

    recorder.known_entry = counting
    return calls


def lookup(key):
    if key is None:
        raise KeyError(key)
    return key


def raise_once_and_keep_the_frame():
    """A recorded call of ``lookup`` that raises; the kept traceback keeps its frame, so that no later call
    starts at its address (which would also reveal that it ended)."""
    try:
        lookup(None)
    except KeyError as exc:
        return exc
    raise AssertionError("lookup(None) did not raise")


def test_a_recorded_call_that_raised_is_reported_with_its_arguments_before_tracing_stops(sink):
    tracer = make_tracer(sink, budget=5)
    tracer.start()
    kept = raise_once_and_keep_the_frame()
    for i in range(20):
        lookup(i)
    tracer.flush()
    assert {(s.arg_types, s.return_type) for s in sink.signatures("lookup")} == {
        (("builtins.NoneType",), ""),
        (("builtins.int",), "builtins.int"),
    }
    tracer.stop()
    del kept  # its frame stayed alive until here


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring")
@pytest.mark.parametrize("raise_first", [False, True], ids=["all_returned", "a_recorded_call_raised"])
def test_an_exhausted_function_no_longer_reaches_the_callback_on_pep_669(sink, raise_first):
    tracer = make_tracer(sink, budget=5)
    tracer.start()
    kept = raise_once_and_keep_the_frame() if raise_first else None
    for i in range(20):
        lookup(i)
    calls = callbacks_for(tracer, lookup)
    for i in range(100):
        lookup(i)
    tracer.stop()
    assert calls == []
    del kept  # its frame stayed alive until here


def wait_then_return(entered, release, value):
    entered.set()
    release.wait(10)
    return value


def test_a_recorded_call_still_running_in_another_thread_is_not_taken_for_one_that_raised(sink):
    tracer = make_tracer(sink, budget=3)
    tracer.start()
    entered, release, done = threading.Event(), threading.Event(), threading.Event()
    worker = threading.Thread(target=wait_then_return, args=(entered, release, "late"))
    worker.start()
    entered.wait(10)
    done.set()
    for i in range(20):
        wait_then_return(threading.Event(), done, i)  # exhausts the function while the worker's call runs
    release.set()
    worker.join(10)
    tracer.stop()
    events = ("threading.Event",) * 2
    assert {(s.arg_types, s.return_type) for s in sink.signatures("wait_then_return")} == {
        ((*events, "builtins.str"), "builtins.str"),
        ((*events, "builtins.int"), "builtins.int"),
    }


def test_distinct_signatures_per_function_are_capped_and_the_excess_counted(sink):
    tracer = make_tracer(sink, max_signatures_per_function=3, budget=0)
    tracer.start()
    for value in (1, "a", b"b", 2.0, None, [1]):
        varied(value)
    tracer.stop()
    assert len(sink.signatures("varied")) == 3
    assert sink.errors["signature_cap"] == 3


def test_the_buffer_is_capped_between_flushes_and_the_excess_counted(sink):
    tracer = make_tracer(sink, max_buffered_signatures=2, budget=0)
    tracer.start()
    for value in (1, "a", b"b"):
        varied(value)
    steady(1)
    tracer.stop()
    assert len(sink.observations) == 2
    assert sink.errors["buffer_full"] == 2


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def test_an_exhausted_recursive_function_still_reports_the_returns_of_its_running_calls(sink):
    tracer = make_tracer(sink, budget=5)
    tracer.start()
    fib(12)
    tracer.stop()
    assert {(s.arg_types, s.return_type) for s in sink.signatures("fib")} == {
        (("builtins.int",), "builtins.int")
    }


def test_rearming_renews_a_quarter_budget_and_only_for_exhausted_functions(sink):
    tracer = make_tracer(sink, budget=40)
    tracer.start()
    for i in range(100):
        steady(i)  # exhausted after 41 recorded calls
    for i in range(20):
        varied(i)  # 20 calls: still spending its first budget
    tracer.rearm()
    for i in range(100):
        steady(i)
        varied(i)
    tracer.stop()
    assert sink.calls("steady") == 41 + 10
    assert sink.calls("varied") == 41  # the rearm did not restart its count


def sampled_units(tracer, count, call):
    for _ in range(count):
        with tracer.sampled():
            call()


def test_at_a_low_sampling_rate_a_few_quiet_units_switch_a_function_off(sink):
    # At 0.01 a sampled request is rare: two in which a function shows nothing new are enough.
    tracer = make_tracer(sink, scope="units", sample_rate=0.01, sampler=lambda unit: True)
    tracer.start()
    sampled_units(tracer, 10, lambda: [steady(i) for i in range(5)])
    tracer.stop()
    # Unit 1 shows the signature; units 2 and 3 are quiet; the first call of unit 3 exhausts it.
    assert sink.calls("steady") == 5 + 5 + 1


def test_a_new_signature_starts_the_quiet_units_afresh(sink):
    tracer = make_tracer(sink, scope="units", sample_rate=0.01, sampler=lambda unit: True)
    tracer.start()
    sampled_units(tracer, 1, lambda: steady(1))
    sampled_units(tracer, 1, lambda: steady("news"))
    sampled_units(tracer, 5, lambda: steady(1))
    tracer.stop()
    assert sink.calls("steady") == 1 + 1 + 2


def test_rearming_gives_a_unit_switched_off_function_another_unit(sink):
    tracer = make_tracer(sink, scope="units", sample_rate=0.01, sampler=lambda unit: True)
    tracer.start()
    sampled_units(tracer, 5, lambda: steady(1))
    tracer.rearm()
    sampled_units(tracer, 3, lambda: [steady(1), steady("rare")])
    tracer.stop()
    assert {s.arg_types for s in sink.signatures("steady")} == {("builtins.int",), ("builtins.str",)}


def test_at_full_sampling_the_call_budget_alone_decides(sink):
    tracer = make_tracer(sink, scope="units", sample_rate=1.0, budget=10)
    tracer.start()
    sampled_units(tracer, 8, lambda: steady(1))
    tracer.stop()
    assert sink.calls("steady") == 8  # eight quiet units, fewer calls than the budget: all recorded


def test_at_a_low_sampling_rate_the_call_budget_shrinks_too(sink):
    tracer = make_tracer(sink, scope="units", sample_rate=0.01, sampler=lambda unit: True)
    tracer.start()
    sampled_units(tracer, 1, lambda: [steady(i) for i in range(100)])
    tracer.stop()
    assert sink.calls("steady") == 1 + 20  # budget 200 x sqrt(0.01)


def test_the_budgets_for_each_scope_and_rate():
    from typeharvest.tracer.config import TracerConfig
    from typeharvest.tracer.recorder import budgets

    assert budgets(TracerConfig(budget=200)) == (200, 0)
    assert budgets(TracerConfig(budget=200, scope="units", sample_rate=1.0)) == (200, 200)
    assert budgets(TracerConfig(budget=200, scope="units", sample_rate=0.1)) == (63, 20)
    assert budgets(TracerConfig(budget=200, scope="units", sample_rate=0.01)) == (20, 2)
    assert budgets(TracerConfig(budget=10, scope="units", sample_rate=0.01)) == (10, 2)
    assert budgets(TracerConfig(budget=0, scope="units", sample_rate=0.01)) == (0, 0)
