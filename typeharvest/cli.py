"""The ``typeharvest`` command: parses arguments and calls the parts, nothing more."""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click
import click.globals

from typeharvest.store import StoreError, resolve_db_path

if TYPE_CHECKING:
    from typeharvest.annotator import AnnotateReport, ModuleTraces
    from typeharvest.coverage.report import CoverageReport
    from typeharvest.records import CoverageSnapshot

_DB_HELP = "The trace database (default: $TYPEHARVEST_DB or ./typeharvest.sqlite3)."
db_option = click.option("--db", "db", type=str, default=None, help=_DB_HELP)


class UserError(click.ClickException):
    """A one-line ``error:`` message and exit code 1."""

    exit_code = 1

    def show(self, file: object = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="typeharvest")
def cli() -> None:
    """Type hints bootstrapped from the types your program really passes around."""


@cli.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@db_option
@click.option("--include", "include", multiple=True, metavar="PREFIX", help="Trace modules under this name.")
@click.option(
    "--sample-rate",
    type=click.FloatRange(0.0, 1.0),
    default=1.0,
    show_default=True,
    help="The probability that a call of a traced function is recorded.",
)
@click.option("-m", "module", type=str, default=None, help="Run a module, as python -m does.")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def run(
    db: str | None, include: tuple[str, ...], sample_rate: float, module: str | None, args: tuple[str, ...]
) -> None:
    """Run a program (SCRIPT [ARGS]... or -m MODULE [ARGS]...) under tracing; exit with its exit code."""
    from typeharvest.runner import ProgramNotFound, run_program

    if module is None and not args:
        raise UserError("give a script to run, or -m MODULE")
    target, program_args = (module, list(args)) if module is not None else (args[0], list(args[1:]))
    # The program may use click itself: it must not find this command's contexts as its current ones.
    ours: list[click.Context] = []
    while (context := click.get_current_context(silent=True)) is not None:
        ours.append(context)
        click.globals.pop_context()
    try:
        code = run_program(
            target,
            program_args,
            as_module=module is not None,
            db=db,
            include=include,
            sample_rate=sample_rate,
        )
    except (ProgramNotFound, StoreError) as exc:
        raise UserError(str(exc)) from None
    finally:
        for context in reversed(ours):
            click.globals.push_context(context)
    sys.exit(code)


@cli.command()
@click.argument("modules", nargs=-1, required=True, metavar="MODULE.PATH...")
@db_option
@click.option(
    "--src",
    "src",
    multiple=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="A directory the modules are imported from (repeatable); default: where the traces saw them.",
)
@click.option("--stub", is_flag=True, help="Write .pyi stubs instead of annotating the source files.")
@click.option(
    "--out", "out", type=str, default=None, help="With --stub: a directory for the stubs; '-' prints them."
)
@click.option("--diff", is_flag=True, help="Print a unified diff of the change and write nothing.")
@click.option("--overwrite-existing", is_flag=True, help="Replace annotations that are already there.")
@click.option("--min-calls", type=click.IntRange(min=0), default=0, help="Skip functions seen fewer times.")
@click.option("--no-check", is_flag=True, help="Do not run mypy on the result.")
@click.option(
    "--python-version",
    type=str,
    default=None,
    metavar="3.X",
    help="The syntax to write (default: the project's mypy python_version or requires-python).",
)
@click.option(
    "--generalize-args",
    is_flag=True,
    help="A list or set parameter the function only iterates (or len()s, indexes) becomes Iterable etc.",
)
@click.option("--include-stale", is_flag=True, help="Also use observations of older versions of the code.")
def annotate(
    modules: tuple[str, ...],
    db: str | None,
    src: tuple[Path, ...],
    stub: bool,
    out: str | None,
    diff: bool,
    overwrite_existing: bool,
    min_calls: int,
    no_check: bool,
    python_version: str | None,
    generalize_args: bool,
    include_stale: bool,
) -> None:
    """Annotate MODULE.PATH (a module, or a package and its sub-modules) with the types its traces saw."""
    from typeharvest.annotator import AnnotateOptions, AnnotatorError, annotate, write_changes

    if out is not None and not stub:
        raise UserError("--out is for stubs: add --stub")
    options = AnnotateOptions(
        stub=stub,
        out=Path(out) if out not in (None, "-") else None,
        overwrite=overwrite_existing,
        min_calls=min_calls,
        check=not no_check,
        generalize_arguments=generalize_args,
        python_version=_python_version(python_version),
    )
    batches = _module_traces(modules, resolve_db_path(db), src, include_stale)
    try:
        terminal = sys.stderr.isatty()
        report = annotate(batches, options, _progress_line if terminal else lambda line: None)
        if terminal:
            _progress_line("")
        printing = diff or out == "-"
        if not printing:
            write_changes(report)
    except AnnotatorError as exc:
        raise UserError(str(exc)) from None
    if not report.changes and report.problems and not report.slots:
        raise UserError("; ".join(report.problems))
    if diff:
        for change in report.changes:
            click.echo(_unified_diff(change.path, change.before or "", change.after), nl=False)
    elif out == "-":
        for change in report.changes:
            click.echo(change.after, nl=False)
    _print_annotate_summary(report, err=printing, wrote=not printing)


