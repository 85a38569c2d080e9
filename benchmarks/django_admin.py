"""Django admin workload: what tracing ``django.*`` costs a web server, and what sampling still finds.

Issue 3's benchmark. A small Django site (``benchmarks/adminbench``: one model of 120 rows registered in
django.contrib.admin, SQLite) is driven through ``django.test.Client`` as a logged-in superuser with a mix
of six requests: the admin index, a changelist of 100 rows, a change form, a search, a POST that saves a
change form, and a 404. Each request is one typeharvest unit of work (``with tracer.sampled(): ...``).

1. Throughput: every contender lives in a process of its own, like a server with its tracer always on
   (typeharvest's flusher, governor and re-arming run on their own clocks). The processes take turns:
   a cold slice each (warm-up, timed separately), then rounds of short slices in a shuffled order;
   requests/second over all rounds is printed as a ratio to the untraced process's, by wall-clock time
   and by CPU time (all threads), with the median of the per-round ratios as a check against noise.
2. CPU instructions per request with valgrind's callgrind: one process per contender, the same warm-up
   uninstrumented, then the instructions of every thread during N requests, divided by N. Sampling 0.01
   is measured as unsampled and sampled requests apart, and combined at 1%.
3. Accuracy of sampling: fresh processes send the same requests under full tracing and under the defaults;
   the signatures they stored are compared function by function.

Run with ``--quick`` for a smoke test; other flags size each part or skip it (``--help``).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))

from adminbench import callgrind, contenders, harness  # noqa: E402

PROTOCOL = "@@"  # prefix of the lines a child process reports on (anything else on stdout is ignored)
THROUGHPUT_CONTENDERS = ["untraced", "th-0", "th-0.01", "th-0.1", "th-1", "th-1-nogov", "monkeytype"]
# Longest first: two run at a time. typeharvest runs with its governor off under callgrind: the governor
# (and re-arming) go by wall-clock time, which valgrind stretches 7-50x per request (it throttled sampling
# 1.0 to ~0.05 there while it recovered to 1.0 in the throughput run); its effect shows in the throughput.
CALLGRIND_CONTENDERS = ["monkeytype", "righttyper", "th-1-nogov", "th-0.01", "untraced"]
# th-0.01 under callgrind: after the unsampled window, 13 requests in which one request of each kind is
# sampled and each sampled one is followed by an unsampled one, which pays for switching the events off again;
# counted a second time with none sampled, over the same kinds (``pattern_windows``), to tell the cost apart.
SAMPLED_PATTERN = [i in (0, 2, 4, 7, 9, 11) for i in range(13)]
ACCURACY_RUNS = ["th-full", "th-1", "th-0.01"]
ACCURACY_SEED = 12345  # which units sampling 0.01 picks; fixed so runs are comparable
ROUND_ORDER_SEED = 669  # the shuffled order of the throughput processes in each round
CALLGRIND_ENV = {"PYTHONHASHSEED": "0"}  # the same string hashing in every callgrind child


@dataclass
class Sizes:
    rounds: int
    slice: int  # requests per process per round: short slices, many rounds, so that noise hits all alike
    warmup: int  # the cold slice of each throughput process and the callgrind warm-up
    callgrind_requests: int
    monkeytype_slice: int
    monkeytype_every: int  # MonkeyType takes a turn every this many rounds (it is 20x slower)
    monkeytype_warmup: int
    monkeytype_callgrind: int  # requests counted under callgrind (a request costs MonkeyType ~25x)
    later_warmup: int  # typeharvest 1.0 without governor is counted again after this many more requests
    accuracy_requests: int


FULL = Sizes(
    rounds=40,
    slice=12,
    warmup=300,
    callgrind_requests=24,
    monkeytype_slice=6,
    monkeytype_every=5,
    monkeytype_warmup=12,
    monkeytype_callgrind=6,
    later_warmup=600,
    accuracy_requests=300,
)
QUICK = Sizes(
    rounds=3,
    slice=6,
    warmup=12,
    callgrind_requests=6,
    monkeytype_slice=6,
    monkeytype_every=3,
    monkeytype_warmup=6,
    monkeytype_callgrind=1,
    later_warmup=12,
    accuracy_requests=36,
)


# ----------------------------------------------------------------------------------------- child processes


def report(kind: str, payload: object) -> None:
    print(f"{PROTOCOL}{kind} {json.dumps(payload)}", flush=True)


def read_report(line: str) -> tuple[str, Any] | None:
    if not line.startswith(PROTOCOL):
        return None
    kind, _, payload = line[len(PROTOCOL) :].partition(" ")
    return kind, json.loads(payload)


def child_setup(args: argparse.Namespace) -> tuple[harness.RequestMix, str]:
    """Django on a private copy of the template database; the request mix checked once, untraced."""
    work = Path(args.workdir)
    tag = f"{args.mode}-{args.contender}-{os.getpid()}"
    harness.use_database(args.template, work / f"site-{tag}.sqlite3")
    mix = harness.RequestMix()
    mix.check()
    return mix, str(work / f"traces-{tag}.sqlite3")


def worker_main(args: argparse.Namespace) -> None:
    """A throughput process: runs slices on command (``run N``) until told to ``stop``."""
    mix, db = child_setup(args)
    contender = contenders.make(args.contender, db)
    contender.start()
    report("ready", {})
    for line in sys.stdin:
        command, _, value = line.strip().partition(" ")
        if command == "run":
            cpu = time.process_time()
            seconds = contender.run(mix, int(value))
            cpu = time.process_time() - cpu
            report("elapsed", {"seconds": seconds, "cpu": cpu, "rate": contender.rate()})
        elif command == "stop":
            break
    report("stopped", contender.stop())


def callgrind_main(args: argparse.Namespace) -> None:
    """A callgrind process: warm-up uninstrumented, then N requests counted, then exit at once.

    With ``--sampled-requests`` (typeharvest only), the warm-up and the N requests are forced unsampled,
    then the requests of ``SAMPLED_PATTERN`` (some forced sampled) are counted apart (label "sampled"), the
    governor off: forcing units to be sampled would make it throttle, and unforce them, mid-window.
    With ``--later W2``, W2 more requests run uninstrumented, then N more are counted (label "later"); with
    both, the W2 requests have one in seven forced sampled (prime to the six kinds of the mix, so each
    kind has its turn; a server at 1 % samples as many in W2 x 7 requests), and the pattern is counted
    again (label "warm"): what a sampled request costs once the process has settled, where "sampled" is
    the first sampled requests of its life.
    typeharvest flushes its buffer before each window, uncounted, and at the end of it, counted: the
    window pays for writing what its own requests recorded, whenever the background flusher would have.
    """
    markers = callgrind.Markers(args.markers)
    mix, db = child_setup(args)
    forced = args.sampled_requests
    overrides = {"overhead_target": 1.0} if forced else {}
    contender = contenders.make(args.contender, db, forceable=forced, **overrides)
    contender.start()
    if isinstance(contender, contenders.Typeharvest) and forced:
        # Unsampled: the pattern's sampled requests are the first of the process, in every run (a random
        # 1 % of the warm-up would have met a varying share of the code first, by up to 2x of their cost).
        contender.force = False
    contender.run(mix, args.warmup)
    # Steps: ("run", requests, force) uncounted, or ("window", requests, force, label) counted.
    steps: list[tuple[Any, ...]] = [("window", args.requests, False, "measured")]
    if forced:
        steps += pattern_windows("sampled")
    if args.later and forced:
        steps.append(("run", args.later, [i % 7 == 0 for i in range(args.later)]))  # 7: every kind in turn
        steps += pattern_windows("warm")
    elif args.later:
        steps += [("run", args.later, False), ("window", args.requests, False, "later")]
    extra: dict[str, Any] = {}
    typeharvest = contender if isinstance(contender, contenders.Typeharvest) else None
    for step in steps:
        requests, force = step[1], step[2]
        if typeharvest is not None and forced:
            typeharvest.force = force
        if step[0] == "run":
            contender.run(mix, requests)
            continue
        label = step[3]
        before = typeharvest.traced_units if typeharvest is not None else 0
        if typeharvest is not None:
            typeharvest.tracer.flush()  # what earlier requests recorded is written outside the window...
        # A full collection due in one process and not in another would decide the comparison.
        gc.collect()
        gc.freeze()
        markers.start()
        contender.run(mix, requests)
        if typeharvest is not None:
            typeharvest.tracer.flush()  # ... and what the window's requests recorded, inside it
        markers.stop(label)
        if typeharvest is not None:
            extra[f"units_{label}"] = typeharvest.traced_units - before
            extra[f"rearms_{label}"] = typeharvest.tracer.status().rearms
    if isinstance(contender, contenders.Typeharvest):
        status = contender.tracer.status()
        extra.update(rate=status.governor.rate, throttles=status.governor.throttles)
        extra.update(rearms=status.rearms, flushes=status.flushes)
    report("done", {"on_valgrind": markers.on_valgrind, **extra})
    # Leave without the launcher's or tracer's exit work (RightTyper post-processes for minutes at exit).
    sys.stderr.flush()
    os._exit(0)


def pattern_windows(label: str) -> list[tuple[Any, ...]]:
    """``SAMPLED_PATTERN`` counted twice over the same kinds of request: all unsampled ("<label>-base"),
    then, the mix brought back to the same kind, with its sampled requests ("<label>"). The difference is
    what the sampled requests cost, whatever the kinds they fell on."""
    count = len(SAMPLED_PATTERN)
    return [
        ("window", count, False, f"{label}-base"),
        ("run", -count % harness.MIX_SIZE, False),
        ("window", count, list(SAMPLED_PATTERN), label),
    ]


def accuracy_main(args: argparse.Namespace) -> None:
    """An accuracy process: a fresh tracer sees ``--requests`` requests from the first one on."""
    harness.use_database(args.template, Path(args.workdir) / f"site-accuracy-{args.contender}.sqlite3")
    mix = harness.RequestMix()
    contender = contenders.make(args.contender, args.db, seed=ACCURACY_SEED)
    contender.start()
    contender.run(mix, args.requests)
    result = contender.stop()
    mix.check()
    report("done", result)


def prepare_main(args: argparse.Namespace) -> None:
    harness.prepare_database(args.template)


# ----------------------------------------------------------------------------------------- orchestration


def child_command(mode: str, contender: str, args: argparse.Namespace, *extra: str) -> list[str]:
    return [
        sys.executable,
        str(HERE),
        "--mode",
        mode,
        "--contender",
        contender,
        "--template",
        args.template,
        "--workdir",
        args.workdir,
        *extra,
    ]


def run_child(command: Sequence[str], log: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a child to completion; its last report, or an error naming the log with its stderr.

    Children run in the temporary directory: RightTyper, for one, writes its log into the current one.
    ``env`` adds to the environment.
    """
    with open(log, "w") as stderr:
        result = subprocess.run(
            command,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            check=False,
            cwd=log.parent,
            env={**os.environ, **(env or {})},
        )
    reports = [r for r in map(read_report, result.stdout.splitlines()) if r is not None]
    if result.returncode != 0 or not reports:
        tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
        raise RuntimeError(f"exit code {result.returncode}: {tail or 'no output'} (log: {log})")
    return dict(reports[-1][1])


