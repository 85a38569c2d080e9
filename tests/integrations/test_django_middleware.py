"""The Django middleware against a real settings module (tests/fixtures/djangosite), through Django's
test clients: what it traces, what it leaves alone, and how it refuses bad settings."""

import asyncio
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from tracedb import read_traces

pytest.importorskip("django")

SITE = Path(__file__).resolve().parent.parent / "fixtures" / "djangosite"
REQUESTS = 400


@pytest.fixture(scope="module", autouse=True)
def django_site():
    """Django configured from the fixture site's settings module, once for this process."""
    import django
    from django.conf import settings

    if not settings.configured:
        sys.path.insert(0, str(SITE))
        previous = os.environ.get("DJANGO_SETTINGS_MODULE")
        os.environ["DJANGO_SETTINGS_MODULE"] = "site_config.settings"
        try:
            django.setup()
        finally:
            if previous is None:
                del os.environ["DJANGO_SETTINGS_MODULE"]
            else:
                os.environ["DJANGO_SETTINGS_MODULE"] = previous
    elif settings.SETTINGS_MODULE != "site_config.settings":
        pytest.skip("Django is already configured with other settings in this process")


@pytest.fixture
def harvest(tmp_path):
    """``override_settings`` for TYPEHARVEST with a fresh database; returns the database path."""
    from django.test import override_settings

    path = tmp_path / "traces.sqlite3"
    overrides = []

    def configure(**settings):
        merged = {"DB": str(path), "SAMPLE_RATE": 1.0, "BUDGET": 0, "FLUSH_INTERVAL": 3600, **settings}
        override = override_settings(TYPEHARVEST=merged)
        override.enable()
        overrides.append(override)
        return Path(merged["DB"])

    yield configure
    for override in reversed(overrides):
        override.disable()


def traces(path, module="probeapp.services"):
    return read_traces(path, module)


def calls(path, qualname, module="probeapp.services"):
    return sum(traces(path, module).get(qualname, Counter()).values())


def test_sync_view_and_its_services_are_traced_with_exact_counts(harvest):
    from django.test import Client

    path = harvest()
    client = Client()
    for a in range(20):
        assert client.get(f"/add/?a={a}&b=1").json() == {"sum": a + 1}
    assert traces(path)["add"] == Counter({(("int", "int"), "int", "-"): 20})
    views = traces(path, "probeapp.views")
    [(arg_types, return_type, _)] = views["add_view"]
    assert arg_types == ("django.core.handlers.wsgi.WSGIRequest",)
    assert return_type == "django.http.response.JsonResponse"


def test_async_view_is_traced_across_its_awaits_without_a_thread_hop(harvest):
    from asgiref.sync import iscoroutinefunction
    from django.http import HttpResponse
    from django.test import AsyncClient

    from typeharvest.django import TypeHarvestMiddleware

    path = harvest()

    async def get_response(request):
        return HttpResponse()

    assert iscoroutinefunction(TypeHarvestMiddleware(get_response)), "Django would adapt it with a thread"

    async def drive():
        client = AsyncClient()
        return [(await client.get("/async-add/")).json() for _ in range(5)]

    assert asyncio.run(drive()) == [{"sum": 6.5}] * 5
    found = traces(path)
    assert found["fetch_total"] == Counter({(("list[int]",), "int", "-"): 5})
    assert found["add"] == Counter({(("int", "float"), "float", "-"): 5})
    [(arg_types, _, _)] = traces(path, "probeapp.views")["async_add_view"]
    assert arg_types == ("django.core.handlers.asgi.ASGIRequest",)


@pytest.mark.parametrize(("rate", "low", "high"), [(0.0, 0, 0), (0.5, 160, 240), (1.0, REQUESTS, REQUESTS)])
def test_sampling_rate_traces_that_share_of_requests(harvest, rate, low, high):
    from django.test import Client

    path = harvest(SAMPLE_RATE=rate, SEED=20261127)
    client = Client()
    for _ in range(REQUESTS):
        assert client.get("/add/").status_code == 200
    # Binomial(400, 0.5) lies within 200 ± 40 (4 standard deviations); the seed makes the run repeatable.
    assert low <= calls(path, "add") <= high


