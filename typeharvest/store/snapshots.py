"""Coverage snapshots: the trend of typed-function coverage, kept in the trace database.

Written and read with sqlite-utils: this is a command-line path, never a production one.
"""

from __future__ import annotations

import dataclasses
import os

import sqlite_utils

from typeharvest.records import CoverageCounts, CoverageSnapshot
from typeharvest.store.schema import connect


def record_snapshot(path: str | os.PathLike[str], snapshot: CoverageSnapshot) -> int:
    """Store ``snapshot`` (created the database if needed); returns its id."""
    db = sqlite_utils.Database(connect(path, create=True))
    try:
        with db.conn:
            table = db.table("coverage_snapshots")
            table.insert(
                {
                    "taken_at": snapshot.taken_at,
                    "commit_sha": snapshot.commit,
                    "branch": snapshot.branch,
                    "root": snapshot.root,
                    **dataclasses.asdict(snapshot.totals),
                }
            )
            snapshot_id = int(table.last_pk)  # type: ignore[arg-type]
            db.table("coverage_modules").insert_all(
                {
                    "snapshot_id": snapshot_id,
                    "module": module,
                    "path": module_path,
                    **dataclasses.asdict(counts),
                }
                for module, module_path, counts in snapshot.modules
            )
        return snapshot_id
    finally:
        db.close()


def snapshots(path: str | os.PathLike[str], root: str | None = None) -> list[CoverageSnapshot]:
    """Every snapshot (of ``root`` only, if given), oldest first, without their per-module rows."""
    db = sqlite_utils.Database(connect(path, create=False))
    try:
        where, arguments = ("root = ?", [root]) if root is not None else (None, [])
        return [
            CoverageSnapshot(
                taken_at=float(row["taken_at"]),
                commit=row["commit_sha"],
                branch=row["branch"],
                root=str(row["root"]),
                totals=CoverageCounts(row["functions"], row["full"], row["partial"], row["untyped"]),
            )
            for row in db.table("coverage_snapshots").rows_where(where, arguments, order_by="taken_at, id")
        ]
    finally:
        db.close()