class Worker:
    """A throughput process, driven over its stdin/stdout."""

    def __init__(self, name: str, args: argparse.Namespace) -> None:
        self.name = name
        self.process = subprocess.Popen(
            child_command("worker", name, args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=args.workdir,
        )

    def expect(self, kind: str) -> Any:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            parsed = read_report(line)
            if parsed is not None:
                if parsed[0] != kind:
                    raise RuntimeError(f"{self.name}: expected {kind}, got {parsed[0]}")
                return parsed[1]
        raise RuntimeError(f"the {self.name} process ended early (exit code {self.process.wait()})")

    def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def run(self, requests: int) -> tuple[float, float, float | None]:
        """Run ``requests`` requests: wall and CPU seconds, and the sampling rate in force after them."""
        self.send(f"run {requests}")
        answer = self.expect("elapsed")
        return float(answer["seconds"]), float(answer["cpu"]), answer["rate"]

    def stop(self) -> dict[str, Any]:
        self.send("stop")
        result = dict(self.expect("stopped"))
        self.process.wait()
        return result


@dataclass
class Throughput:
    # Per contender: round -> (requests, wall seconds, CPU seconds), and the governor's rate after each slice.
    slices: dict[str, dict[int, tuple[int, float, float]]] = field(default_factory=dict)
    sampling: dict[str, list[float]] = field(default_factory=dict)
    cold: dict[str, float] = field(default_factory=dict)  # requests/s of the cold slice
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)

    def rate(self, name: str, cpu: bool = False) -> float:
        """Requests/s over all of the contender's rounds: every periodic cost (flush, re-arm) counts."""
        slices = self.slices[name].values()
        return sum(s[0] for s in slices) / sum(s[2 if cpu else 1] for s in slices)

    def ratio(self, name: str, cpu: bool = False) -> float:
        return self.rate(name, cpu) / self.rate("untraced", cpu)

    def round_ratios(self, name: str) -> list[float]:
        """Per round: this contender's requests/s over the untraced process's in the same round."""
        base = self.slices["untraced"]
        return [(n / t) / (base[r][0] / base[r][1]) for r, (n, t, _) in self.slices[name].items()]

    def requests(self) -> int:
        cold = sum(self.cold_requests.values())
        return cold + sum(s[0] for slices in self.slices.values() for s in slices.values())

    cold_requests: dict[str, int] = field(default_factory=dict)


