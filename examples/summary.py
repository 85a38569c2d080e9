"""The end of ``make demo``: what happened, in numbers, for someone who has never seen typeharvest.

Reads what the demo's steps left in RUN_DIR: the driver's request counts (requests.json), ``typeharvest
coverage --ready --json`` before and after annotating (its ``ready`` list names the untyped functions that
have traces), and the text ``typeharvest annotate`` (annotate.txt) and mypy (mypy.txt) printed.

    python summary.py RUN_DIR --db TRACES --copy ANNOTATED_COPY --venv-bin BIN
"""

import argparse
import json
import os
import re
import textwrap
from collections import defaultdict
from pathlib import Path

WIDTH = 100
INDENT = " " * 14
ANNOTATED = re.compile(r"^annotated (\d+) functions? \((\d+) annotations?\) in (\d+) files?$", re.M)
CHECKED = re.compile(r"^mypy: .*?; (\d+) annotations? withdrawn, (\d+) widened$", re.M)
WITHDREW = re.compile(r"^  withdrew (\S+) (\S+): .*? — (.*)$", re.M)
MYPY_SUCCESS = re.compile(r"^Success: no issues found in (\d+) source files?$", re.M)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--db", required=True, help="the trace database")
    parser.add_argument("--copy", required=True, help="the annotated copy of the project")
    parser.add_argument("--venv-bin", required=True, help="where the typeharvest command is")
    options = parser.parse_args()
    run = options.run_dir

    requests = json.loads((run / "requests.json").read_text(encoding="utf-8"))
    before = json.loads((run / "coverage-before.json").read_text(encoding="utf-8"))
    after = json.loads((run / "coverage-after.json").read_text(encoding="utf-8"))
    annotate_text = (run / "annotate.txt").read_text(encoding="utf-8")
    mypy_text = (run / "mypy.txt").read_text(encoding="utf-8")

    written = ANNOTATED.search(annotate_text)
    checked = CHECKED.search(annotate_text)
    annotated_functions, annotations = (int(written[1]), int(written[2])) if written else (0, 0)
    withdrawn, widened = (int(checked[1]), int(checked[2])) if checked else (0, 0)
    reasons = defaultdict(set)
    for function, _slot, reason in WITHDREW.findall(annotate_text):
        reasons[function].add(tidy(reason))
    mypy_ok = MYPY_SUCCESS.search(mypy_text)

    # Before annotating, every function is untyped: the "ready" ones are exactly those the traces saw.
    traced = before["ready"]
    calls = sum(function["calls"] for function in traced)
    total, full = after["totals"]["functions"], after["totals"]["full"]
    incomplete = len(after["ready"])
    statuses = ", ".join(f"{count} × {status}" for status, count in sorted(requests["statuses"].items()))
    db, copy, bin_dir = (relative(path) for path in (options.db, options.copy, options.venv_bin))
    typeharvest = f"{bin_dir}/typeharvest"

    lines = ["", "=" * WIDTH, "Summary", "=" * WIDTH]
    item(lines, "1. Traffic", f"The example Django shop in examples/ answered {requests['requests']} requests "
         f"({statuses}): pages, forms, a JSON API and an async view. TypeHarvestMiddleware traced every one "
         "(TYPEHARVEST = {\"SAMPLE_RATE\": 1.0} in shopsite/settings.py).")
    item(lines, "2. Traces", f"The requests called {len(traced)} of the shop's {total} functions, "
         f"{calls:,} calls in all; typeharvest recorded the types of their arguments and results in {db}.")
    item(lines, "3. Annotate", f"`typeharvest annotate` wrote {annotations} annotations into "
         f"{annotated_functions} functions of a copy of the shop, {copy}/ (the original is untouched). "
         f"mypy, with django-stubs, judged each one: {withdrawn} withdrawn because they made mypy report "
         f"an error, {widened} widened.")
    item(lines, "4. Check", "mypy on the annotated copy: "
         + (f"no errors in {mypy_ok[1]} files." if mypy_ok else "ERRORS, see step 5 above."))
    item(lines, "5. Coverage", f"Fully annotated functions: {before['totals']['percent']:.1f} % before, "
         f"{after['totals']['percent']:.1f} % after ({full} of {total}). Of the {total - full} others, "
         f"{incomplete} have traces but mypy or the traces left them incomplete, and "
         f"{total - full - incomplete} were never called by the demo's requests.")
    if reasons:
        lines += ["", "Withdrawn by mypy (annotating a function makes mypy check its body and its callers):"]
        for function, why in sorted(reasons.items()):
            lines += textwrap.wrap(f"  {function}: {'; '.join(sorted(why))}", WIDTH, subsequent_indent="      ")
    lines += [
        "",
        "Try next",
        f"  diff -ru -x __pycache__ examples/orders {copy}/orders",
        f"  {typeharvest} explain orders.services:compute_totals --db {db} --src examples",
        f"  {typeharvest} coverage --ready --db {db} examples/catalog examples/orders",
        "  and in your own Django project: add \"typeharvest.django.TypeHarvestMiddleware\" to MIDDLEWARE.",
        "=" * WIDTH,
    ]
    print("\n".join(lines))


def item(lines, title, text):
    lines += textwrap.wrap(text, WIDTH, initial_indent=f"{title:<14}", subsequent_indent=INDENT)


def tidy(reason):
    """A mypy message (where mypy reported it: the function's body, or a caller) without its error code."""
    reason = re.sub(r"^widened, it made mypy report ", "", reason)
    reason = re.sub(r"\s+\(found by elimination\)$", "", reason)
    return re.sub(r"\s+\[[\w-]+\]$", "", reason)


def relative(path):
    """``path`` relative to the working directory (where ``make demo`` runs), if it is under it."""
    try:
        relative_path = os.path.relpath(path)
    except ValueError:  # another drive
        return path
    return path if relative_path.startswith("..") else relative_path


if __name__ == "__main__":
    main()
