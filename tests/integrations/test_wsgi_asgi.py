"""The WSGI and ASGI middleware in process, around a plain project app (tests/fixtures/servedapps).

WSGI requests go through a real ``wsgiref`` server in a thread, or straight to the app with a real environ;
ASGI requests run on a real event loop with real ``receive``/``send`` coroutines. Nothing is mocked: the
traces are read back from the SQLite database the shared tracer writes when it stops.
"""

import asyncio
import contextlib
import importlib
import sys
import threading
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server
from wsgiref.util import FileWrapper, setup_testing_defaults

import pytest
from tracedb import read_traces

from typeharvest.integrations.asgi import TypeHarvestASGIMiddleware
from typeharvest.integrations.options import InvalidSettings
from typeharvest.integrations.runtime import stop_shared_tracer
from typeharvest.integrations.wsgi import TypeHarvestWSGIMiddleware
from typeharvest.store import TraceReader

SERVED = Path(__file__).resolve().parent.parent / "fixtures" / "servedapps"
#: Every request sampled, no budget (exact counts) and no flush before the tracer stops (no governor tick).
EXACT = {"sample_rate": 1.0, "budget": 0, "flush_interval": 3600, "include": ["servedapp"]}


@pytest.fixture(scope="module")
def served():
    """The fixture project's modules, importable from tests/fixtures/servedapps."""
    sys.path.insert(0, str(SERVED))
    try:
        yield importlib.import_module("servedapp.services")
    finally:
        sys.path.remove(str(SERVED))


@pytest.fixture
def db(tmp_path):
    return tmp_path / "traces.sqlite3"


def traces(path, module="servedapp.services"):
    return read_traces(path, module)


def total_calls(path):
    stop_shared_tracer()
    with TraceReader(path) as reader:
        return reader.stats().calls


# WSGI


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def wsgiref_server(app):
    """A real ``wsgiref`` server on 127.0.0.1 and a free port, serving in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def fetch(url, headers=None):
    """(status, headers, body) of a GET, also for error statuses."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


def wsgi_call(app, path, query="", **environ):
    """Call a WSGI app directly with a real environ; returns (status, the body object it returned)."""
    environ = {"PATH_INFO": path, "QUERY_STRING": query, **environ}
    setup_testing_defaults(environ)
    started = []
    body = app(environ, lambda status, headers, exc_info=None: started.append(status))
    return started, body


def test_wsgi_requests_through_a_real_server_record_the_project_functions_with_exact_counts(
    served, db, monkeypatch
):
    from servedapp.wsgi import application

    monkeypatch.chdir(SERVED)  # the default include: the code under the working directory, not libraries
    app = TypeHarvestWSGIMiddleware(application, db=str(db), sample_rate=1.0, budget=0, flush_interval=3600)
    with wsgiref_server(app) as url:
        for a in range(20):
            assert fetch(f"{url}/add?a={a}&b=1")[2] == str(a + 1).encode()
    assert traces(db) == {"add": Counter({(("int", "int"), "int", "-"): 20})}
    assert traces(db, "servedapp.wsgi")["respond"] == Counter({(("method", "str"), "list[bytes]", "-"): 20})
    with TraceReader(db) as reader:
        # Neither wsgiref, urllib, typeharvest nor this test module (outside the working directory).
        assert {summary.module for summary in reader.modules()} == {"servedapp.services", "servedapp.wsgi"}


def test_wsgi_body_produced_lazily_by_a_project_generator_is_traced_with_its_yields_and_its_close(served, db):
    from servedapp.wsgi import application

    app = TypeHarvestWSGIMiddleware(application, db=str(db), **EXACT)
    with wsgiref_server(app) as url:
        assert fetch(f"{url}/stream?count=3")[2] == b"chunk 0\nchunk 1\nchunk 2\n"
    # Directly: the app returns before any chunk exists; the body is produced, then closed, by the caller.
    started, body = wsgi_call(app, "/stream", "count=2")
    assert started == ["200 OK"]
    assert type(body).__name__ == "TracedBody"
    assert list(body) == [b"chunk 0\n", b"chunk 1\n"]
    body.close()
    found = traces(db)
    assert found["chunks"] == Counter({(("int",), "NoneType", "bytes"): 2})
    assert found["Body.__iter__"] == Counter({(("servedapp.services.Body",), "NoneType", "bytes"): 2})
    assert found["Body.close"] == Counter({(("servedapp.services.Body",), "NoneType", "-"): 2})
    assert found["release"] == Counter({(("str",), "str", "-"): 2})