def measure_throughput(args: argparse.Namespace, sizes: Sizes) -> Throughput:
    workers = [Worker(name, args) for name in THROUGHPUT_CONTENDERS]
    result = Throughput()
    try:
        for worker in workers:
            worker.expect("ready")
        for worker in workers:  # the cold slices, one process at a time
            n = sizes.monkeytype_warmup if worker.name == "monkeytype" else sizes.warmup
            result.cold[worker.name] = n / worker.run(n)[0]
            result.cold_requests[worker.name] = n
        order = random.Random(ROUND_ORDER_SEED)
        for round_index in range(sizes.rounds):
            for worker in order.sample(workers, len(workers)):  # nobody always follows the same process
                n = sizes.slice
                if worker.name == "monkeytype":
                    if round_index % sizes.monkeytype_every:
                        continue
                    n = sizes.monkeytype_slice
                seconds, cpu, rate = worker.run(n)
                result.slices.setdefault(worker.name, {})[round_index] = (n, seconds, cpu)
                if rate is not None:
                    result.sampling.setdefault(worker.name, []).append(rate)
        for worker in workers:
            result.reports[worker.name] = worker.stop()
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                worker.process.kill()
    return result


def setup_righttyper(workdir: Path) -> tuple[list[str], str] | str:
    """A venv with RightTyper from PyPI that also sees this venv's packages; the launcher, or why not."""
    if sys.version_info < (3, 12):
        return "needs Python 3.12+ (sys.monitoring)"
    venv = workdir / "righttyper-venv"
    python = venv / "bin" / "python"
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "righttyper"],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            lines = [x for x in done.stderr.splitlines() if x.startswith("ERROR")] or done.stderr.splitlines()
            return f"{' '.join(step[2:4])} failed: {(lines or ['?'])[-1][:150]}"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # Django (and the rest of this venv) after RightTyper's own dependencies on sys.path.
    import sysconfig

    Path(site, "zz_benchmark_host_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    version = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('righttyper'))"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    launcher = [str(python), "-m", "righttyper", "--all-files", "--include-files", f"{os.sep}django{os.sep}"]
    return launcher, version or "?"


@dataclass
class Instructions:
    per_request: dict[str, float] = field(default_factory=dict)
    # th-0.01: what a sampled request costs, with the switching back of the unsampled one after it.
    sampled: dict[str, float] = field(default_factory=dict)
    later: dict[str, float] = field(default_factory=dict)  # th-1-nogov: counted again, later
    warm: dict[str, float] = field(default_factory=dict)  # th-0.01: a sampled request once settled
    notes: dict[str, str] = field(default_factory=dict)
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)


