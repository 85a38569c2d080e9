"""The pytest plugin, for real: a small project's suite run by pytest in a subprocess (with and without
pytest-xdist), the plugin loaded from its entry point, the traces read back from the database."""

import textwrap

import pytest

from typeharvest.store import TraceReader
from typeharvest.store.schema import connect

pytest_plugins = ["pytester"]

INT, STR, FLOAT, NONE = "builtins.int", "builtins.str", "builtins.float", "builtins.NoneType"
CART = "shop.pricing.Cart"

#: The project under test, its tests and a conftest: 70 tests, both in test files and in a fixture.
SHOP = {
    "shop/__init__.py": "",
    "shop/audit.py": """
        def record(event):
            return len(event)
    """,
    "shop/pricing.py": """
        from shop.audit import record

        def add_tax(cents, rate):
            return cents + cents * rate // 100

        def parse_amount(value):
            return float(value)

        def prices(amounts):
            for cents in amounts:
                yield add_tax(cents, 20)

        class Cart:
            def __init__(self):
                self.lines = []

            def add(self, name, cents):
                self.lines.append((name, cents))
                record(name)
                return self

            def total(self):
                return sum(cents for _, cents in self.lines)
    """,
    "labels.py": """
        def label(cents):
            return f"{cents} c"
    """,
    "conftest.py": """
        import os
        import sys

        import pytest

        from shop.pricing import Cart

        @pytest.fixture
        def cart():
            return Cart().add("apple", 100)

        @pytest.fixture(autouse=True)
        def note_the_process():
            with open(os.path.join(os.path.dirname(__file__), "pids.txt"), "a") as file:
                file.write(f"{os.getpid()}\\n")

        def pytest_unconfigure(config):
            heavy = {"sqlite_utils", "libcst", "mypy", "click", "rich"}
            loaded = sorted(name for name in sys.modules if name.partition(".")[0] in heavy)
            with open(os.path.join(os.path.dirname(__file__), "heavy.txt"), "a") as file:
                file.write(" ".join(loaded) + "\\n")
    """,
    "tests/test_tax.py": """
        import pytest

        from labels import label
        from shop.pricing import add_tax

        def doubled(cents):
            return cents * 2

        @pytest.mark.parametrize("cents", range(40))
        def test_add_tax(cents):
            assert add_tax(doubled(cents), 20) >= doubled(cents)
            assert label(cents)
    """,
    "tests/test_parse.py": """
        import pytest

        from shop.pricing import parse_amount

        @pytest.mark.parametrize("value", [str(i) for i in range(6)] + [i + 0.5 for i in range(6)])
        def test_parse_amount(value):
            assert isinstance(parse_amount(value), float)
    """,
    "tests/test_cart.py": """
        import pytest

        @pytest.mark.parametrize("cents", range(10))
        def test_cart_total(cart, cents):
            assert cart.add("pear", cents).total() == 100 + cents
    """,
    "tests/test_gen.py": """
        import pytest

        from shop.pricing import prices

        @pytest.mark.parametrize("n", range(8))
        def test_prices(n):
            assert list(prices([100, 200])) == [120, 240]
    """,
}
TESTS = 70

#: What the shop's suite records: each function's calls per (argument types, return type, yield type).
EXPECTED = {
    "shop.pricing.add_tax": {((INT, INT), INT, ""): 40 + 8 * 2},
    "shop.pricing.parse_amount": {((STR,), FLOAT, ""): 6, ((FLOAT,), FLOAT, ""): 6},
    "shop.pricing.prices": {(("builtins.list[builtins.int]",), NONE, INT): 8},
    "shop.pricing.Cart.__init__": {((CART,), NONE, ""): 10},
    "shop.pricing.Cart.add": {((CART, STR, INT), f"typeharvest.Self[{CART}]", ""): 10 + 10},
    "shop.pricing.Cart.total": {((CART,), INT, ""): 10},
    "shop.audit.record": {((STR,), INT, ""): 20},
    "labels.label": {((INT,), STR, ""): 40},
}


@pytest.fixture
def shop(pytester, monkeypatch):
    """The shop project in pytester's directory, with no ``TYPEHARVEST_DB`` leaking in from outside."""
    monkeypatch.delenv("TYPEHARVEST_DB", raising=False)
    write(pytester, SHOP)
    pytester.makeini("[pytest]\npythonpath = .\n")
    return pytester


def write(pytester, files):
    for name, text in files.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def run(pytester, *args):
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=60)


def harvest(db):
    """Every recorded function, ``module.qualname``, with its calls per signature."""
    result = {}
    with TraceReader(db) as reader:
        for module in reader.modules():
            for observation in reader.observations(module.module):
                function, signature = observation.function, observation.signature
                calls = result.setdefault(f"{function.module}.{function.qualname}", {})
                key = (signature.arg_types, signature.return_type, signature.yield_type)
                calls[key] = calls.get(key, 0) + observation.calls
    return result


