"""The typed-function coverage definition, applied exactly to a tree that exercises every rule."""

from pathlib import Path

import pytest

from typeharvest.coverage.report import measure
from typeharvest.coverage.scan import Status, scan_source

TREE = Path(__file__).parent.parent / "fixtures" / "coverage_tree"


@pytest.fixture(scope="module")
def report():
    return measure([TREE])


def test_every_rule_gives_the_exact_counts(report):
    assert report.as_json()["totals"] == {
        "functions": 14,
        "full": 7,
        "partial": 4,
        "untyped": 3,
        "percent": 50.0,
    }
    rows = {
        m["module"]: (m["functions"], m["full"], m["partial"], m["untyped"])
        for m in report.as_json()["modules"]
    }
    assert rows == {"shop": (0, 0, 0, 0), "shop.models": (12, 6, 3, 3), "shop.services": (2, 1, 1, 0)}


def test_each_function_is_judged_by_the_published_definition(report):
    (models,) = [m for m in report.modules if m.module == "shop.models"]
    statuses = {f.qualname: f.status for f in models.functions}
    assert statuses == {
        "Order.__init__": Status.FULL,  # __init__: an annotated parameter makes the return optional
        "Order.total": Status.FULL,
        "Order.add": Status.PARTIAL,
        "Order.parse": Status.UNTYPED,  # a staticmethod's first parameter is not a receiver
        "Order.empty": Status.FULL,  # cls needs no annotation
        "Empty.__init__": Status.UNTYPED,  # no annotated parameter: the return is required
        "plain": Status.UNTYPED,
        "plain.<locals>.inner": Status.FULL,  # nested functions count, named as at run time
        "fetch": Status.FULL,
        "star": Status.PARTIAL,  # **kwargs is a slot too
        "convert": Status.FULL,  # @overload variants and implementation: one function
        "half": Status.PARTIAL,
    }


def test_a_stub_beside_a_module_counts_instead_of_the_module(report):
    (services,) = [m for m in report.modules if m.module == "shop.services"]
    assert services.path.endswith("services.pyi")


def test_tests_migrations_virtualenvs_and_hidden_folders_are_excluded(report):
    paths = {Path(m.path).relative_to(TREE).as_posix() for m in report.modules}
    assert paths == {"shop/__init__.py", "shop/models.py", "shop/services.pyi"}


def test_a_file_with_a_syntax_error_is_reported_by_name_and_skipped(report):
    assert [(Path(path).name, message) for path, message in report.errors] == [
        ("broken.py", "syntax error at line 1: invalid syntax")
    ]


def test_excludes_can_be_added(tmp_path):
    assert {m.module for m in measure([TREE], exclude=["shop/services*"]).modules} == {"shop", "shop.models"}


def test_lambdas_are_not_functions_and_defs_in_blocks_are():
    source = (
        "f = lambda x: x\n"
        "if True:\n    def g(x: int) -> int: ...\n"
        "try:\n    def h(): ...\nexcept ImportError:\n    pass\n"
    )
    assert [(f.qualname, f.status) for f in scan_source(source)] == [
        ("g", Status.FULL),
        ("h", Status.UNTYPED),
    ]


def test_the_parallel_scan_finds_what_the_serial_scan_finds(tmp_path):
    for i in range(40):
        (tmp_path / f"mod{i}.py").write_text(
            f"def f{i}(x: int) -> int:\n    return x\n\ndef g{i}(y):\n    return y\n"
        )
    serial = measure([tmp_path], workers=1)
    from typeharvest.coverage import report as report_module

    threshold = report_module.PARALLEL_THRESHOLD_BYTES
    report_module.PARALLEL_THRESHOLD_BYTES = 0
    try:
        parallel = measure([tmp_path], workers=2)
    finally:
        report_module.PARALLEL_THRESHOLD_BYTES = threshold
    assert parallel.as_json() == serial.as_json()
    assert serial.totals.functions == 80 and serial.totals.full == 40