def measure_instructions(args: argparse.Namespace, sizes: Sizes, righttyper: tuple[list[str], str] | str):
    result = Instructions()
    workdir = Path(args.workdir)
    markers = callgrind.build_markers(workdir)
    if isinstance(markers, str):
        result.notes["*"] = markers
        return result

    def one(name: str) -> None:
        warmup, requests = sizes.warmup, sizes.callgrind_requests
        if name == "monkeytype":
            warmup, requests = sizes.monkeytype_warmup, sizes.monkeytype_callgrind
        sampled = name == "th-0.01"
        extra = ["--markers", str(markers), "--warmup", str(warmup), "--requests", str(requests)]
        extra += ["--sampled-requests"] if sampled else []
        later = sizes.later_warmup if name in ("th-1-nogov", "untraced", "th-0.01") else 0
        extra += ["--later", str(later)]
        program = child_command("callgrind", "untraced" if name == "righttyper" else name, args, *extra)
        if name == "righttyper":
            if isinstance(righttyper, str):
                result.notes[name] = f"not run ({righttyper})"
                return
            program = [*righttyper[0], *program[1:]]  # the launcher runs this script
        out = workdir / f"callgrind-{name}.out"
        try:
            # One string-hashing seed for every contender: with a random one each, the layout of dicts
            # and sets (and so the instructions of the same requests) moved the ratios by a few percent.
            result.reports[name] = run_child(
                callgrind.command(out, program), workdir / f"callgrind-{name}.log", CALLGRIND_ENV
            )
            result.per_request[name] = callgrind.measured_instructions(out, "measured") / requests
            if later and not sampled:
                result.later[name] = callgrind.measured_instructions(out, "later") / requests
            if sampled:
                # The pattern's instructions less the same requests' unsampled, per sampled request.
                unsampled = result.per_request[name]
                count = sum(SAMPLED_PATTERN)
                for label, into in (("sampled", result.sampled), ("warm", result.warm)):
                    window = callgrind.measured_instructions(out, label)
                    base = callgrind.measured_instructions(out, f"{label}-base")
                    into[name] = unsampled + (window - base) / count
            result.requests[name] = requests
        except Exception as exc:
            result.notes[name] = f"not run ({exc})"

    with ThreadPoolExecutor(max_workers=2) as pool:  # callgrind is single-threaded: one per core
        list(pool.map(one, CALLGRIND_CONTENDERS))
    return result


