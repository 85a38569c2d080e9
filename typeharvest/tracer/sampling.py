"""Whether the code running now belongs to a sampled unit of work.

A context variable, because ``sys.monitoring`` is process-wide: its callbacks run for every thread and
every asyncio task, and the context is what tells a sampled request's task from the other tasks on the
same event loop (a task copies its creator's context, so work a sampled request spawns is sampled too).
"""

from __future__ import annotations

import contextvars

_sampled: contextvars.ContextVar[bool] = contextvars.ContextVar("typeharvest_sampled", default=False)

is_sampled = _sampled.get


def mark_sampled() -> contextvars.Token[bool]:
    """Mark the current context as sampled; give the token to ``unmark`` when the unit ends."""
    return _sampled.set(True)


def unmark(token: contextvars.Token[bool]) -> None:
    """End the sampled unit begun with ``token``."""
    _sampled.reset(token)