@pytest.mark.parametrize("sampler_kind", ["callable", "dotted path"])
def test_wsgi_sampler_receives_the_environ_and_unsampled_requests_record_nothing(served, db, sampler_kind):
    from servedapp.sampling import header_says_trace
    from servedapp.wsgi import application

    received = []

    def remembering_sampler(environ):
        received.append(environ)
        return header_says_trace(environ)

    sampler = remembering_sampler if sampler_kind == "callable" else "servedapp.sampling.header_says_trace"
    app = TypeHarvestWSGIMiddleware(application, db=str(db), **{**EXACT, "sampler": sampler})
    with wsgiref_server(app) as url:
        for _ in range(5):
            assert fetch(f"{url}/tag?value=7", headers={"X-Trace": "1"})[2] == b"7"
            assert fetch(f"{url}/tag?value=seven")[2] == b"seven"
    assert traces(db)["tag"] == Counter({(("int",), "int", "-"): 5})
    assert total_calls(db) == 5 * 3  # application, tag, respond: of the sampled requests only
    if sampler_kind == "callable":
        assert len(received) == 10
        assert all(isinstance(environ, dict) and environ["PATH_INFO"] == "/tag" for environ in received)
        assert [environ.get("HTTP_X_TRACE") for environ in received] == ["1", None] * 5


def test_wsgi_sample_rate_zero_records_nothing(served, db):
    from servedapp.wsgi import application

    app = TypeHarvestWSGIMiddleware(application, db=str(db), **{**EXACT, "sample_rate": 0.0})
    with wsgiref_server(app) as url:
        for _ in range(10):
            assert fetch(f"{url}/add?a=1&b=1")[2] == b"2"
    stop_shared_tracer()
    with TraceReader(db) as reader:
        stats = reader.stats()
    assert (stats.functions, stats.calls) == (0, 0)


def test_wsgi_disabled_middleware_passes_everything_through_and_creates_no_database(served, db):
    from servedapp.wsgi import application

    app = TypeHarvestWSGIMiddleware(application, db=str(db), **{**EXACT, "enabled": False})
    assert app.tracer is None
    started, body = wsgi_call(app, "/add", "a=2&b=3")
    assert (started, body) == (["200 OK"], [b"5"])
    started, body = wsgi_call(app, "/stream")
    assert type(body) is served.Body  # the app's own object, not a traced wrapper
    with wsgiref_server(app) as url:
        assert fetch(f"{url}/add?a=1&b=1")[2] == b"2"
    stop_shared_tracer()
    assert not db.exists()


@pytest.mark.parametrize("middleware", [TypeHarvestWSGIMiddleware, TypeHarvestASGIMiddleware])
@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"sample_rat": 0.5},
            "unknown setting 'sample_rat'; the settings are "
            "budget, db, enabled, exclude, flush_interval, include, sample_rate, sampler, seed",
        ),
        ({"sample_rate": 2}, "sample_rate must be a number between 0 and 1, not 2"),
        (
            {"sampler": "servedapp.nowhere.pick"},
            "sampler: cannot import 'servedapp.nowhere' (No module named",
        ),
        (
            {"sampler": "servedapp.sampling.pick"},
            "sampler: module 'servedapp.sampling' has no attribute 'pick'",
        ),
        ({"budget": -1}, "budget must be a whole number >= 0 (0: no budget), not -1"),
        (
            {"db": "/nonexistent/dir/traces.sqlite3"},
            "cannot create database /nonexistent/dir/traces.sqlite3: "
            "directory /nonexistent/dir does not exist",
        ),
    ],
)
def test_bad_settings_are_refused_at_construction_with_a_clear_message(
    served, tmp_path, middleware, settings, message
):
    from servedapp.wsgi import application

    db = tmp_path / "traces.sqlite3"
    with pytest.raises(InvalidSettings) as refused:
        middleware(application, **{"db": str(db), **settings})
    assert isinstance(refused.value, ValueError)
    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)
    assert not db.exists()


