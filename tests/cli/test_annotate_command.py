"""`typeharvest annotate` end to end: a traced app, the real command, real files, real mypy."""

import re
import shutil
import subprocess
import sys

FORMATTING_AFTER = '''\
from __future__ import annotations

# A file written by someone with habits: comments, decorators, odd spacing.
import functools
from typing import TypeVar

_T = TypeVar("_T")


def  spaced( a: int ,b: int = 2 ) -> int:   # two spaces after def, odd commas
    return a+b  # keep this comment


@functools.lru_cache(maxsize = None)
def cached(key: str) -> int:
    """Docstring stays."""
    return len(key)


def multi_line(
    first: int,  # the first
    second: str,
    *rest: float,
    **options: bool,
) -> list[float | str]:
    # body comment
    return [first, second, *rest]


class Shelf:

    # a comment before a method
    @property
    def size(self) -> int:
        return 3

    def put(self, item: _T, *, where: str = "top") -> _T:
        return item



def already(x: "float", y: str):
    return x
'''


def mypy_output(root, *targets):
    """mypy's report as a user gets it running mypy in ``root`` (with no configuration file there)."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--no-error-summary", *map(str, targets)],
        cwd=root,
        capture_output=True,
        text=True,
    )
    return result.stdout


def mypy_errors(root, *targets):
    """mypy's errors as (file, message): added imports move lines, so lines are left out."""
    lines = mypy_output(root, *targets).splitlines()
    return sorted(
        (line.partition(":")[0], line.partition(": error:")[2]) for line in lines if ": error:" in line
    )


def test_inline_annotations_touch_nothing_but_signatures_and_the_imports_they_need(shop, annotate_shop):
    result = annotate_shop("shopapp.formatting")
    assert result.returncode == 0, result.stderr
    # Comments, decorators, odd spacing and blank lines are byte-identical; `from __future__ import
    # annotations` means nothing needs quoting; the existing `x: "float"` is kept; the return of
    # `already` is withdrawn because mypy rejects `-> int` for a function that returns that `x`.
    assert (shop / "shopapp" / "formatting.py").read_text() == FORMATTING_AFTER
    assert "withdrew shopapp.formatting:already return: int" in result.stdout
    assert "Incompatible return value type" in result.stdout


def test_a_second_run_changes_nothing(shop, annotate_shop):
    assert annotate_shop("shopapp").returncode == 0
    before = {path: path.read_bytes() for path in (shop / "shopapp").glob("*.py")}
    again = annotate_shop("shopapp")
    assert again.returncode == 0, again.stderr
    assert {path: path.read_bytes() for path in (shop / "shopapp").glob("*.py")} == before
    assert "annotated 0 functions (0 annotations) in 0 files" in again.stdout


def test_names_needed_only_for_annotations_come_under_type_checking_and_create_no_import_cycle(
    shop, annotate_shop
):
    services = shop / "shopapp" / "services.py"
    original = services.read_text()
    # The cycle is real: models imports services at run time, so services importing models back fails.
    services.write_text("from shopapp.models import Order\n" + original)
    broken = subprocess.run(
        [sys.executable, "-c", "import shopapp.models"], cwd=shop, capture_output=True, text=True
    )
    assert "ImportError" in broken.stderr and "circular import" in broken.stderr
    services.write_text(original)

    assert annotate_shop("shopapp").returncode == 0
    text = services.read_text()
    assert "if TYPE_CHECKING:\n    from shopapp.models import Customer, Order\n" in text
    assert 'def owner(order: "Order") -> "Customer":' in text
    assert 'def discount(order: "Order", rate: float | None = None) -> float:' in text
    for module in ("shopapp.models", "shopapp.services"):
        imported = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=shop, capture_output=True)
        assert imported.returncode == 0, imported.stderr
    models = (shop / "shopapp" / "models.py").read_text()
    assert "from typing import Self\n\nfrom shopapp import services\n" in models
    assert "    def with_line(self, price: int) -> Self:" in models
    assert "    def __init__(self, customer: Customer, lines: list[int]) -> None:" in models


