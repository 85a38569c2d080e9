"""The pytest plugin: ``pytest --typeharvest[=DB]`` records the types the project's code sees under test.

pytest loads it in every run where typeharvest is installed (entry point ``pytest11``), so it does nothing
unless ``--typeharvest`` or the ``typeharvest`` ini option asks, and imports nothing itself at load time
beyond the standard library and pytest: what it needs of typeharvest is imported once it is enabled, and
nothing heavy (sqlite-utils, libcst, mypy, click, rich) ever is.

What is traced is the project's code, not the test suite: functions in test files (``python_files``),
in ``conftest.py`` files and under ``testpaths`` are left out unless ``typeharvest_trace_tests`` is set.
With pytest-xdist, the controller runs no test and traces nothing; every worker traces into the same
database, which many processes may write at once.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from typeharvest.tracer import Tracer


@dataclass(frozen=True, slots=True)
class _Settings:
    """What the command line and the ini file asked for, checked before anything starts."""

    db: Path
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    sample_rate: float
    trace_tests: bool


@dataclass(slots=True)
class _Harvest:
    settings: _Settings
    tracer: Tracer | None = None  # stays None in the xdist controller, which runs no test


_HARVEST = pytest.StashKey[_Harvest]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Declare ``--typeharvest[=DB]`` and the ini options, so a CI configuration can enable tracing too."""
    group = parser.getgroup("typeharvest", "typeharvest: record the types the project's code sees")
    group.addoption(
        "--typeharvest",
        nargs="?",
        const="",
        default=None,
        metavar="DB",
        help="trace the project's functions while the tests run, into the SQLite database DB "
        "(default: typeharvest_db, $TYPEHARVEST_DB or ./typeharvest.sqlite3). Write --typeharvest=DB: "
        "a separate word after --typeharvest is taken as DB, not as a test path.",
    )
    parser.addini("typeharvest", "trace even without --typeharvest (true/false)", type="bool", default=False)
    parser.addini("typeharvest_db", "the trace database, relative to the ini file's directory", default="")
    parser.addini(
        "typeharvest_include", "module-name prefixes to trace instead of the code under rootdir", "linelist"
    )
    parser.addini("typeharvest_exclude", "module-name prefixes never traced", "linelist")
    parser.addini(
        "typeharvest_sample_rate", "the share of calls recorded, from 0 to 1", type="float", default=1.0
    )
    parser.addini(
        "typeharvest_trace_tests",
        "record the test suite's own functions too (test files, conftest.py, testpaths)",
        type="bool",
        default=False,
    )


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Check the settings and the database before anything runs, so a mistake is one usage-error line.

    pytest prints a ``UsageError`` raised here as ``ERROR: ...`` and exits with code 4, before any
    plugin is configured or any test collected. The database is created here, once, in the process that
    xdist workers are started from.
    """
    if config.option.help or config.option.version:
        return  # nothing will run: leave the disk alone
    settings = _read_settings(config)
    if settings is None:
        return
    from typeharvest.store import StoreError, ensure_database

    try:
        ensure_database(settings.db)
    except StoreError as exc:
        raise pytest.UsageError(f"typeharvest: {exc}") from None
    config.stash[_HARVEST] = _Harvest(settings)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Start tracing before the other plugins configure, so project code called from then on is recorded.

    That includes what plugins and collection call (test modules' imports, parametrization). Calls made
    while the first ``conftest.py`` files were imported, before this hook, are not traced. The xdist
    controller starts nothing: it runs no test, and whatever it ran would be counted twice, once in it
    and once in every worker that does the same.
    """
    harvest = config.stash.get(_HARVEST, None)
    if harvest is None or _is_xdist_controller(config):
        return
    harvest.tracer = _start_tracer(config, harvest.settings)
    config.add_cleanup(harvest.tracer.stop)  # runs after every plugin's pytest_unconfigure


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Save what the tests recorded now, before the summary is written and before xdist hears we are done.

    The tracer keeps running until ``pytest_unconfigure`` (whatever runs after this is saved when it
    stops); flushing here lets the summary count this run, and gets a worker's traces on disk before
    the controller ends the worker.
    """
    harvest = session.config.stash.get(_HARVEST, None)
    if harvest is not None and harvest.tracer is not None:
        harvest.tracer.flush()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Tell where the traces went: the database is the input of ``typeharvest annotate``."""
    harvest = config.stash.get(_HARVEST, None)
    if harvest is None or hasattr(config, "workerinput"):
        return
    db = harvest.settings.db
    functions = _count_functions(db)
    held = "" if functions is None else f" (it now holds {functions} function{'s' * (functions != 1)})"
    terminalreporter.write_line(f"typeharvest: traces written to {db}{held}")