def test_wsgi_file_wrapper_body_is_returned_untouched(served, db, tmp_path):
    from servedapp.wsgi import application

    document = tmp_path / "document.txt"
    document.write_bytes(b"sent by the server itself\n" * 100)
    app = TypeHarvestWSGIMiddleware(application, db=str(db), **EXACT)
    started, body = wsgi_call(app, "/file", f"path={document}", **{"wsgi.file_wrapper": FileWrapper})
    try:
        assert started == ["200 OK"]
        assert type(body) is FileWrapper
        assert body.filelike.name == str(document)
    finally:
        body.close()
    with wsgiref_server(app) as url:  # wsgiref offers its FileWrapper in every environ
        assert fetch(f"{url}/file?path={document}")[2] == document.read_bytes()
    assert traces(db, "servedapp.wsgi")["application"].total() == 2


def test_wsgi_sampled_response_keeps_the_content_length_the_server_computes(served, db):
    """wsgiref (like waitress) sets Content-Length for a one-chunk list body: sampling must keep it."""
    from servedapp.sampling import header_says_trace
    from servedapp.wsgi import application

    app = TypeHarvestWSGIMiddleware(application, db=str(db), **{**EXACT, "sampler": header_says_trace})
    with wsgiref_server(app) as url:
        _, untraced_headers, _ = fetch(f"{url}/add?a=20&b=22")
        _, traced_headers, body = fetch(f"{url}/add?a=20&b=22", headers={"X-Trace": "1"})
    assert body == b"42"
    assert untraced_headers["Content-Length"] == "2"
    assert traced_headers["Content-Length"] == "2"
    assert traces(db)["add"] == Counter({(("int", "int"), "int", "-"): 1})


def test_wsgi_exception_propagates_unchanged_and_the_work_done_before_is_kept(served, db):
    from servedapp.wsgi import application

    app = TypeHarvestWSGIMiddleware(application, db=str(db), **EXACT)
    with pytest.raises(served.CheckoutFailed, match=r"^payment declined$") as raised:
        wsgi_call(app, "/boom")
    assert type(raised.value) is served.CheckoutFailed
    assert raised.traceback[-1].path == SERVED / "servedapp" / "wsgi.py"  # raised where the app raised it
    served.add(1, 1)  # after the failed request, outside any unit of work: not traced
    with wsgiref_server(app) as url:
        assert fetch(f"{url}/boom")[0] == 500
        assert fetch(f"{url}/add?a=1&b=2")[2] == b"3"  # and the server goes on serving, traced
    found = traces(db)
    assert found["prepare_checkout"] == Counter({(("int",), "dict[str, int]", "-"): 2})
    assert found["add"] == Counter({(("int", "int"), "int", "-"): 1})
    returns = Counter()
    for (_, return_type, _), calls in traces(db, "servedapp.wsgi")["application"].items():
        returns[return_type] += calls
    assert returns == {"-": 2, "list[bytes]": 1}  # the calls that raised have no return type


# ASGI


def http_scope(path, query="", headers=()):
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def asgi_get(app, path, query="", headers=()):
    """One HTTP request through an ASGI app with real receive/send coroutines: (status, body)."""
    requests = [{"type": "http.request", "body": b"", "more_body": False}]
    disconnected = asyncio.Event()
    sent = []

    async def receive():
        if requests:
            return requests.pop()
        await disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    await app(http_scope(path, query, headers), receive, send)
    disconnected.set()
    [start] = [message for message in sent if message["type"] == "http.response.start"]
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return start["status"], body


TRACE_ME = [(b"x-trace", b"1")]


def test_asgi_request_is_traced_across_its_awaits(served, db):
    from servedapp.asgi import application

    app = TypeHarvestASGIMiddleware(application, db=str(db), **EXACT)

    async def drive():
        return [await asgi_get(app, "/fetch") for _ in range(5)]

    assert asyncio.run(drive()) == [(200, b"6")] * 5
    # fetch_total is awaited after the request slept on the loop, and awaits itself: its result is an int.
    assert traces(db) == {"fetch_total": Counter({(("list[int]",), "int", "-"): 5})}
    assert traces(db, "servedapp.asgi")["http"].total() == 5