def test_mypy_withdraws_an_annotation_that_a_caller_contradicts_and_adds_no_error(shop, annotate_shop):
    before = mypy_errors(shop, shop / "shopapp")
    result = annotate_shop("shopapp")
    assert result.returncode == 0, result.stderr
    # scale() was only ever traced with ints, but checkout.py (never run) passes a str.
    pricing = (shop / "shopapp" / "pricing.py").read_text()
    assert "def scale(amount, factor: int = 2) -> int:" in pricing
    assert "def cheapest(prices: list[int]) -> int:" in pricing
    # First widened to what the caller passes; that breaks `-> int` in scale's body, so it is taken back.
    assert (
        'widened shopapp.pricing:scale amount: int + str — checkout.py:7: Argument 1 to "scale" has'
        ' incompatible type "str"; expected "int"  [arg-type]'
    ) not in result.stdout  # reported as withdrawn in the end, not as widened
    assert (
        "withdrew shopapp.pricing:scale amount: int | str — widened, it made mypy report pricing.py:2:"
        ' Incompatible return value type (got "int | str", expected "int")  [return-value]'
    ) in result.stdout
    assert mypy_errors(shop, shop / "shopapp") == before


def test_without_the_check_the_contradicted_annotation_stays(shop, annotate_shop):
    result = annotate_shop("shopapp.pricing", "--no-check")
    assert result.returncode == 0
    assert "def scale(amount: int, factor: int = 2) -> int:" in (shop / "shopapp" / "pricing.py").read_text()
    assert "mypy: not run (--no-check)" in result.stdout


def test_diff_prints_a_unified_diff_and_writes_nothing(shop, annotate_shop):
    before = (shop / "shopapp" / "pricing.py").read_text()
    result = annotate_shop("shopapp.pricing", "--diff")
    assert result.returncode == 0
    assert result.stdout.startswith("--- a/shopapp/pricing.py\n+++ b/shopapp/pricing.py\n")
    assert "+def cheapest(prices: list[int]) -> int:\n" in result.stdout
    assert "would annotate 3 functions" in result.stderr
    assert (shop / "shopapp" / "pricing.py").read_text() == before


def test_a_stub_beside_the_module_describes_it_whole_and_serves_a_second_module(shop, annotate_shop):
    result = annotate_shop("shopapp.pricing", "shopapp.services", "--stub")
    assert result.returncode == 0, result.stderr
    stub = (shop / "shopapp" / "pricing.pyi").read_text()
    assert "def cheapest(prices: list[int]) -> int: ..." in stub
    assert "def scale(amount, factor: int = 2) -> int: ..." in stub  # withdrawn: checkout.py passes a str
    services = (shop / "shopapp" / "services.pyi").read_text()
    assert "from shopapp.models import Customer, Order" in services
    assert "def owner(order: Order) -> Customer: ..." in services
    (shop / "use.py").write_text(
        "from shopapp.pricing import cheapest\nfrom shopapp.services import owner\n"
        "reveal_type(cheapest([1]))\nreveal_type(owner)\n"
    )
    out = mypy_output(shop, "use.py")
    assert 'Revealed type is "int"' in out or 'Revealed type is "builtins.int"' in out
    assert 'def (order: shopapp.models.Order) -> shopapp.models.Customer"' in out
    assert ": error:" not in out, out


def test_stubs_under_out_mirror_the_package_path_and_out_dash_prints_them(shop, annotate_shop):
    assert annotate_shop("shopapp", "--stub", "--out", shop / "stubs").returncode == 0
    assert sorted(p.relative_to(shop / "stubs").as_posix() for p in (shop / "stubs").rglob("*.pyi")) == [
        "shopapp/formatting.pyi",
        "shopapp/models.pyi",
        "shopapp/pricing.pyi",
        "shopapp/services.pyi",
    ]
    assert not list((shop / "shopapp").glob("*.pyi"))
    printed = annotate_shop("shopapp.pricing", "--stub", "--out", "-")
    assert "def cheapest(prices: list[int]) -> int: ..." in printed.stdout.splitlines()
    assert not list((shop / "shopapp").glob("*.pyi"))


