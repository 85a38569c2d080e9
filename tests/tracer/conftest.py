import threading
from collections import Counter

import pytest

import typeharvest.tracer


class ListSink:
    """A sink that keeps what the tracer hands over, in memory."""

    def __init__(self):
        self.observations = []
        self.errors = Counter()
        self.flushes = 0
        self.flushed = threading.Event()

    def __call__(self, observations, errors):
        self.observations.extend(observations)
        self.errors.update(errors)
        self.flushes += 1
        self.flushed.set()

    def calls(self, qualname):
        return sum(o.calls for o in self.observations if o.function.qualname == qualname)

    def signatures(self, qualname):
        return {o.signature for o in self.observations if o.function.qualname == qualname}


@pytest.fixture
def sink():
    return ListSink()


@pytest.fixture(autouse=True)
def no_tracer_left_active():
    """A test that leaves a tracer running fails, and does not take every later test down with it."""
    yield
    left = typeharvest.tracer._active
    if left is not None:
        left.stop()
        pytest.fail("the test left a tracer running")
