"""Real servers, started as subprocesses: gunicorn with two pre-forked workers and uvicorn.

Each test starts the server on 127.0.0.1 with a port the server picks itself (read back from its log),
sends a bounded number of requests, stops the server gracefully and then reads the trace database: the
call counts must be exact, so nothing was lost at shutdown and nothing was written twice.
"""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tracedb import short

from typeharvest.store import TraceReader

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SITE = FIXTURES / "djangosite"
SERVED = FIXTURES / "servedapps"
START_TIMEOUT = 20
STOP_TIMEOUT = 20
#: Requests sent to a server at least; more only until every worker has answered (never more than MAX).
REQUESTS = 60
MAX_REQUESTS = 400


class Server:
    """A server process started by a test: its log (stdout and stderr) goes to a file the test can show."""

    def __init__(self, args, *, cwd, env, log):
        self.log_path = log
        self._log = open(log, "wb")  # noqa: SIM115 (closed in close())
        self.process = subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=cwd,
            env={**clean_environ(), **env},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: its workers can be killed with it if need be
        )
        self.pid = self.process.pid

    def output(self):
        return self.log_path.read_text(errors="replace")

    def wait_for(self, pattern, count=1):
        """The first group of the first ``count`` matches of ``pattern`` in the log, once there are as many
        (polled until START_TIMEOUT)."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            found = re.findall(pattern, self.output())
            if len(found) >= count:
                return [int(group) for group in found[:count]]
            assert self.process.poll() is None, f"the server exited early:\n{self.output()}"
            time.sleep(0.05)
        raise AssertionError(f"the server did not start within {START_TIMEOUT} s:\n{self.output()}")

    def wait_for_port(self, pattern):
        """The port the server says it listens on, once it does."""
        [port] = self.wait_for(pattern)
        return port

    def wait_for_workers(self, count):
        """The pids of ``count`` gunicorn workers that have loaded the app (see GUNICORN_CONFIG)."""
        return set(self.wait_for(r"Worker ready \(pid: (\d+)\)", count))

    def stop(self, sig):
        """Ask for a graceful stop with ``sig`` and wait for the server to exit; returns its exit code."""
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"the server did not stop within {STOP_TIMEOUT} s:\n{self.output()}"
            ) from None

    def close(self):
        """Kill what is left of the server (its process group: the master and its workers) and the log."""
        if self.process.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT)
        self._log.close()


def clean_environ():
    """This process's environment without settings that would change what the server traces or where."""
    unwanted = ("TYPEHARVEST_", "PROBE_", "SERVED_", "DJANGO_SETTINGS_MODULE")
    return {name: value for name, value in os.environ.items() if not name.startswith(unwanted)}


@pytest.fixture
def start_server(tmp_path):
    """``start_server(args, cwd=..., env=...)`` -> a running ``Server``; every one is killed at the end."""
    servers = []

    def start(args, *, cwd, env):
        server = Server(args, cwd=cwd, env=env, log=tmp_path / f"server{len(servers)}.log")
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


#: A gunicorn config file whose hook logs when a worker has loaded the app and starts serving.
GUNICORN_CONFIG = """
def post_worker_init(worker):
    worker.log.info("Worker ready (pid: %s)", worker.pid)
"""


def gunicorn(directory, app, *options):
    """gunicorn's arguments: two sync workers on 127.0.0.1, on a port it picks (config in ``directory``)."""
    from gunicorn.config import Config

    config = directory / "gunicorn_config.py"
    config.write_text(GUNICORN_CONFIG)
    args = ["gunicorn", "--config", str(config), "--workers", "2", "--bind", "127.0.0.1:0"]
    args += ["--graceful-timeout", "10", *options]
    if "control_socket_disable" in Config().settings:  # gunicorn >= 25 opens one in ~/.gunicorn otherwise
        args.append("--no-control-socket")
    return [*args, app]


GUNICORN_LISTENING = r"Listening at: http://127\.0\.0\.1:(\d+)"
UVICORN_RUNNING = r"Uvicorn running on http://127\.0\.0\.1:(\d+)"