def test_an_existing_stub_is_merged_into_not_clobbered(shop, annotate_shop):
    stub = shop / "shopapp" / "pricing.pyi"
    stub.write_text(
        "# Hand-written; keep me.\nfrom collections.abc import Sequence\n\n"
        "def scale(amount, factor=...): ...\ndef cheapest(prices: Sequence[int]) -> int: ...\n"
        "EXTRA: int\n"
    )
    result = annotate_shop("shopapp.pricing", "--stub")
    assert result.returncode == 0, result.stderr
    text = stub.read_text()
    assert text.startswith("# Hand-written; keep me.\n")
    assert "def cheapest(prices: Sequence[int]) -> int: ..." in text
    assert "EXTRA: int" in text
    assert "def scale(amount, factor: int = ...) -> int: ..." in text


def test_existing_annotations_are_kept_unless_asked_to_overwrite(shop, annotate_shop):
    formatting = shop / "shopapp" / "formatting.py"
    annotate_shop("shopapp.formatting")
    assert 'def already(x: "float", y: str):' in formatting.read_text()
    formatting.write_text(formatting.read_text().replace('x: "float", y: str', 'x: "float", y'))
    result = annotate_shop("shopapp.formatting", "--overwrite-existing", "--include-stale")
    assert result.returncode == 0, result.stderr
    assert "def already(x: int, y: str) -> int:" in formatting.read_text()


def test_a_file_that_does_not_parse_is_reported_and_skipped(shop, annotate_shop):
    services = shop / "shopapp" / "services.py"
    broken = services.read_text() + "\ndef (:\n"
    services.write_text(broken)
    result = annotate_shop("shopapp", "--no-check")
    assert result.returncode == 0
    assert result.stderr.startswith("warning: skipped shopapp.services: cannot parse ")
    assert services.read_text() == broken
    assert "def cheapest(prices: list[int]) -> int:" in (shop / "shopapp" / "pricing.py").read_text()
    alone = annotate_shop("shopapp.services")
    assert alone.returncode == 1
    assert alone.stderr.startswith("error: skipped shopapp.services: cannot parse ")
    assert len(alone.stderr.splitlines()) == 1


def test_python_version_39_spells_optional(shop, annotate_shop):
    result = annotate_shop("shopapp.services", "--python-version", "3.9", "--no-check")
    assert result.returncode == 0
    text = (shop / "shopapp" / "services.py").read_text()
    assert 'def discount(order: "Order", rate: Optional[float] = None) -> float:' in text
    assert "from typing import TYPE_CHECKING, Optional\n" in text


def test_min_calls_skips_functions_seen_too_rarely(shop, annotate_shop):
    assert annotate_shop("shopapp.formatting", "--min-calls", "2", "--no-check").returncode == 0
    text = (shop / "shopapp" / "formatting.py").read_text()
    assert "def cached(key):" in text  # called once
    assert "def  spaced( a: int ,b: int = 2 ) -> int:" in text  # called twice