def test_asgi_only_the_sampled_ones_of_overlapping_requests_on_one_loop_are_traced(served, db, monkeypatch):
    from servedapp.asgi import application

    monkeypatch.setattr(served, "rendezvous", served.Rendezvous(6))  # all six must be inside the app at once
    app = TypeHarvestASGIMiddleware(
        application, db=str(db), **{**EXACT, "sampler": "servedapp.sampling.scope_header_says_trace"}
    )

    async def drive():
        return await asyncio.gather(
            *[asgi_get(app, "/meet", f"value={n}", TRACE_ME) for n in range(3)],
            *[asgi_get(app, "/meet", "value=untraced") for _ in range(3)],
        )

    assert asyncio.run(drive()) == [(200, b"0"), (200, b"1"), (200, b"2")] + [(200, b"untraced")] * 3
    found = traces(db)
    assert found["async_tag"] == Counter({(("int",), "int", "-"): 3})
    assert found["Rendezvous.wait"] == Counter({(("servedapp.services.Rendezvous",), "NoneType", "-"): 3})


def test_asgi_task_created_by_a_sampled_request_is_traced_and_one_of_an_unsampled_request_is_not(
    served, db, monkeypatch
):
    from servedapp.asgi import application

    monkeypatch.setattr(served, "rendezvous", served.Rendezvous(2))
    app = TypeHarvestASGIMiddleware(
        application, db=str(db), **{**EXACT, "sampler": "servedapp.sampling.scope_header_says_trace"}
    )

    async def drive():
        return await asyncio.gather(
            asgi_get(app, "/spawn", "value=5", TRACE_ME), asgi_get(app, "/spawn", "value=five")
        )

    assert asyncio.run(drive()) == [(200, b"[5]"), (200, b"['five']")]
    assert traces(db)["background_job"] == Counter({(("int",), "list[int]", "-"): 1})


def test_asgi_lifespan_passes_through_untraced_and_is_never_sampled(served, db):
    from servedapp.asgi import application

    asked = []

    def sampler(scope):
        asked.append(scope["type"])
        return True

    app = TypeHarvestASGIMiddleware(application, db=str(db), **{**EXACT, "sampler": sampler})

    async def drive():
        events = asyncio.Queue()
        for event in ("lifespan.startup", "lifespan.shutdown"):
            events.put_nowait({"type": event})
        sent = []

        async def send(message):
            sent.append(message["type"])

        await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, events.get, send)
        return sent

    assert asyncio.run(drive()) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert asked == []
    assert total_calls(db) == 0


def test_asgi_websocket_session_is_one_unit_of_work(served, db):
    from servedapp.asgi import application

    app = TypeHarvestASGIMiddleware(
        application, db=str(db), **{**EXACT, "sampler": "servedapp.sampling.scope_header_says_trace"}
    )

    async def session(headers, texts):
        incoming = asyncio.Queue()
        for message in [
            {"type": "websocket.connect"},
            *[{"type": "websocket.receive", "text": text} for text in texts],
            {"type": "websocket.disconnect", "code": 1000},
        ]:
            incoming.put_nowait(message)
        sent = []

        async def send(message):
            sent.append(message)

        scope = {
            **http_scope("/echo", headers=headers),
            "type": "websocket",
            "scheme": "ws",
            "subprotocols": [],
        }
        await app(scope, incoming.get, send)
        return [message.get("text", message["type"]) for message in sent]

    async def drive():
        return await asyncio.gather(session(TRACE_ME, ["hello", "world"]), session((), ["a", "b", "c"]))

    assert asyncio.run(drive()) == [
        ["websocket.accept", "hello", "world"],
        ["websocket.accept", "a", "b", "c"],
    ]
    assert traces(db) == {"tag": Counter({(("str",), "str", "-"): 2})}
    assert traces(db, "servedapp.asgi")["echo"].total() == 1


def test_asgi_disabled_middleware_passes_through_and_creates_no_database(served, db):
    from servedapp.asgi import application

    app = TypeHarvestASGIMiddleware(application, db=str(db), **{**EXACT, "enabled": False})
    assert app.tracer is None
    assert asyncio.run(asgi_get(app, "/fetch")) == (200, b"6")
    stop_shared_tracer()
    assert not db.exists()