def writer_pids(db):
    """The processes that wrote into the database, and the integration they said they were."""
    connection = connect(db, create=False)
    try:
        return {tuple(row) for row in connection.execute("SELECT pid, source FROM writers")}
    finally:
        connection.close()


def test_records_the_project_functions_with_exact_counts_and_types_and_nothing_of_the_tests(shop):
    result = run(shop, "--typeharvest=traces.sqlite3")

    result.assert_outcomes(passed=TESTS)
    db = shop.path / "traces.sqlite3"
    # Not a test function, not the conftest fixtures, not `doubled` (a helper in a test file).
    assert harvest(db) == EXPECTED
    (pid,) = set((shop.path / "pids.txt").read_text().split())
    assert writer_pids(db) == {(int(pid), "pytest")}
    result.stdout.fnmatch_lines([f"typeharvest: traces written to {db} (it now holds 8 functions)"])


def test_with_xdist_two_workers_write_into_one_database_and_lose_no_call(shop):
    result = run(shop, "--typeharvest=traces.sqlite3", "-n", "2")

    result.assert_outcomes(passed=TESTS)
    workers = {int(pid) for pid in (shop.path / "pids.txt").read_text().split()}
    assert len(workers) == 2
    db = shop.path / "traces.sqlite3"
    assert harvest(db) == EXPECTED
    # Both workers wrote; the controller, which ran no test, traced nothing.
    assert writer_pids(db) == {(pid, "pytest") for pid in workers}
    result.stdout.fnmatch_lines([f"typeharvest: traces written to {db} (it now holds 8 functions)"])


def test_without_a_value_traces_go_to_the_default_database_in_the_working_directory(shop):
    result = run(shop, "--typeharvest")

    result.assert_outcomes(passed=TESTS)
    assert harvest(shop.path / "typeharvest.sqlite3") == EXPECTED
    result.stdout.fnmatch_lines([f"typeharvest: traces written to {shop.path / 'typeharvest.sqlite3'} *"])


def test_without_a_value_the_typeharvest_db_environment_variable_is_respected(shop, monkeypatch, tmp_path):
    db = tmp_path / "from-env.sqlite3"
    monkeypatch.setenv("TYPEHARVEST_DB", str(db))

    run(shop, "--typeharvest").assert_outcomes(passed=TESTS)

    assert harvest(db) == EXPECTED
    assert not (shop.path / "typeharvest.sqlite3").exists()


def test_the_ini_file_can_enable_tracing_and_choose_the_database_relative_to_itself(shop, monkeypatch):
    shop.makeini("[pytest]\npythonpath = .\ntypeharvest = true\ntypeharvest_db = traces/ci.sqlite3\n")
    (shop.path / "traces").mkdir()
    monkeypatch.chdir(shop.path / "tests")  # pytest is started from below the ini file

    result = run(shop)

    result.assert_outcomes(passed=TESTS)
    assert harvest(shop.path / "traces" / "ci.sqlite3") == EXPECTED


def test_the_command_line_database_wins_over_the_ini_one(shop):
    shop.makeini("[pytest]\npythonpath = .\ntypeharvest_db = ini.sqlite3\n")

    run(shop, "--typeharvest=cli.sqlite3").assert_outcomes(passed=TESTS)

    assert harvest(shop.path / "cli.sqlite3") == EXPECTED
    assert not (shop.path / "ini.sqlite3").exists()


def test_ini_include_and_exclude_choose_modules_by_name(shop):
    shop.makeini(
        "[pytest]\npythonpath = .\ntypeharvest_include = shop\ntypeharvest_exclude =\n    shop.audit\n"
    )

    run(shop, "--typeharvest=traces.sqlite3").assert_outcomes(passed=TESTS)

    only_pricing = {name: calls for name, calls in EXPECTED.items() if name.startswith("shop.pricing.")}
    assert harvest(shop.path / "traces.sqlite3") == only_pricing


def test_ini_sample_rate_is_the_share_of_calls_recorded(shop):
    shop.makeini("[pytest]\npythonpath = .\ntypeharvest_sample_rate = 0\n")

    run(shop, "--typeharvest=traces.sqlite3").assert_outcomes(passed=TESTS)

    assert harvest(shop.path / "traces.sqlite3") == {}