Signatures = dict[tuple[str, str], set[tuple[tuple[str, ...], str, str]]]


def read_signatures(db: Path) -> Signatures:
    from typeharvest.store import TraceReader

    found: Signatures = {}
    if not db.exists():
        return found
    with TraceReader(db) as reader:
        for summary in reader.modules():
            for observation in reader.observations(summary.module):
                key = (observation.function.module, observation.function.qualname)
                signature = observation.signature
                found.setdefault(key, set()).add(
                    (tuple(signature.arg_types), signature.return_type, signature.yield_type)
                )
    return found


@dataclass
class Accuracy:
    signatures: dict[str, Signatures] = field(default_factory=dict)
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def measure_accuracy(args: argparse.Namespace, sizes: Sizes) -> Accuracy:
    result = Accuracy()
    workdir = Path(args.workdir)

    def one(name: str) -> None:
        db = workdir / f"accuracy-{name}.sqlite3"
        extra = ["--db", str(db), "--requests", str(sizes.accuracy_requests)]
        began = time.perf_counter()
        try:
            result.reports[name] = run_child(
                child_command("accuracy", name, args, *extra), workdir / f"accuracy-{name}.log"
            )
            result.signatures[name] = read_signatures(db)
        except Exception as exc:
            result.notes[name] = f"not run ({exc})"
        result.seconds[name] = time.perf_counter() - began

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(one, ACCURACY_RUNS))
    return result


# ----------------------------------------------------------------------------------------- printing


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_throughput(t: Throughput, sizes: Sizes) -> None:
    print(
        f"\nThroughput: requests/s as a ratio to untraced, over {sizes.rounds} rounds of {sizes.slice} "
        f"requests per process in a\nshuffled order (MonkeyType: {sizes.monkeytype_slice} every "
        f"{sizes.monkeytype_every} rounds). 'wall' and 'CPU': all requests over all their wall-clock\n"
        "or CPU time (every thread of the process); 'median [range]': of the per-round wall ratios (robust "
        "to\nnoise, blind to what happens in few rounds: sampled units, flushes); 'cold': each process's "
        f"first {sizes.warmup}\ntraced requests (MonkeyType: {sizes.monkeytype_warmup}), timed before "
        "the rounds"
    )
    header = f"{'req/s':>6} {'wall':>7} {'CPU':>7} {'median':>7} {'range':>12} {'cold':>7}"
    print(f"  {'contender':<32} {header}  recorded; tracer")
    for name in THROUGHPUT_CONTENDERS:
        ratios = t.round_ratios(name)
        rep = t.reports.get(name, {})
        state = ""
        if "throttles" in rep:
            rates = t.sampling.get(name, [0.0])
            state = f"{rep.get('functions', 0)} fns, {rep.get('signatures', 0)} sigs; rate "
            state += f"{min(rates):.3g}" if min(rates) == max(rates) else f"{min(rates):.3g}-{max(rates):.3g}"
            state += f" in rounds, {rep['throttles']} throttles, {rep['rearms']} re-arms; "
            state += f"governor's last period: {rep['overhead']:.2%} busy"
            if rep.get("errors"):
                state += f", errors {rep['errors']}"
        elif "traces_per_request" in rep:
            state = f"{rep['traces_per_request']:,.0f} call traces per request"
        print(
            f"  {contenders.LABELS[name]:<32} {t.rate(name):6.1f} {t.ratio(name):6.3f}x "
            f"{t.ratio(name, cpu=True):6.3f}x {statistics.median(ratios):6.3f}x "
            f"{min(ratios):5.3f}-{max(ratios):5.3f} {t.cold[name] / t.cold['untraced']:6.3f}x  {state}"
        )
    print(f"  ({t.requests():,} requests in all)")


