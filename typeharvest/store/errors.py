"""The one exception the store raises for anything a user can act on."""

from __future__ import annotations

import os


class StoreError(Exception):
    """A problem with a trace database, phrased for the person who has to fix it.

    ``str()`` is always a single line that names the file, because the CLI prints it verbatim after
    ``error:`` and a tracer in a server logs it: either way the reader needs to know *which* file.
    ``path`` carries the same file for code that wants to act on it.
    """

    def __init__(self, message: str, path: str | os.PathLike[str]) -> None:
        # Collapse whitespace so a multi-line SQLite or OS message can never break the one-line promise.
        super().__init__(" ".join(message.split()))
        self.path = os.fspath(path)
