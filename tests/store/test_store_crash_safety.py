"""A writer killed mid-flush, or a copy taken mid-write, leaves a consistent database with every commit."""

import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from typeharvest.store import TraceReader

WRITER = textwrap.dedent(
    """
    import sys
    from typeharvest.records import FunctionInfo, FunctionKind, Observation, Parameter, ParameterKind
    from typeharvest.records import Signature
    from typeharvest.store import write_observations

    db, worker = sys.argv[1], int(sys.argv[2])
    batch = []
    for i in range(200):  # big batches: the kill lands inside a flush most of the time
        info = FunctionInfo(f"m{worker}", f"f{i}", "/x.py", 1, FunctionKind.FUNCTION,
                            (Parameter("a", ParameterKind.POSITIONAL_OR_KEYWORD),))
        batch.append(Observation(info, Signature(("builtins.int",), "builtins.int"), 1, 1.0, 2.0))
    flushes = 0
    while True:
        write_observations(db, batch, {})
        flushes += 1
        print(flushes, flush=True)
    """
)


def start_writer(db: Path, worker: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), str(worker)], stdout=subprocess.PIPE, text=True
    )


def integrity(db: Path) -> str:
    connection = sqlite3.connect(db)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


def test_sigkill_during_flushes_keeps_the_file_sound_and_every_committed_flush(tmp_path):
    db = tmp_path / "t.sqlite3"
    for round_number in range(5):
        writer = start_writer(db, round_number)
        committed = 0
        deadline = time.monotonic() + 0.3 + 0.1 * round_number
        while time.monotonic() < deadline:
            line = writer.stdout.readline()
            committed = int(line)
        writer.send_signal(signal.SIGKILL)
        rest = writer.communicate()[0].split()
        committed = int(rest[-1]) if rest else committed
        assert integrity(db) == "ok"
        with TraceReader(db) as reader:
            calls = sum(o.calls for o in reader.observations(f"m{round_number}"))
        # Every flush it reported is there; at most one more (committed, killed before printing).
        assert calls in (committed * 200, (committed + 1) * 200), (calls, committed)


def test_a_copy_of_the_files_taken_while_writers_run_is_consistent(tmp_path):
    db = tmp_path / "t.sqlite3"
    writers = [start_writer(db, worker) for worker in range(3)]
    try:
        for writer in writers:
            writer.stdout.readline()  # each has committed at least once
        for copy_number in range(10):
            copy = tmp_path / f"copy{copy_number}.sqlite3"
            # As a power cut leaves them: the WAL first, then the main file (checkpoints write the latter).
            for suffix in ("-wal", "-shm", ""):
                source = Path(f"{db}{suffix}")
                if source.exists():
                    shutil.copyfile(source, f"{copy}{suffix}")
            assert integrity(copy) == "ok"
            with TraceReader(copy) as reader:
                assert reader.stats().calls % 200 == 0
            time.sleep(0.05)
    finally:
        for writer in writers:
            writer.send_signal(signal.SIGKILL)
            writer.communicate()
