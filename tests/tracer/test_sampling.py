"""Units scope: only the sampled unit of work is recorded — not other threads, not other asyncio tasks."""

import asyncio
import sys
import threading

import pytest

from typeharvest.tracer import Tracer

M = __name__


def work(x):
    return x


def other(x):
    return x


def units_tracer(sink, **settings):
    settings.setdefault("flush_interval", 60)
    return Tracer(sink, include=[M], scope="units", **settings)


def test_calls_outside_a_sampled_unit_are_not_recorded(sink):
    tracer = units_tracer(sink)
    tracer.start()
    work(1)
    with tracer.sampled() as traced:
        work("inside")
    work(2.0)
    tracer.stop()
    assert traced is True
    assert {s.arg_types for s in sink.signatures("work")} == {("builtins.str",)}


def test_a_thread_running_beside_a_sampled_unit_is_not_recorded(sink):
    tracer = units_tracer(sink)
    both_running = threading.Barrier(2)
    done = threading.Event()

    def unsampled_thread():
        both_running.wait()
        for _ in range(200):
            other(1)
        done.set()

    thread = threading.Thread(target=unsampled_thread)
    tracer.start()
    thread.start()
    with tracer.sampled():
        both_running.wait()
        work(1)  # at least once: the other thread may well finish before this one runs again
        while not done.is_set():
            work(1)
    thread.join()
    tracer.stop()
    assert sink.calls("work") > 0
    assert sink.calls("other") == 0


def test_only_the_sampled_asyncio_task_is_recorded_though_tasks_interleave(sink):
    tracer = units_tracer(sink)

    async def request(sample, label):
        with tracer.sampled() if sample else _nothing():
            for _ in range(20):
                work(label)
                await asyncio.sleep(0)

    async def main():
        await asyncio.gather(request(True, "sampled"), request(False, b"unsampled"))

    tracer.start()
    asyncio.run(main())
    tracer.stop()
    assert {s.arg_types for s in sink.signatures("work")} == {("builtins.str",)}
    assert sink.calls("work") == 20


class _nothing:
    def __enter__(self):
        return False

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize(("rate", "low", "high"), [(0.0, 0, 0), (0.5, 420, 580), (1.0, 1000, 1000)])
def test_the_share_of_sampled_units_follows_the_rate(sink, rate, low, high):
    tracer = units_tracer(sink, sample_rate=rate, seed=1234, budget=0)
    tracer.start()
    sampled = 0
    for i in range(1000):
        with tracer.sampled() as traced:
            work(i)
        sampled += traced
    tracer.stop()
    assert low <= sampled <= high
    assert sink.calls("work") == sampled


def test_a_sampler_decides_per_subject_and_a_failing_one_samples_nothing(sink):
    def staff_only(request):
        if request == "broken":
            raise RuntimeError("sampler bug")
        return request == "staff"

    tracer = units_tracer(sink, sampler=staff_only)
    tracer.start()
    for subject, value in (("staff", 1), ("anonymous", "a"), ("broken", b"b")):
        with tracer.sampled(subject):
            work(value)
    tracer.stop()
    assert {s.arg_types for s in sink.signatures("work")} == {("builtins.int",)}
    assert sink.errors["RuntimeError"] == 1


def test_work_spawned_by_a_sampled_unit_is_part_of_it(sink):
    tracer = units_tracer(sink)

    async def child():
        return work("child")

    async def main():
        with tracer.sampled():
            await asyncio.create_task(child())

    tracer.start()
    asyncio.run(main())
    tracer.stop()
    assert sink.calls("work") == 1


def test_begin_and_end_delimit_a_unit_and_end_of_none_is_harmless(sink):
    tracer = units_tracer(sink)
    tracer.start()
    token = tracer.begin("request")
    work(1)
    tracer.end(token)
    tracer.end(None)
    tracer.stop()
    assert tracer.begin() is None  # not running: nothing is sampled
    assert sink.calls("work") == 1


def test_resume_continues_a_chosen_unit_without_a_new_coin_toss(sink):
    tracer = units_tracer(sink, sample_rate=0.0)
    tracer.start()
    assert tracer.begin() is None, "a rate of 0 chooses nothing"
    token = tracer.resume()  # e.g. a streamed body of a request chosen earlier
    work("resumed")
    tracer.end(token)
    work(1)
    tracer.stop()
    assert tracer.resume() is None, "nothing to resume once stopped"
    assert {s.arg_types for s in sink.signatures("work")} == {("builtins.str",)}


def newcomer(x):
    return x


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring")
def test_settled_units_hear_only_the_functions_still_recorded_until_the_next_rearm(sink):
    from typeharvest.tracer.monitoring_backend import SETTLE_UNITS

    tracer = units_tracer(sink, sample_rate=0.5, sampler=lambda unit: True, budget=0)
    tracer.start()
    for _ in range(SETTLE_UNITS + 1):  # the first unit finds `work`; then quiet ones settle the tracer
        with tracer.sampled():
            work(1)
    with tracer.sampled():
        work("news")  # a live function is still heard, new types and all
        newcomer(1)  # code never seen before is not, in a settled unit
    tracer.rearm()  # ... until the next re-arm looks for new code again
    with tracer.sampled():
        newcomer(2)
    tracer.stop()
    assert {s.arg_types for s in sink.signatures("work")} == {("builtins.int",), ("builtins.str",)}
    assert sink.calls("work") == SETTLE_UNITS + 2
    assert sink.calls("newcomer") == 1