def _read_settings(config: pytest.Config) -> _Settings | None:
    """The settings when tracing is enabled, else None; the command line wins over the ini file."""
    given: str | None = config.getoption("typeharvest")
    if given is None and not _ini(config, "typeharvest", "true or false"):
        return None
    rate = float(_ini(config, "typeharvest_sample_rate", "a number between 0 and 1"))
    if not 0.0 <= rate <= 1.0:
        raise pytest.UsageError(f"typeharvest_sample_rate must be a number between 0 and 1, not {rate}")
    return _Settings(
        db=_db_path(config, given),
        include=tuple(_ini(config, "typeharvest_include", "module names, one a line")),
        exclude=tuple(_ini(config, "typeharvest_exclude", "module names, one a line")),
        sample_rate=rate,
        trace_tests=bool(_ini(config, "typeharvest_trace_tests", "true or false")),
    )


def _ini(config: pytest.Config, name: str, expected: str) -> Any:
    """An ini value; one that pytest cannot convert is a usage error naming the option, not a traceback."""
    try:
        return config.getini(name)
    except (pytest.UsageError, ValueError, TypeError) as exc:  # pytest < 9 raises the last two
        raise pytest.UsageError(f"{name} must be {expected}: {exc}") from None


def _db_path(config: pytest.Config, given: str | None) -> Path:
    """``--typeharvest=DB`` (from the invocation directory), else ``typeharvest_db`` (from the ini file's
    directory), else ``$TYPEHARVEST_DB`` or the default, as every typeharvest command resolves it."""
    from typeharvest.store import resolve_db_path

    if given:
        if given.endswith(".py") or "::" in given:
            raise pytest.UsageError(
                f"--typeharvest takes a database, not the test path {given!r}: write --typeharvest=DB"
            )
        return resolve_db_path(os.fspath(config.invocation_params.dir / Path(given).expanduser()))
    from_ini = str(_ini(config, "typeharvest_db", "a path"))
    if from_ini:
        base = config.inipath.parent if config.inipath is not None else config.invocation_params.dir
        return resolve_db_path(os.fspath(base / Path(from_ini).expanduser()))
    return resolve_db_path(None)


def _is_xdist_controller(config: pytest.Config) -> bool:
    """Whether this process hands the tests to xdist workers instead of running them.

    The same test as xdist's own (a distribution mode and workers to run, unless only collecting), read
    after xdist turned ``-n`` into them; a worker has ``workerinput``.
    """
    if hasattr(config, "workerinput") or config.getoption("collectonly"):
        return False
    return config.getoption("dist", "no") != "no" and bool(config.getoption("tx", None))


def _start_tracer(config: pytest.Config, settings: _Settings) -> Tracer:
    """A tracer of every thread, writing into the database as source "pytest".

    Budgets are off (``budget=0``) and the overhead governor practically so (``overhead_target=1.0``):
    a test suite is a bounded run, not production traffic, and every call it makes is worth counting;
    throttling would make the counts depend on the machine's speed.
    """
    from typeharvest.store import SQLiteTraceStore
    from typeharvest.tracer import Tracer, TracerAlreadyActive, TracerConfig

    tracer = Tracer(
        SQLiteTraceStore(settings.db).sink("pytest"),
        TracerConfig(
            include=settings.include,
            exclude=settings.exclude,
            exclude_files=() if settings.trace_tests else _test_suite_files(config),
            root=config.rootpath,
            scope="process",
            sample_rate=settings.sample_rate,
            budget=0,
            overhead_target=1.0,
        ),
    )
    try:
        tracer.start()
    except TracerAlreadyActive as exc:
        raise pytest.UsageError(f"typeharvest: {exc}: drop --typeharvest, or trace the other way") from None
    return tracer


def _test_suite_files(config: pytest.Config) -> list[str]:
    """``exclude_files`` patterns for the test suite's own code: test files, ``conftest.py``, ``testpaths``.

    The tracer, like pytest, matches a pattern without a separator against the file's name (so
    ``test_*.py`` never excludes a whole directory named ``test_something``) and any other against the
    file's real path; pytest matches a relative ``python_files`` pattern with a separator against the end
    of the path, hence the leading ``*``.
    """
    patterns = ["conftest.py"]
    for pattern in config.getini("python_files"):
        relative = os.sep in pattern and not os.path.isabs(pattern)
        patterns.append(f"*{os.sep}{pattern}" if relative else pattern)
    for entry in config.getini("testpaths"):
        for found in sorted(glob.glob(os.fspath(config.rootpath / entry), recursive=True)):
            real = os.path.realpath(found)
            patterns.append(glob.escape(real) + (f"{os.sep}*" if os.path.isdir(real) else ""))
    return patterns


def _count_functions(db: Path) -> int | None:
    """How many functions the database holds, read with the standard library (None if it cannot tell)."""
    import sqlite3

    from typeharvest.store import StoreError
    from typeharvest.store.schema import connect

    try:
        connection = connect(db, create=False)
    except StoreError:
        return None
    try:
        (count,) = connection.execute("SELECT count(*) FROM functions").fetchone()
        return int(count)
    except sqlite3.Error:
        return None
    finally:
        connection.close()