def _progress_line(line: str) -> None:
    """One line that rewrites itself on a terminal."""
    click.echo(f"\r\033[K{line}", nl=False, err=True)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _python_version(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    major, dot, minor = text.partition(".")
    if not (major == "3" and dot and minor.isdigit()):
        raise UserError(f"--python-version wants 3.X, not {text!r}")
    if int(minor) < 9:
        raise UserError("--python-version must be 3.9 or newer (annotations use list[int])")
    return 3, int(minor)


def _module_traces(
    modules: Sequence[str], path: Path, src: Sequence[Path], include_stale: bool
) -> list[ModuleTraces]:
    """The traced modules named by MODULE.PATH arguments (packages include their sub-modules)."""
    from typeharvest.annotator import AnnotatorError, ModuleTraces, find_module_source
    from typeharvest.store import TraceReader

    batches: list[ModuleTraces] = []
    try:
        with TraceReader(path) as reader:
            traced = [summary.module for summary in reader.modules()]
            for wanted in modules:
                names = [name for name in traced if name == wanted or name.startswith(wanted + ".")]
                if not names:
                    raise UserError(f"no traces for module {wanted!r} in {path}")
                for name in names:
                    observations = reader.observations(name, include_stale=include_stale)
                    if not observations:
                        continue
                    source = find_module_source(name, observations[0].function.filename, src)
                    batches.append(ModuleTraces(name, source, observations))
    except (StoreError, AnnotatorError) as exc:
        raise UserError(str(exc)) from None
    if not batches:
        raise UserError(f"no current traces for {', '.join(modules)} in {path} (try --include-stale)")
    return batches


def _unified_diff(path: Path, before: str, after: str) -> str:
    import difflib

    try:
        name = str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        name = str(path)
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{name}", f"b/{name}"
    )
    return "".join(lines)


def _print_annotate_summary(report: AnnotateReport, *, err: bool, wrote: bool) -> None:
    for problem in report.problems:
        click.echo(f"warning: {problem}", err=True)
    files = sum(1 for change in report.changes if change.changed)
    verb = "annotated" if wrote else "would annotate"
    click.echo(
        f"{verb} {_count(report.functions, 'function')} ({_count(report.slots, 'annotation')})"
        f" in {_count(files, 'file')}",
        err=err,
    )
    if not report.checked:
        click.echo("mypy: not run" + (" (--no-check)" if report.slots else " (nothing to check)"), err=err)
    else:
        withdrawn = _count(len(report.withdrawals), "annotation")
        click.echo(
            f"mypy: the change adds no error; {withdrawn} withdrawn, {len(report.widenings)} widened", err=err
        )
    for widening in report.widenings:
        click.echo(
            f"  widened {widening.module}:{widening.qualname} {widening.slot}: {widening.annotation}"
            f" — {widening.reason}",
            err=err,
        )
    for withdrawal in report.withdrawals:
        click.echo(
            f"  withdrew {withdrawal.module}:{withdrawal.qualname} {withdrawal.slot}: {withdrawal.annotation}"
            f" — {withdrawal.reason}",
            err=err,
        )
    for module in report.unresolved:
        click.echo(f"warning: stub of {module} not written: stubgen's skeleton itself fails mypy", err=True)
    if wrote:
        for change in report.changes:
            if change.changed:
                click.echo(f"wrote {change.path}", err=err)