def print_instructions(ins: Instructions, sizes: Sizes, righttyper_version: str) -> None:
    print(
        f"\nCPU instructions per request (callgrind, all threads of the process): mean over "
        f"{sizes.callgrind_requests} requests after\n{sizes.warmup} uninstrumented warm-up requests "
        f"(MonkeyType: {sizes.monkeytype_callgrind} after {sizes.monkeytype_warmup}); gc.collect() and "
        "gc.freeze() before counting;\ntypeharvest with its governor off (it goes by wall-clock time, "
        "which valgrind stretches)"
    )
    if "*" in ins.notes:
        print(f"  not run: {ins.notes['*']}")
        return
    base = ins.per_request.get("untraced")
    labels = dict(contenders.LABELS)
    labels["righttyper"] = f"RightTyper {righttyper_version}, defaults".replace(" ,", ",")
    labels["th-0.01"] = "typeharvest 0.01, unsampled req."

    def row(label: str, value: float, state: str = "", base: float | None = base) -> None:
        ratio = f"{value / base:7.3f}x" if base else "      ?"
        print(f"  {label:<36} {value / 1e6:9.2f} M {ratio}  {state}")

    for name in ["untraced", "th-0.01", "th-1-nogov", "monkeytype", "righttyper"]:
        if name not in ins.per_request:
            print(f"  {labels[name]}: {ins.notes.get(name, 'not run')}")
            continue
        rep = ins.reports.get(name, {})
        state = ""
        if "throttles" in rep:
            state = f"{rep['units_measured']} of {ins.requests[name]} sampled; rate at the end "
            state += f"{rep['rate']:.3g}, {rep['throttles']} throttles, {rep['rearms']} re-arms"
            state = f"governor off; {state}"
        if rep.get("on_valgrind") is False:
            state = "NOT UNDER VALGRIND " + state
        row(labels[name], ins.per_request[name], state)
        if name in ins.later:
            warm = sizes.warmup + sizes.callgrind_requests + sizes.later_warmup
            state = ""
            if "units_later" in rep:
                state = f"{rep['units_later']} of {ins.requests[name]} sampled; "
                state += f"{rep['rearms_later']} re-arms so far"
                if rep["rearms_later"] > rep["rearms_measured"]:
                    state += " (all budgets renewed since the first count: a re-arm cost)"
            row(f"  the same, after {warm} requests", ins.later[name], state, ins.later.get("untraced"))
        if name in ins.sampled:
            row(
                "typeharvest 0.01, sampled request",
                ins.sampled[name],
                f"{ins.reports[name].get('units_sampled')} sampled in {len(SAMPLED_PATTERN)}: one per kind, "
                "each followed by an unsampled one; less the same 13 unsampled",
            )
            row(
                "typeharvest 0.01, at 1% sampled",
                estimate_at_one_percent(ins, name, ins.sampled),
                "= 0.99 x unsampled + 0.01 x sampled: the first sampled requests of the process",
            )
        if name in ins.warm:
            row(
                "  sampled request, settled",
                ins.warm[name],
                f"the same pattern after {sizes.later_warmup} more requests, 1 in 7 of them sampled; "
                f"{ins.reports[name].get('rearms_warm')} re-arms so far (a re-arm renews budgets: the "
                "sampled requests after it record more)",
            )
            row(
                "  at 1% sampled, settled",
                estimate_at_one_percent(ins, name, ins.warm),
                "= 0.99 x unsampled + 0.01 x settled sampled: a server that has run a while",
            )
            if name in ins.sampled and base:
                once = sum(SAMPLED_PATTERN) * (ins.sampled[name] - ins.warm[name])
                label = "  first sampled requests, once"
                print(
                    f"  {label:<36} {once / 1e9:9.2f} G  = {once / base:.1f} untraced requests: what"
                    f" the first {sum(SAMPLED_PATTERN)} sampled requests of a process cost "
                    "beyond settled ones"
                )


def estimate_at_one_percent(ins: Instructions, name: str, sampled: dict[str, float]) -> float:
    return 0.99 * ins.per_request[name] + 0.01 * sampled[name]


@dataclass
class Comparison:
    same: float  # share of full tracing's functions whose set of signatures is identical
    recall: float  # share of full tracing's signatures found
    extra: int  # signatures full tracing never saw
    extra_no_return: int  # ... of which with no return type
    missed: int  # full tracing's functions not seen at all