def get(url):
    """One GET on a new connection (urllib sends ``Connection: close``); the body as text."""
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        return response.read().decode()


def hit_every_worker(url, workers):
    """GET ``url`` (which answers the worker's pid) in concurrent batches, at least REQUESTS times and
    until ``workers`` distinct processes answered. Returns (requests sent, Counter of answering pids)."""
    sent = 0
    pids = Counter()
    with ThreadPoolExecutor(max_workers=4) as pool:
        while sent < REQUESTS or len(pids) < workers:
            assert sent < MAX_REQUESTS, f"only {sorted(pids)} answered {sent} requests"
            for body in pool.map(get, [url] * 10):
                pids[int(body)] += 1
            sent += 10
    return sent, pids


def calls(db, module, qualname):
    """{(arg types, return type): calls} of one function in the database, ``builtins.`` left out."""
    found = Counter()
    with TraceReader(db) as reader:
        for observation in reader.observations(module):
            if observation.function.qualname == qualname:
                signature = observation.signature
                key = (tuple(short(name) for name in signature.arg_types), short(signature.return_type))
                found[key] += observation.calls
    return found


def writer_pids(db):
    """The processes that wrote to the database (the ``writers`` table: host, pid, integration)."""
    with TraceReader(db) as reader:
        count = reader.stats().writers
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        pids = {pid for (pid,) in connection.execute("SELECT pid FROM writers")}
    finally:
        connection.close()
    assert len(pids) == count
    return pids


def booted_workers(server):
    return {int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", server.output())}


@pytest.mark.parametrize("preload", [False, True], ids=["forked-then-loaded", "preloaded-then-forked"])
def test_gunicorn_two_django_workers_write_every_request_exactly_once_at_graceful_shutdown(
    start_server, tmp_path, preload
):
    pytest.importorskip("gunicorn")
    db = tmp_path / "traces.sqlite3"
    server = start_server(
        gunicorn(
            tmp_path,
            "site_config.wsgi:application",
            "--chdir",
            str(SITE),
            *(["--preload"] if preload else []),
        ),
        cwd=tmp_path,
        env={"TYPEHARVEST_DB": str(db), "PROBE_SAMPLE_RATE": "1.0", "PROBE_FLUSH_INTERVAL": "3600"},
    )
    port = server.wait_for_port(GUNICORN_LISTENING)
    workers = server.wait_for_workers(2)  # both serve: else the first one up takes every request
    sent, pids = hit_every_worker(f"http://127.0.0.1:{port}/pid/", workers=2)
    assert server.stop(signal.SIGTERM) == 0, server.output()

    log = server.output()
    assert set(pids) == workers == booted_workers(server), log
    assert server.pid not in pids
    # Flushed only at exit (the interval is an hour): each worker wrote its own requests, once.
    assert calls(db, "probeapp.services", "add") == {(("int", "int"), "int"): sent}, log
    assert calls(db, "probeapp.views", "pid_view") == {
        (("django.core.handlers.wsgi.WSGIRequest",), "django.http.response.HttpResponse"): sent
    }, log
    # The preloading master started the tracer too, but served nothing: it has nothing to write.
    assert writer_pids(db) == set(pids), log
    print(f"preload={preload}: {sent} requests, answered by {dict(pids)}, master {server.pid}")


def test_gunicorn_preloaded_django_workers_flush_while_running_with_their_own_flusher_threads(
    start_server, tmp_path
):
    pytest.importorskip("gunicorn")
    db = tmp_path / "traces.sqlite3"
    server = start_server(
        gunicorn(tmp_path, "site_config.wsgi:application", "--chdir", str(SITE), "--preload"),
        cwd=tmp_path,
        env={"TYPEHARVEST_DB": str(db), "PROBE_SAMPLE_RATE": "1.0", "PROBE_FLUSH_INTERVAL": "0.2"},
    )
    port = server.wait_for_port(GUNICORN_LISTENING)
    workers = server.wait_for_workers(2)  # both serve: else the first one up takes every request
    sent, pids = hit_every_worker(f"http://127.0.0.1:{port}/pid/", workers=2)

    # The tracer (and its flusher thread) started in the master before the fork; a fork keeps only the
    # forking thread, so these rows can only come from flusher threads each worker started for itself.
    expected = {(("int", "int"), "int"): sent}
    assert wait_for_calls(server, db, "probeapp.services", "add", expected) == expected, server.output()
    assert writer_pids(db) == set(pids) == workers, server.output()

    assert server.stop(signal.SIGTERM) == 0, server.output()
    assert calls(db, "probeapp.services", "add") == {(("int", "int"), "int"): sent}, server.output()
    print(f"{sent} requests, answered by {dict(pids)}, all in the database before the stop")


@pytest.mark.parametrize("preload", [False, True], ids=["forked-then-loaded", "preloaded-then-forked"])
def test_gunicorn_workers_of_a_wrapped_wsgi_app_write_exact_counts_and_never_the_masters_buffer(
    start_server, tmp_path, preload
):
    """served_wsgi serves one request to /warm-up while it is imported: with --preload, in the master.

    The master then holds a traced call in its buffer when it forks: the workers must start empty (else the
    warm-up would be counted three times), and the master writes its own call once, when it exits.
    """
    pytest.importorskip("gunicorn")
    db = tmp_path / "traces.sqlite3"
    server = start_server(
        gunicorn(tmp_path, "served_wsgi:application", *(["--preload"] if preload else [])),
        cwd=SERVED,  # the middleware's default include: the code under the working directory
        env={"TYPEHARVEST_DB": str(db), "SERVED_WARM_UP": "1"},
    )
    port = server.wait_for_port(GUNICORN_LISTENING)
    workers = server.wait_for_workers(2)  # both serve: else the first one up takes every request
    sent, pids = hit_every_worker(f"http://127.0.0.1:{port}/pid", workers=2)
    assert server.stop(signal.SIGTERM) == 0, server.output()

    log = server.output()
    assert set(pids) == workers, log
    warmed_up_in = {int(pid) for pid in re.findall(r"warmed up in (\d+)", log)}
    assert warmed_up_in == ({server.pid} if preload else workers), log
    assert calls(db, "servedapp.services", "add") == {(("int", "int"), "int"): sent}, log
    assert calls(db, "servedapp.services", "warm_up") == {(("str",), "str"): len(warmed_up_in)}, log
    assert writer_pids(db) == set(pids) | warmed_up_in, log
    with TraceReader(db) as reader:
        assert {summary.module for summary in reader.modules()} == {"servedapp.services", "servedapp.wsgi"}
    print(f"preload={preload}: {sent} requests, answered by {dict(pids)}, warmed up in {warmed_up_in}")


def drive_concurrently(urls):
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(get, urls))