def test_a_fixed_seed_samples_the_same_requests_twice(harvest, tmp_path):
    from django.test import Client

    counts = []
    for run in range(2):
        path = harvest(SAMPLE_RATE=0.3, SEED=7, DB=str(tmp_path / f"run{run}.sqlite3"))
        client = Client()
        for a in range(60):
            client.get(f"/add/?a={a}")
        counts.append(traces(path)["add"])
    assert counts[0] == counts[1]
    assert 0 < sum(counts[0].values()) < 60


def test_a_raising_view_raises_unchanged_and_keeps_the_work_done_before(harvest):
    from django.test import Client
    from probeapp.services import CheckoutFailed

    path = harvest()
    with pytest.raises(CheckoutFailed, match="payment declined"):
        Client().get("/boom/")
    assert Client(raise_request_exception=False).get("/boom/").status_code == 500
    assert traces(path)["prepare_checkout"] == Counter({(("int",), "dict[str, int]", "-"): 2})


def test_a_streamed_body_produced_after_the_view_returned_is_traced(harvest):
    from django.test import AsyncClient, Client

    path = harvest()
    response = Client().get("/stream/")
    assert b"".join(response.streaming_content) == b"line 0\nline 1\nline 2\n"

    async def drive():
        response = await AsyncClient().get("/async-stream/")
        return b"".join([chunk async for chunk in response.streaming_content])

    assert asyncio.run(drive()) == b"line 0\nline 1\nline 2\n"
    found = traces(path)
    assert found["lines"] == Counter({(("int",), "NoneType", "str"): 1})
    assert found["async_lines"] == Counter({(("int",), "NoneType", "str"): 1})


def test_only_the_sampled_request_is_traced_while_another_thread_serves_one(harvest):
    from django.test import Client

    path = harvest(SAMPLER="probeapp.sampling.header_says_trace")
    bodies = {}

    def request(name, headers):
        bodies[name] = Client().get("/meet/", headers=headers).content

    threads = [
        threading.Thread(target=request, args=("traced", {"X-Trace": "1"})),
        threading.Thread(target=request, args=("untraced", {})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert bodies == {"traced": b"1", "untraced": b"untraced"}  # both passed the barrier: they overlapped
    found = traces(path)
    assert found["tag"] == Counter({(("int",), "int", "-"): 1})
    assert found["meet"] == Counter({((), "NoneType", "-"): 1})


def test_only_the_sampled_request_is_traced_while_another_task_on_the_loop_runs(harvest):
    from django.test import AsyncClient

    path = harvest(SAMPLER="probeapp.sampling.header_says_trace")

    async def drive():
        client = AsyncClient()
        responses = await asyncio.gather(
            client.get("/async-meet/", headers={"X-Trace": "1"}), client.get("/async-meet/")
        )
        return [response.content for response in responses]

    assert asyncio.run(drive()) == [b"1", b"untraced"]
    assert traces(path)["async_tag"] == Counter({(("int",), "int", "-"): 1})


def test_a_failing_sampler_serves_the_request_untraced_and_counts_an_error(harvest):
    from django.test import Client

    from typeharvest.store import TraceReader

    path = harvest(SAMPLER="probeapp.sampling.broken_sampler")
    assert Client().get("/add/").status_code == 200
    assert traces(path) == {}
    with TraceReader(path) as reader:
        assert reader.stats().tracer_errors == 1


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"SAMPLE_RATE": 1.5}, "TYPEHARVEST: SAMPLE_RATE must be a number between 0 and 1, not 1.5"),
        ({"SAMPLE_RATE": "0.1"}, "TYPEHARVEST: SAMPLE_RATE must be a number between 0 and 1, not '0.1'"),
        ({"SAMPLERATE": 0.1}, "TYPEHARVEST: unknown setting 'SAMPLERATE'; the settings are BUDGET, DB,"),
        ({"SAMPLER": "probeapp.nowhere.pick"}, "TYPEHARVEST: SAMPLER: cannot import 'probeapp.nowhere'"),
        ({"SAMPLER": "probeapp.sampling.pick"}, "module 'probeapp.sampling' has no attribute 'pick'"),
        ({"SAMPLER": "probeapp.sampling.not_callable"}, "'probeapp.sampling.not_callable' is not callable"),
        ({"INCLUDE": "probeapp"}, "TYPEHARVEST: INCLUDE must be a list of module names"),
        ({"ENABLED": "no"}, "TYPEHARVEST: ENABLED must be True or False, not 'no'"),
        ({"DB": "/nonexistent/dir/traces.sqlite3"}, "TYPEHARVEST: "),
    ],
)
def test_bad_settings_are_refused_at_start_up_with_a_clear_message(harvest, settings, message):
    from django.core.exceptions import ImproperlyConfigured
    from django.test import Client

    harvest(**settings)
    with pytest.raises(ImproperlyConfigured) as refused:
        Client().get("/add/")
    assert str(refused.value).startswith(message) or message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_settings_that_are_not_a_dict_are_refused():
    from django.core.exceptions import ImproperlyConfigured
    from django.test import Client, override_settings

    with override_settings(TYPEHARVEST=["DB"]), pytest.raises(ImproperlyConfigured, match="must be a dict"):
        Client().get("/add/")