def compare(full: Signatures, other: Signatures) -> Comparison:
    same = sum(1 for key, sigs in full.items() if other.get(key) == sigs)
    total = sum(len(s) for s in full.values())
    found = sum(len(sigs & other.get(key, set())) for key, sigs in full.items())
    extras = [sig for key, sigs in other.items() for sig in sigs - full.get(key, set())]
    return Comparison(
        same=same / max(1, len(full)),
        recall=found / max(1, total),
        extra=len(extras),
        extra_no_return=sum(1 for sig in extras if sig[1] == ""),
        missed=sum(1 for key in full if key not in other),
    )


def print_accuracy(acc: Accuracy, sizes: Sizes) -> dict[str, float]:
    print(
        f"\nAccuracy of sampling: the same {sizes.accuracy_requests} requests in fresh processes, traced "
        "from the first;\nthe distinct signatures (arg types, return, yield) of each function compared with "
        "full tracing's\n(budget=0, governor off). 'same set': functions whose set equals full tracing's; "
        "'recall': full\ntracing's signatures found; 'extra': signatures full tracing never saw. "
        f"Sampling 0.01 with seed {ACCURACY_SEED}"
    )
    shares: dict[str, float] = {}
    full = acc.signatures.get("th-full")
    if full is None:
        print(f"  full tracing {acc.notes.get('th-full', 'not run')}")
        return shares
    print(
        f"  {'run':<28} {'functions':>9} {'signatures':>10} {'same set':>9} {'recall':>7} {'extra':>6} "
        f"{'(no ret)':>8} {'missed fn':>9} {'seconds':>7}  tracer state"
    )
    for name in ACCURACY_RUNS:
        label = "full tracing" if name == "th-full" else contenders.LABELS[name]
        if name not in acc.signatures:
            print(f"  {label:<28} {acc.notes.get(name, 'not run')}")
            continue
        sigs = acc.signatures[name]
        c = compare(full, sigs)
        shares[name] = c.same
        rep = acc.reports.get(name, {})
        state = f"rate {rep.get('rate', 0):.3g}, {rep.get('throttles', 0)} throttles, "
        state += f"{rep.get('rearms', 0)} re-arms"
        if rep.get("errors"):
            state += f", errors {rep['errors']}"
        print(
            f"  {label:<28} {len(sigs):9d} {sum(len(s) for s in sigs.values()):10d} {c.same:8.1%} "
            f"{c.recall:7.1%} {c.extra:6d} {c.extra_no_return:8d} {c.missed:9d} {acc.seconds[name]:7.1f}  "
            f"{state}"
        )
    if "th-1" in acc.reports and not acc.reports["th-1"].get("throttles") and acc.seconds["th-1"] < 10:
        print("  (sampling 1.0 ran for less than one 10 s governor period: the governor never acted)")
    return shares


def print_targets(t: Throughput | None, ins: Instructions | None, shares: dict[str, float]) -> None:
    print("\nTargets of issue 3, on this run (PASS/MISS as measured, nothing adjusted):")

    def instr(name: str) -> float | None:
        if ins is None or name not in ins.per_request or "untraced" not in ins.per_request:
            return None
        value = (
            estimate_at_one_percent(ins, name, ins.sampled) if name in ins.sampled else ins.per_request[name]
        )
        return value / ins.per_request["untraced"]

    def rps(name: str) -> float | None:
        return None if t is None or name not in t.slices else t.ratio(name)

    def fmt(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}x"

    rows: list[tuple[str, str, str, bool | None]] = []
    for label, name, target, good in [
        ("sampling 0.01: throughput (wall; CPU)", "th-0.01", ">= 0.98x", lambda v: v >= 0.98),
        ("sampling 1.0: throughput (wall; CPU)", "th-1", ">= 0.80x", lambda v: v >= 0.80),
        ("sampling 1.0, governor off: throughput", "th-1-nogov", ">= 0.80x", lambda v: v >= 0.80),
    ]:
        value = rps(name)
        shown = fmt(value)
        if t is not None and value is not None:
            shown += f"; {t.ratio(name, cpu=True):.3f}x"
        rows.append((label, shown, target, None if value is None else good(value)))
    for label, name, target, good in [
        ("sampling 0.01: instructions/request (at 1%)", "th-0.01", "<= 1.02x", lambda v: v <= 1.02),
        ("sampling 1.0 (governor off): instructions/req.", "th-1-nogov", "<= 1.25x", lambda v: v <= 1.25),
    ]:
        value = instr(name)
        rows.append((label, fmt(value), target, None if value is None else good(value)))
        if name == "th-0.01" and ins is not None and name in ins.warm and "untraced" in ins.per_request:
            settled = estimate_at_one_percent(ins, name, ins.warm) / ins.per_request["untraced"]
            rows.append(("  the same, settled (see above)", fmt(settled), target, good(settled)))
    later = None
    if ins is not None and "th-1-nogov" in ins.later and "untraced" in ins.later:
        later = ins.later["th-1-nogov"] / ins.later["untraced"]
    label = "  the same, counted again later"
    rows.append((label, fmt(later), "<= 1.25x", None if later is None else later <= 1.25))
    mine, theirs = instr("th-1-nogov"), instr("righttyper")
    verdict_rt = None if mine is None or theirs is None else mine < theirs
    rows.append(
        ("sampling 1.0 vs RightTyper: instructions", f"{fmt(mine)} vs {fmt(theirs)}", "fewer", verdict_rt)
    )
    share = shares.get("th-1")
    rows.append(
        (
            "sampling 1.0: functions with full's signatures",
            "-" if share is None else f"{share:.1%}",
            ">= 95%",
            None if share is None else share >= 0.95,
        )
    )
    for label, value, target, ok in rows:
        print(
            f"  {label:<48} {value:>18}  target {target:<9} {'not measured' if ok is None else verdict(ok)}"
        )