@cli.command()
@click.argument("target", metavar="MODULE:QUALNAME")
@db_option
@click.option("--src", "src", multiple=True, type=click.Path(path_type=Path, file_okay=False))
@click.option("--include-stale", is_flag=True, help="Also use observations of older versions of the code.")
def explain(target: str, db: str | None, src: tuple[Path, ...], include_stale: bool) -> None:
    """Show the types observed for each parameter of a function and the rule behind each annotation."""
    from typeharvest.annotator import AnnotatorError, explain_function

    module, colon, qualname = target.partition(":")
    if not colon or not module or not qualname:
        raise UserError(f"give MODULE:QUALNAME (e.g. app.views:Cart.total), not {target!r}")
    batches = _module_traces([module], resolve_db_path(db), src, include_stale)
    batch = next((b for b in batches if b.module == module), None)
    if batch is None:
        raise UserError(f"no traces for module {module!r}")
    try:
        click.echo(explain_function(batch, qualname), nl=False)
    except AnnotatorError as exc:
        raise UserError(str(exc)) from None


@cli.command("list-modules")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_modules(db: str | None, as_json: bool) -> None:
    """The modules that have traces, with their function and call counts."""
    from typeharvest.store import TraceReader

    try:
        with TraceReader(resolve_db_path(db)) as reader:
            summaries = reader.modules()
    except StoreError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(s) for s in summaries], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("module", "functions", "signatures", "calls")
    for summary in summaries:
        table.add_row(summary.module, str(summary.functions), str(summary.signatures), str(summary.calls))
    Console().print(table)


@cli.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def stats(db: str | None, as_json: bool) -> None:
    """What the database holds: functions, signatures, calls, tracer errors."""
    from typeharvest.store import TraceReader

    try:
        with TraceReader(resolve_db_path(db)) as reader:
            figures = reader.stats()
    except StoreError as exc:
        raise UserError(str(exc)) from None
    data = dataclasses.asdict(figures)
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
        return
    for key, value in data.items():
        click.echo(f"{key:>16}: {value}")


@cli.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.argument("shards", nargs=-1, required=True, type=click.Path(path_type=Path))
def merge(out: Path, shards: tuple[Path, ...]) -> None:
    """Add the counts of SHARD... (databases from other hosts) to OUT, each shard at most once."""
    from typeharvest.store import SQLiteTraceStore

    try:
        results = SQLiteTraceStore(out).merge(shards)
    except StoreError as exc:
        raise UserError(str(exc)) from None
    for result in results:
        if result.merged:
            click.echo(f"merged {result.shard}: {result.calls} calls")
        else:
            click.echo(f"skipped {result.shard}: {result.reason}")


@cli.command("import-monkeytype")
@click.argument("source", type=click.Path(path_type=Path))
@db_option
def import_monkeytype(source: Path, db: str | None) -> None:
    """Read the call traces of a MonkeyType database (monkeytype.sqlite3) into the typeharvest database."""
    from typeharvest.store.monkeytype_import import import_monkeytype as run_import

    path = resolve_db_path(db)
    try:
        result = run_import(source, path)
    except StoreError as exc:
        raise UserError(str(exc)) from None
    click.echo(
        f"imported {result.calls} calls as {result.signatures} signatures of {result.functions} functions"
        f" into {path}" + (f" ({result.skipped_rows} unreadable rows skipped)" if result.skipped_rows else "")
    )


@cli.command()
@db_option
@click.option("--older-than", type=str, default=None, metavar="AGE", help="e.g. 30d, 12h: last seen before.")
@click.option("--stale", is_flag=True, help="Observations of code that has changed since.")
def prune(db: str | None, older_than: str | None, stale: bool) -> None:
    """Delete old or stale observations, then compact the file (VACUUM)."""
    from typeharvest.store import SQLiteTraceStore

    if older_than is None and not stale:
        raise UserError("say what to prune: --older-than AGE and/or --stale")
    seconds = _parse_age(older_than) if older_than is not None else None
    try:
        result = SQLiteTraceStore(resolve_db_path(db)).prune(older_than=seconds, stale=stale)
    except StoreError as exc:
        raise UserError(str(exc)) from None
    click.echo(
        f"deleted {result.signatures_deleted} signatures and {result.functions_deleted} functions;"
        f" {result.bytes_before} -> {result.bytes_after} bytes"
    )