def test_disabled_middleware_leaves_the_chain_and_writes_nothing(harvest):
    from django.core.exceptions import MiddlewareNotUsed
    from django.http import HttpResponse
    from django.test import Client

    from typeharvest.django import TypeHarvestMiddleware

    path = harvest(ENABLED=False)
    with pytest.raises(MiddlewareNotUsed):
        TypeHarvestMiddleware(lambda request: HttpResponse())
    assert Client().get("/add/").json() == {"sum": 3}
    assert not path.exists()


def test_default_database_is_beside_manage_py_unless_the_environment_names_one(monkeypatch, tmp_path):
    from typeharvest.integrations.django import default_db

    monkeypatch.delenv("TYPEHARVEST_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    assert default_db() == SITE / "typeharvest.sqlite3"
    monkeypatch.setenv("TYPEHARVEST_DB", str(tmp_path / "elsewhere.sqlite3"))
    assert default_db() == tmp_path / "elsewhere.sqlite3"


def test_default_include_is_the_project_apps_and_the_settings_package():
    from typeharvest.integrations.django import project_modules

    assert project_modules() == ["probeapp", "site_config"]


def test_library_code_the_view_calls_is_not_traced(harvest):
    from django.test import Client

    from typeharvest.store import TraceReader

    path = harvest()
    Client().get("/add/")
    traces(path)
    with TraceReader(path) as reader:
        modules = {summary.module for summary in reader.modules()}
    assert modules == {"probeapp.services", "probeapp.views"}


def test_exclude_removes_modules_from_the_default_include(harvest):
    from django.test import Client

    from typeharvest.store import TraceReader

    path = harvest(EXCLUDE=["probeapp.views"])
    Client().get("/add/")
    traces(path)
    with TraceReader(path) as reader:
        assert {summary.module for summary in reader.modules()} == {"probeapp.services"}


def test_a_traced_django_process_loads_none_of_the_annotation_tools(tmp_path):
    probe = (
        "import sys, django\n"
        "django.setup()\n"
        "from django.test import Client\n"
        "from typeharvest.integrations.runtime import stop_shared_tracer\n"
        "assert Client().get('/add/').status_code == 200\n"
        "stop_shared_tracer()\n"
        "heavy = {'libcst', 'mypy', 'sqlite_utils', 'click', 'rich'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "site_config.settings",
        "TYPEHARVEST_DB": str(tmp_path / "t.db"),
    }
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=SITE, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert (tmp_path / "t.db").exists()