def start_uvicorn(start_server, app, cwd, env, *options):
    """uvicorn serving ``app`` on a free port of 127.0.0.1: the server, and its base URL."""
    pytest.importorskip("uvicorn")
    server = start_server(["uvicorn", app, *options, "--host", "127.0.0.1", "--port", "0"], cwd=cwd, env=env)
    return server, f"http://127.0.0.1:{server.wait_for_port(UVICORN_RUNNING)}"


def test_uvicorn_wrapped_asgi_app_writes_exact_counts_at_graceful_shutdown_and_skips_lifespan(
    start_server, tmp_path
):
    db = tmp_path / "traces.sqlite3"
    server, url = start_uvicorn(start_server, "served_asgi:application", SERVED, {"TYPEHARVEST_DB": str(db)})
    answers = drive_concurrently([f"{url}/fetch"] * 30 + [f"{url}/add?a={a}&b=1" for a in range(30)])
    assert answers == ["6"] * 30 + [str(a + 1) for a in range(30)]
    assert server.stop(signal.SIGINT) == 0, server.output()

    log = server.output()
    assert "Application startup complete" in log  # uvicorn ran the app's lifespan: it was not traced
    assert calls(db, "servedapp.services", "fetch_total") == {(("list[int]",), "int"): 30}, log
    assert calls(db, "servedapp.services", "add") == {(("int", "int"), "int"): 30}, log
    assert calls(db, "servedapp.services", "on_startup") == {}, log
    assert writer_pids(db) == {server.pid}, log


