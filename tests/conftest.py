"""Fixtures shared across parts: a small shop app, traced once by a real `typeharvest run`."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SHOP = Path(__file__).parent / "fixtures" / "shopapp"


def run_typeharvest(*args, cwd, env=None):
    """The real command line, in a subprocess, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "typeharvest", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


@pytest.fixture(scope="session")
def cli():
    """The `typeharvest` command line: ``cli(*args, cwd=...)``."""
    return run_typeharvest


@pytest.fixture(scope="session")
def traced_shop(tmp_path_factory):
    """The shop app and its trace database after `typeharvest run drive.py` (do not modify)."""
    app = tmp_path_factory.mktemp("traced-shop")
    shutil.copytree(SHOP, app, dirs_exist_ok=True)
    result = run_typeharvest("run", "drive.py", cwd=app)
    assert result.returncode == 0, result.stderr
    return app


@pytest.fixture
def shop(traced_shop, tmp_path):
    """A fresh copy of the traced shop to annotate (commands must pass ``--src`` = this directory)."""
    copy = tmp_path / "shop"
    shutil.copytree(traced_shop, copy)
    return copy


@pytest.fixture
def annotate_shop(shop):
    """Run `typeharvest annotate` on the shop copy with its database and source root."""

    def annotate(*args):
        return run_typeharvest(
            "annotate", *args, "--db", shop / "typeharvest.sqlite3", "--src", shop, cwd=shop
        )

    return annotate