# ----------------------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke test: few requests of each kind")
    parser.add_argument(
        "--skip", action="append", default=[], choices=["throughput", "callgrind", "accuracy"]
    )
    parser.add_argument("--no-righttyper", action="store_true", help="do not install and run RightTyper")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, databases)")
    for name in ("rounds", "slice", "warmup", "callgrind-requests", "accuracy-requests"):
        parser.add_argument(f"--set-{name}", type=int, help=f"override the size '{name}'")
    # The child processes' options.
    parser.add_argument(
        "--mode", default="main", choices=["main", "prepare", "worker", "callgrind", "accuracy"]
    )
    parser.add_argument("--contender", default="untraced")
    parser.add_argument("--template", default="")
    parser.add_argument("--workdir", default="")
    parser.add_argument("--markers", default="")
    parser.add_argument("--db", default="")
    parser.add_argument("--warmup", type=int, default=0)
    parser.add_argument("--requests", type=int, default=0)
    parser.add_argument("--sampled-requests", action="store_true")
    parser.add_argument("--later", type=int, default=0)
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    children: dict[str, Callable[[argparse.Namespace], None]] = {
        "prepare": prepare_main,
        "worker": worker_main,
        "callgrind": callgrind_main,
        "accuracy": accuracy_main,
    }
    if args.mode in children:
        children[args.mode](args)
        return
    sizes = dataclasses.replace(QUICK if args.quick else FULL)
    for name in ("rounds", "slice", "warmup", "callgrind_requests", "accuracy_requests"):
        if getattr(args, f"set_{name}") is not None:
            setattr(sizes, name, getattr(args, f"set_{name}"))
    # The same string hashing in every child process: one source of process-to-process variance less.
    os.environ["PYTHONHASHSEED"] = "0"
    workdir = Path(tempfile.mkdtemp(prefix="typeharvest-admin-"))
    args.workdir = str(workdir)
    args.template = str(workdir / "template.sqlite3")
    began = time.perf_counter()
    try:
        import django

        print(
            "Django admin request mix (index, changelist of 100 rows, change form, search, POST save, 404) "
            f"traced over django.*\nPython {sys.version.split()[0]}, Django {django.get_version()}"
            f"{', quick mode' if args.quick else ''}; ratios are to the untraced contender of the same run"
        )
        subprocess.run(child_command("prepare", "untraced", args), check=True, cwd=workdir)
        righttyper: tuple[list[str], str] | str = "--no-righttyper given"
        if not args.no_righttyper and "callgrind" not in args.skip:
            righttyper = setup_righttyper(workdir)
        t = ins = None
        shares: dict[str, float] = {}
        if "throughput" not in args.skip:
            t = measure_throughput(args, sizes)
            print_throughput(t, sizes)
        if "callgrind" not in args.skip:
            ins = measure_instructions(args, sizes, righttyper)
            version = righttyper[1] if isinstance(righttyper, tuple) else ""
            print_instructions(ins, sizes, version)
        if "accuracy" not in args.skip:
            shares = print_accuracy(measure_accuracy(args, sizes), sizes)
        print_targets(t, ins, shares)
        print(f"\n({time.perf_counter() - began:.0f} s in all)")
    finally:
        if args.keep:
            print(f"(kept {workdir})")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