_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def _parse_age(text: str) -> float:
    number, unit = text[:-1], text[-1:]
    if unit not in _AGE_UNITS or not number.replace(".", "", 1).isdigit():
        raise UserError(f"not an age: {text!r} (write e.g. 30d, 12h, 45m)")
    return float(number) * _AGE_UNITS[unit]


@cli.command("coverage")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (stable schema).")
@click.option("--markdown", "as_markdown", is_flag=True, help="Print a Markdown table, for CI comments.")
@click.option(
    "--html", "html_dir", type=click.Path(path_type=Path), default=None, help="Write DIR/index.html."
)
@click.option(
    "--sort",
    type=click.Choice(["untyped", "percent", "module", "functions"]),
    default="untyped",
    show_default=True,
    help="Order of the modules.",
)
@click.option("--exclude", multiple=True, metavar="GLOB", help="Leave out matching files and folders.")
@click.option(
    "--fail-under", type=click.FloatRange(0, 100), default=None, help="Exit 2 below this percentage."
)
@click.option("--record", is_flag=True, help="Store this report as a snapshot in the database.")
@click.option(
    "--backfill", type=click.IntRange(1), default=None, metavar="N", help="Record the last N commits."
)
@click.option("--diff-base", default=None, metavar="REV", help="Compare with the report at a git revision.")
@click.option("--ready", is_flag=True, help="List the untyped functions that traces can type now.")
def coverage_command(
    paths: tuple[Path, ...],
    db: str | None,
    as_json: bool,
    as_markdown: bool,
    html_dir: Path | None,
    sort: str,
    exclude: tuple[str, ...],
    fail_under: float | None,
    record: bool,
    backfill: int | None,
    diff_base: str | None,
    ready: bool,
) -> None:
    """Typed-function coverage of PATH... (default: the current directory).

    `typeharvest coverage history` shows the recorded snapshots instead.
    """
    from rich.console import Console

    from typeharvest.coverage import formats
    from typeharvest.coverage.git import GitError
    from typeharvest.coverage.report import measure
    from typeharvest.coverage.settings import SettingsError, configured_excludes

    if paths == (Path("history"),) and not Path("history").exists():
        _coverage_history(db, as_json)
        return
    roots = list(paths) or [Path.cwd()]
    for root in roots:
        if not root.exists():
            raise UserError(f"no such file or directory: {root}")
    try:
        patterns = [*configured_excludes(Path.cwd()), *exclude]
    except SettingsError as exc:
        raise UserError(str(exc)) from None
    report = measure(roots, patterns)
    order: formats.SortKey = sort  # type: ignore[assignment]
    root_label = " ".join(str(root) for root in roots)
    db_path = resolve_db_path(db)
    data = report.as_json()
    try:
        if record or backfill:
            _record_coverage(report, roots, patterns, root_label, db_path, backfill)
        if diff_base is not None:
            data["diff"] = _coverage_diff(report, roots, patterns, diff_base, as_json)
        if ready:
            data["ready"] = _coverage_ready(report, db_path, as_json)
        if html_dir is not None:
            history = _history_or_empty(db_path, root_label)
            html_dir.mkdir(parents=True, exist_ok=True)
            (html_dir / "index.html").write_text(formats.html_page(report, history, order), encoding="utf-8")
    except BrokenPipeError:
        raise  # ``| head`` went away: click ends quietly, it is no error of ours
    except (GitError, StoreError, OSError) as exc:
        raise UserError(str(exc)) from None
    if as_json:
        click.echo(json.dumps(data, indent=2))
    elif as_markdown:
        click.echo(formats.markdown(report, order), nl=False)
    elif not ready:
        formats.print_table(report, order, Console())
    if fail_under is not None and report.totals.percent < fail_under:
        click.echo(f"typed-function coverage {report.totals.percent:.2f}% is under {fail_under:g}%", err=True)
        sys.exit(2)


