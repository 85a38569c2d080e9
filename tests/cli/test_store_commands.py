"""merge, prune and stats from the command line: counts, messages, one-line errors."""

import json
import os

from typeharvest.records import FunctionInfo, FunctionKind, Observation, Signature
from typeharvest.store import write_observations


def shard(path, calls, seen=1000.0):
    info = FunctionInfo("app", "f", "/app.py", 1, FunctionKind.FUNCTION, (), "v1")
    write_observations(path, [Observation(info, Signature((), "builtins.int"), calls, seen, seen)], {})


def test_merge_reports_each_shard_and_skips_repeats(cli, tmp_path):
    shard(tmp_path / "a.sqlite3", 2)
    shard(tmp_path / "b.sqlite3", 5)
    result = cli("merge", "out.sqlite3", "a.sqlite3", "b.sqlite3", "a.sqlite3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"merged {tmp_path / 'a.sqlite3'}: 2 calls",
        f"merged {tmp_path / 'b.sqlite3'}: 5 calls",
        f"skipped {tmp_path / 'a.sqlite3'}: already merged",
    ]
    stats = json.loads(cli("stats", "--json", "--db", "out.sqlite3", cwd=tmp_path).stdout)
    assert (stats["calls"], stats["shards_merged"]) == (7, 2)


def test_merge_of_a_missing_shard_is_a_one_line_error(cli, tmp_path):
    result = cli("merge", "out.sqlite3", "nope.sqlite3", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (
        1,
        f"error: database not found: {tmp_path / 'nope.sqlite3'}\n",
    )


def test_prune_needs_to_be_told_what_and_parses_ages(cli, tmp_path):
    shard(tmp_path / "t.sqlite3", 1, seen=0.0)
    assert cli("prune", "--db", "t.sqlite3", cwd=tmp_path).stderr == (
        "error: say what to prune: --older-than AGE and/or --stale\n"
    )
    assert cli("prune", "--db", "t.sqlite3", "--older-than", "soon", cwd=tmp_path).stderr == (
        "error: not an age: 'soon' (write e.g. 30d, 12h, 45m)\n"
    )
    result = cli("prune", "--db", "t.sqlite3", "--older-than", "30d", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("deleted 1 signatures and 1 functions;")


def test_stats_reports_ages_writers_and_staleness(cli, tmp_path):
    shard(tmp_path / "t.sqlite3", 3)
    data = json.loads(cli("stats", "--json", "--db", "t.sqlite3", cwd=tmp_path).stdout)
    assert data["oldest_seen"] == data["newest_seen"] == 1000.0
    assert (data["writers"], data["stale_signatures"]) == (1, 0)
    assert data["size_bytes"] == os.path.getsize(tmp_path / "t.sqlite3")