def test_ini_trace_tests_records_the_test_functions_fixtures_and_helpers_too(shop):
    shop.makeini("[pytest]\npythonpath = .\ntypeharvest_trace_tests = true\n")

    run(shop, "--typeharvest=traces.sqlite3").assert_outcomes(passed=TESTS)

    recorded = harvest(shop.path / "traces.sqlite3")
    assert {name: recorded[name] for name in EXPECTED} == EXPECTED
    assert recorded["test_tax.test_add_tax"] == {((INT,), NONE, ""): 40}
    assert recorded["test_tax.doubled"] == {((INT,), INT, ""): 80}
    assert recorded["conftest.cart"] == {((), CART, ""): 10}
    assert {name.partition(".")[0] for name in recorded} == {
        "shop",
        "labels",
        "conftest",
        "test_tax",
        "test_parse",
        "test_cart",
        "test_gen",
    }


def test_everything_under_testpaths_counts_as_test_code_even_helper_modules(shop):
    write(shop, {"tests/factories.py": "def amounts():\n    return [100, 200]\n"})
    write(
        shop, {"tests/test_factories.py": "from factories import amounts\n\ndef test_it():\n    amounts()\n"}
    )

    run(shop, "--typeharvest=plain.sqlite3").assert_outcomes(passed=TESTS + 1)
    shop.makeini("[pytest]\npythonpath = .\ntestpaths = tests\n")
    run(shop, "--typeharvest=testpaths.sqlite3").assert_outcomes(passed=TESTS + 1)

    # factories.py is not named like a test file: project code, unless it lies under testpaths.
    assert harvest(shop.path / "plain.sqlite3") == {
        **EXPECTED,
        "factories.amounts": {((), "builtins.list[builtins.int]", ""): 1},
    }
    assert harvest(shop.path / "testpaths.sqlite3") == EXPECTED


def test_without_the_flag_the_plugin_does_nothing_and_imports_nothing_heavy(shop):
    result = run(shop)

    result.assert_outcomes(passed=TESTS)
    assert list(shop.path.rglob("*.sqlite3*")) == []
    assert [line for line in result.outlines if line.startswith("typeharvest")] == []
    assert (shop.path / "heavy.txt").read_text() == "\n"


def test_tracing_imports_nothing_heavy_into_the_test_process_either(shop):
    run(shop, "--typeharvest=traces.sqlite3").assert_outcomes(passed=TESTS)

    assert (shop.path / "heavy.txt").read_text() == "\n"


def test_project_code_called_while_collecting_is_recorded(shop):
    write(
        shop,
        {
            "tests/test_collected.py": """
                import pytest

                from shop.pricing import parse_amount

                @pytest.mark.parametrize("amount", [parse_amount("1.25"), parse_amount("2")])
                def test_amount(amount):
                    assert amount > 1
            """
        },
    )

    run(shop, "--typeharvest=traces.sqlite3", "tests/test_collected.py").assert_outcomes(passed=2)

    assert harvest(shop.path / "traces.sqlite3") == {"shop.pricing.parse_amount": {((STR,), FLOAT, ""): 2}}


def test_a_failing_test_still_leaves_the_traces_of_the_project_code_it_called(shop):
    write(
        shop,
        {
            "tests/test_failing.py": """
                from shop.pricing import add_tax

                def test_fails():
                    assert add_tax(100, 20) == 0
            """
        },
    )

    result = run(shop, "--typeharvest=traces.sqlite3", "tests/test_failing.py", "tests/test_gen.py")

    result.assert_outcomes(passed=8, failed=1)
    assert harvest(shop.path / "traces.sqlite3") == {
        "shop.pricing.add_tax": {((INT, INT), INT, ""): 1 + 8 * 2},
        "shop.pricing.prices": EXPECTED["shop.pricing.prices"],
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--typeharvest=missing/traces.sqlite3"],
            "ERROR: typeharvest: cannot create database {path}/missing/traces.sqlite3: "
            "directory {path}/missing does not exist",
        ),
        (
            ["--typeharvest", "-o", "typeharvest_sample_rate=2"],
            "ERROR: typeharvest_sample_rate must be a number between 0 and 1, not 2.0",
        ),
        (
            ["--typeharvest", "-o", "typeharvest_sample_rate=often"],
            "ERROR: typeharvest_sample_rate must be a number between 0 and 1: "
            "could not convert string to float: 'often'",
        ),
        (
            ["-o", "typeharvest=maybe"],
            "ERROR: typeharvest must be true or false: invalid truth value 'maybe'",
        ),
        (
            ["--typeharvest=tests"],
            "ERROR: typeharvest: not a database file but a directory: {path}/tests",
        ),
        (
            ["--typeharvest", "tests/test_tax.py::test_add_tax"],
            "ERROR: --typeharvest takes a database, not the test path 'tests/test_tax.py::test_add_tax': "
            "write --typeharvest=DB",
        ),
    ],
)
def test_a_bad_setting_is_a_one_line_usage_error(shop, args, message):
    result = run(shop, *args)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.stderr.lines if line.strip()] == [message.format(path=shop.path)]
    assert "Traceback" not in result.stdout.str()
    assert not (shop.path / "pids.txt").exists()
