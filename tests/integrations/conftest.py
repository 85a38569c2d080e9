import pytest

from typeharvest.integrations.runtime import stop_shared_tracer


@pytest.fixture(autouse=True)
def no_tracer_left_running():
    """One tracer per process: stop (and flush) the middleware's shared one after each test."""
    yield
    stop_shared_tracer()
