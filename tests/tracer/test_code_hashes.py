"""Each traced function is written with a digest of its source lines: what tells a deploy's new code from
the old. The tracer reads the files for it at flush time and keeps none of them in memory."""

import importlib
import linecache
import sys

import pytest

from typeharvest.tracer import Tracer

SOURCES = {
    "hash_twin_a": "import os\n\n\ndef f(x):\n    return x\n",
    "hash_twin_b": "def f(x):\n    return x\n",  # the same function, at another line of another file
    "hash_changed": "def f(x):\n    return x + 0\n",
}


@pytest.fixture
def modules(tmp_path, monkeypatch):
    for name, source in SOURCES.items():
        (tmp_path / f"{name}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    loaded = {name: importlib.import_module(name) for name in SOURCES}
    yield loaded
    for name, module in loaded.items():
        sys.modules.pop(name, None)
        linecache.cache.pop(module.__file__, None)


def hashes_of(sink):
    return {o.function.module: o.function.code_hash for o in sink.observations}


def test_the_same_source_gets_the_same_hash_and_changed_source_another(sink, modules):
    tracer = Tracer(sink, include=list(SOURCES))
    tracer.start()
    for module in modules.values():
        module.f(1)
    tracer.stop()
    hashes = hashes_of(sink)
    assert set(hashes) == set(SOURCES)
    assert hashes["hash_twin_a"] == hashes["hash_twin_b"]
    assert hashes["hash_changed"] != hashes["hash_twin_a"]
    assert all(len(digest) == 16 for digest in hashes.values())


def test_tracing_leaves_no_source_in_linecache_but_what_the_program_put_there(sink, modules):
    kept = modules["hash_twin_b"].__file__
    linecache.getlines(kept)  # the program's own (a traceback it formatted, say)
    tracer = Tracer(sink, include=list(SOURCES))
    tracer.start()
    for module in modules.values():
        module.f(1)
    tracer.flush()
    tracer.stop()
    assert len(sink.observations) == 3
    assert modules["hash_twin_a"].__file__ not in linecache.cache
    assert modules["hash_changed"].__file__ not in linecache.cache
    assert kept in linecache.cache


def test_a_function_met_after_a_flush_is_written_with_its_hash_at_the_next(sink, modules):
    tracer = Tracer(sink, include=list(SOURCES))
    tracer.start()
    modules["hash_twin_a"].f(1)
    tracer.flush()
    modules["hash_changed"].f(1)
    tracer.stop()
    assert sink.flushes >= 2
    hashes = hashes_of(sink)
    assert hashes["hash_twin_a"] and hashes["hash_changed"]
    assert hashes["hash_twin_a"] != hashes["hash_changed"]