def _record_coverage(
    report: CoverageReport,
    roots: list[Path],
    patterns: list[str],
    root_label: str,
    db_path: Path,
    backfill: int | None,
) -> None:
    from typeharvest.coverage.history import backfill as backfill_snapshots
    from typeharvest.coverage.history import snapshot_of
    from typeharvest.store.snapshots import record_snapshot, snapshots

    if backfill:
        known = {s.commit for s in _history_or_empty(db_path, root_label) if s.commit}
        for snapshot in backfill_snapshots(backfill, roots, patterns, root_label, Path.cwd(), known):
            record_snapshot(db_path, snapshot)
        click.echo(f"recorded {len(snapshots(db_path, root_label))} snapshots in {db_path}", err=True)
    else:
        record_snapshot(db_path, snapshot_of(report, root_label, Path.cwd()))


def _history_or_empty(db_path: Path, root_label: str | None) -> list[CoverageSnapshot]:
    from typeharvest.store.snapshots import snapshots

    return snapshots(db_path, root_label) if db_path.exists() else []


def _coverage_diff(
    report: CoverageReport, roots: list[Path], patterns: list[str], base: str, quiet: bool
) -> dict[str, object]:
    from typeharvest.coverage.git import measure_at
    from typeharvest.coverage.history import compare

    before = measure_at(base, roots, patterns, Path.cwd())
    changes = compare(before, report)
    if not quiet:
        click.echo(
            f"against {base}: {before.totals.percent:.1f}% -> {report.totals.percent:.1f}%"
            f" ({report.totals.percent - before.totals.percent:+.1f} points)"
        )
        for change in changes:
            click.echo(
                f"  {change.module}: {change.before.full}/{change.before.functions} -> "
                f"{change.after.full}/{change.after.functions} fully typed ({change.delta:+.1f} points)"
            )
    return {
        "base": base,
        "before": before.as_json()["totals"],
        "modules": [
            {
                "module": c.module,
                "before_full": c.before.full,
                "before_functions": c.before.functions,
                "after_full": c.after.full,
                "after_functions": c.after.functions,
                "delta": round(c.delta, 2),
            }
            for c in changes
        ],
    }


def _coverage_ready(report: CoverageReport, db_path: Path, quiet: bool) -> list[dict[str, object]]:
    from typeharvest.coverage.ready import ready_functions
    from typeharvest.store import TraceReader

    calls: dict[tuple[str, str], int] = {}
    with TraceReader(db_path) as reader:
        traced = {summary.module for summary in reader.modules()}
        for module in report.modules:
            if module.module in traced:
                for observation in reader.observations(module.module):
                    key = (module.module, observation.function.qualname)
                    calls[key] = calls.get(key, 0) + observation.calls
    found = ready_functions(report, calls)
    if not quiet:
        for item in found:
            click.echo(
                f"{item.calls:>10}  {item.status.value:<8} {item.module}:{item.qualname}  ->  {item.command}"
            )
        if not found:
            click.echo("no untyped function has traces yet")
    return [
        {
            "module": f.module,
            "qualname": f.qualname,
            "status": f.status.value,
            "calls": f.calls,
            "command": f.command,
        }
        for f in found
    ]


def _coverage_history(db: str | None, as_json: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    db_path = resolve_db_path(db)
    try:
        history = _history_or_empty(db_path, None) if db_path.exists() else []
        if not db_path.exists():
            raise UserError(f"database not found: {db_path}")
    except StoreError as exc:
        raise UserError(str(exc)) from None
    rows = [
        {
            "taken_at": s.taken_at,
            "commit": s.commit,
            "branch": s.branch,
            "root": s.root,
            "functions": s.totals.functions,
            "full": s.totals.full,
            "partial": s.totals.partial,
            "untyped": s.totals.untyped,
            "percent": round(s.totals.percent, 2),
        }
        for s in history
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(
        "when (UTC)", "commit", "branch", "functions", "full", "typed %", "trend", title="Coverage history"
    )
    for row, snapshot in zip(rows, history, strict=True):
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(snapshot.taken_at))
        bar = "█" * round(snapshot.totals.percent / 10)
        table.add_row(
            when,
            (snapshot.commit or "")[:8],
            snapshot.branch or "",
            str(row["functions"]),
            str(row["full"]),
            f"{snapshot.totals.percent:.1f}",
            bar,
        )
    Console().print(table)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: every user error is one ``error:`` line and exit code 1, never a traceback."""
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None, prog_name="typeharvest", standalone_mode=False
        )
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        if isinstance(exc, UserError):
            exc.show()
        else:
            click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)