def test_explain_shows_each_observed_type_with_counts_and_the_rule_behind_the_annotation(shop, cli):
    result = cli(
        "explain", "shopapp.services:discount", "--db", shop / "typeharvest.sqlite3", "--src", shop, cwd=shop
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("shopapp.services:discount  (2 calls")
    text = "\n".join(lines)
    assert re.search(
        r"  rate\n    builtins.NoneType +1 call  first \d{4}-\d\d-\d\d [\d:]+  last \d{4}-", text
    )
    assert re.search(r"\n    builtins.float +1 call  first ", text)
    assert "    rule: 2 observed types merged into one union\n    → float | None\n  return" in text
    assert "    rule: numeric tower: int is accepted as float\n    → float" in text


def test_bad_arguments_are_one_line_errors(shop, annotate_shop, cli):
    for args, message in [
        (("shopapp", "--out", "x"), "error: --out is for stubs: add --stub\n"),
        (("shopapp", "--python-version", "three"), "error: --python-version wants 3.X, not 'three'\n"),
        (("nosuch",), f"error: no traces for module 'nosuch' in {shop / 'typeharvest.sqlite3'}\n"),
    ]:
        result = annotate_shop(*args)
        assert (result.returncode, result.stderr) == (1, message)
    explain = cli("explain", "shopapp.services", "--db", shop / "typeharvest.sqlite3", cwd=shop)
    assert explain.returncode == 1
    assert explain.stderr.startswith("error: give MODULE:QUALNAME")


def test_mypy_runs_with_the_projects_own_configuration(shop, cli):
    # mypy does not check inside unannotated functions by default, so an untyped caller contradicting
    # an annotation goes unnoticed -- unless the project's configuration says check_untyped_defs.
    (shop / "shopapp" / "report.py").write_text(
        'from shopapp.pricing import cheapest\n\n\ndef untyped_caller():\n    return cheapest(["a"])\n'
    )
    strict = shop.parent / "strict"
    shutil.copytree(shop, strict)
    (strict / "mypy.ini").write_text("[mypy]\ncheck_untyped_defs = True\n")
    for root in (shop, strict):
        result = cli(
            "annotate", "shopapp.pricing", "--db", root / "typeharvest.sqlite3", "--src", root, cwd=root
        )
        assert result.returncode == 0, result.stderr
    assert "def cheapest(prices: list[int]) -> int:" in (shop / "shopapp" / "pricing.py").read_text()
    assert "def cheapest(prices) -> int:" in (strict / "shopapp" / "pricing.py").read_text()
    assert (
        "withdrew shopapp.pricing:cheapest prices: list[int] — report.py:5: List item 0 has" in result.stdout
    )
    assert "(found by elimination)" in result.stdout


def test_generalize_args_widens_a_list_the_function_only_iterates(shop, annotate_shop):
    assert annotate_shop("shopapp.pricing", "--generalize-args").returncode == 0
    text = (shop / "shopapp" / "pricing.py").read_text()
    assert "from collections.abc import Iterable\n" in text
    assert "def cheapest(prices: Iterable[int]) -> int:" in text


def test_a_none_that_mypy_finds_but_the_traces_never_saw_widens_the_annotation(shop, annotate_shop):
    result = annotate_shop("shopapp.services")
    assert result.returncode == 0, result.stderr
    text = (shop / "shopapp" / "services.py").read_text()
    assert 'def customer_named(order: "Order", name: str) -> "Customer | None":' in text
    assert (
        'widened shopapp.services:customer_named return: "Customer" + None — services.py:'
    ) in result.stdout
    assert 'Incompatible return value type (got "None", expected "Customer")  [return-value]' in result.stdout


def test_before_python_311_self_comes_from_typing_extensions_for_the_type_checker_only(shop, annotate_shop):
    assert annotate_shop("shopapp.models", "--python-version", "3.10").returncode == 0
    text = (shop / "shopapp" / "models.py").read_text()
    assert "if TYPE_CHECKING:\n    from typing_extensions import Self\n" in text
    assert '    def with_line(self, price: int) -> "Self":' in text
    imported = subprocess.run([sys.executable, "-c", "import shopapp.models"], cwd=shop, capture_output=True)
    assert imported.returncode == 0, imported.stderr


def test_a_typevar_that_mypy_rejects_gives_way_to_the_observed_types(shop, annotate_shop):
    result = annotate_shop("shopapp.pricing")
    assert result.returncode == 0, result.stderr
    # doubled() returned an int for an int and a str for a str: generic; but `value * 2` needs more than
    # an unbounded TypeVar offers, so the union of what was seen is written instead.
    assert "def doubled(value: int | str) -> int | str:" in (shop / "shopapp" / "pricing.py").read_text()
    assert "withdrew shopapp.pricing:doubled " in result.stdout
    assert "(the observed types are written instead)" in result.stdout


def test_the_mypy_loop_says_where_it_is_round_by_round(shop):
    from typeharvest.annotator import AnnotateOptions, ModuleTraces, annotate
    from typeharvest.store import TraceReader

    with TraceReader(shop / "typeharvest.sqlite3") as reader:
        observations = reader.observations("shopapp.pricing")
    lines = []
    source = shop / "shopapp" / "pricing.py"
    report = annotate(
        [ModuleTraces("shopapp.pricing", source, observations)], AnnotateOptions(), lines.append
    )
    assert re.fullmatch(r"mypy round 1: \d+ errors added, 0 withdrawn so far", lines[0])
    assert re.fullmatch(r"mypy round 2: \d+ errors? added, \d+ withdrawn so far", lines[1])
    assert report.withdrawals