def test_uvicorn_django_asgi_site_writes_exact_counts_of_async_and_sync_views_at_graceful_shutdown(
    start_server, tmp_path
):
    db = tmp_path / "traces.sqlite3"
    env = {"TYPEHARVEST_DB": str(db), "PROBE_SAMPLE_RATE": "1.0", "PROBE_FLUSH_INTERVAL": "3600"}
    server, url = start_uvicorn(
        start_server, "site_config.asgi:application", tmp_path, env, "--app-dir", str(SITE)
    )
    answers = drive_concurrently([f"{url}/async-add/"] * 30 + [f"{url}/add/?a={a}&b=1" for a in range(30)])
    assert answers == ['{"sum": 6.5}'] * 30 + [f'{{"sum": {a + 1}}}' for a in range(30)]
    assert server.stop(signal.SIGINT) == 0, server.output()

    log = server.output()
    assert calls(db, "probeapp.services", "fetch_total") == {(("list[int]",), "int"): 30}, log
    expected = {(("int", "float"), "float"): 30}  # the async view, on the event loop
    if sys.version_info >= (3, 12):
        # The sync view runs in a thread of Django's pool. Before 3.12 the tracer's sys.setprofile hook
        # is only in the thread that began the sampled unit, and the README says so.
        expected[(("int", "int"), "int")] = 30
    assert calls(db, "probeapp.services", "add") == expected, log
    assert writer_pids(db) == {server.pid}, log


def wait_for_calls(server, db, module, qualname, expected):
    """Poll the database while the server runs until ``qualname`` shows ``expected``; return what it shows."""
    deadline = time.monotonic() + 10
    written = Counter()
    while time.monotonic() < deadline:
        if db.exists():
            written = calls(db, module, qualname)
            if written == expected:
                break
        time.sleep(0.1)
    assert server.process.poll() is None, server.output()
    return written


def test_uvicorn_flushes_periodically_while_serving_so_a_sigterm_loses_nothing_already_flushed(
    start_server, tmp_path
):
    db = tmp_path / "traces.sqlite3"
    env = {"TYPEHARVEST_DB": str(db), "SERVED_FLUSH_INTERVAL": "0.2"}
    server, url = start_uvicorn(start_server, "served_asgi:application", SERVED, env)
    assert drive_concurrently([f"{url}/add?a={a}&b=1" for a in range(40)]) == [str(a + 1) for a in range(40)]
    expected = {(("int", "int"), "int"): 40}
    assert wait_for_calls(server, db, "servedapp.services", "add", expected) == expected, server.output()
    assert server.stop(signal.SIGTERM) in (0, -signal.SIGTERM), server.output()
    assert calls(db, "servedapp.services", "add") == expected, server.output()  # and not written twice


@pytest.mark.parametrize("site", ["wrapped-asgi-app", "django-asgi"])
def test_uvicorn_stopped_with_sigterm_keeps_every_trace(start_server, tmp_path, site):
    db = tmp_path / "traces.sqlite3"
    if site == "wrapped-asgi-app":
        app, cwd, path, module = "served_asgi:application", SERVED, "/add?a=1&b=2", "servedapp.services"
        answer, signature = "3", (("int", "int"), "int")
    else:  # the async view: on the event loop, traced on every Python version
        app, cwd, path, module = "site_config.asgi:application", SITE, "/async-add/", "probeapp.services"
        answer, signature = '{"sum": 6.5}', (("int", "float"), "float")
    env = {"TYPEHARVEST_DB": str(db), "PROBE_SAMPLE_RATE": "1.0", "PROBE_FLUSH_INTERVAL": "3600"}
    server, url = start_uvicorn(start_server, app, cwd, env)
    assert drive_concurrently([f"{url}{path}"] * 20) == [answer] * 20
    returncode = server.stop(signal.SIGTERM)
    assert "Finished server process" in server.output()  # the shutdown itself was graceful
    assert returncode in (0, -signal.SIGTERM)
    assert db.exists() and calls(db, module, "add") == {signature: 20}, server.output()
