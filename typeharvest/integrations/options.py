"""The settings every integration accepts, checked once at start-up so that a typo fails loudly.

Django spells them as ``settings.TYPEHARVEST`` keys (``SAMPLE_RATE``); the WSGI and ASGI middleware take
them as keyword arguments (``sample_rate=``). Both arrive here as a mapping of lower-case names.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Sampling of production traffic: 1 request in 100 (the tracer's cost is then within noise).
DEFAULT_SAMPLE_RATE = 0.01


class InvalidSettings(ValueError):
    """A setting has the wrong type or value; the message names it and says what is expected."""


@dataclass(frozen=True, slots=True)
class HarvestSettings:
    """What an integration traces and where it writes.

    ``db`` None means the default database (``$TYPEHARVEST_DB`` or ``typeharvest.sqlite3`` in the working
    directory). ``include``/``exclude`` are module-name prefixes; an empty ``include`` means "the code under
    the working directory that is not a library". ``sampler`` decides per request instead of the coin
    (its answer is still thinned by the overhead governor). ``budget``, ``flush_interval`` and ``seed`` are
    the tracer's knobs (``TracerConfig``), for tests and for the unusual deployment.
    """

    db: str | None = None
    sample_rate: float = DEFAULT_SAMPLE_RATE
    sampler: Callable[[Any], bool] | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    enabled: bool = True
    budget: int = 200
    flush_interval: float = 10.0
    seed: int | None = None


_FIELDS = tuple(field.name for field in dataclasses.fields(HarvestSettings))


def parse_settings(
    given: Mapping[str, object], spell: Callable[[str], str] = str, **defaults: object
) -> HarvestSettings:
    """Check ``given`` (names as ``spell`` writes them) and build the settings, ``defaults`` filling gaps.

    Raises ``InvalidSettings`` with a message naming the offending setting as the user wrote it.
    """
    known = {spell(name): name for name in _FIELDS}
    unknown = sorted(set(given) - set(known), key=str)
    if unknown:
        raise InvalidSettings(f"unknown setting {unknown[0]!r}; the settings are {', '.join(sorted(known))}")
    values = {**defaults, **{known[key]: value for key, value in given.items()}}
    checked: dict[str, Any] = {}
    for name, value in values.items():
        checked[name] = _CHECKS[name](spell(name), value)
    return HarvestSettings(**checked)


def _db(name: str, value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, (str, os.PathLike)) and os.fspath(value):
        return os.fspath(value)
    raise InvalidSettings(f"{name} must be a path to the trace database, not {value!r}")


def _sample_rate(name: str, value: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= value <= 1.0:
        return float(value)
    raise InvalidSettings(f"{name} must be a number between 0 and 1, not {value!r}")


def _sampler(name: str, value: object) -> Callable[[Any], bool] | None:
    if value is None or callable(value):
        return value
    if not isinstance(value, str):
        raise InvalidSettings(f"{name} must be a callable or its dotted path, not {value!r}")
    module_name, _, attribute = value.replace(":", ".").rpartition(".")
    if not module_name:
        raise InvalidSettings(f"{name} must be a dotted path like 'myapp.sampling.staff_only', not {value!r}")
    try:
        found = getattr(importlib.import_module(module_name), attribute)
    except ImportError as exc:
        raise InvalidSettings(f"{name}: cannot import {module_name!r} ({exc})") from None
    except AttributeError:
        raise InvalidSettings(f"{name}: module {module_name!r} has no attribute {attribute!r}") from None
    if not callable(found):
        raise InvalidSettings(f"{name}: {value!r} is not callable")
    return found  # type: ignore[no-any-return]


def _prefixes(name: str, value: object) -> tuple[str, ...]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        prefixes = tuple(value)
        if all(isinstance(prefix, str) and prefix and not prefix.startswith(".") for prefix in prefixes):
            return prefixes
    raise InvalidSettings(f"{name} must be a list of module names like ['shop', 'billing'], not {value!r}")


def _flag(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    raise InvalidSettings(f"{name} must be True or False, not {value!r}")


def _budget(name: str, value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise InvalidSettings(f"{name} must be a whole number >= 0 (0: no budget), not {value!r}")


def _interval(name: str, value: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    raise InvalidSettings(f"{name} must be a number of seconds > 0, not {value!r}")


def _seed(name: str, value: object) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise InvalidSettings(f"{name} must be a whole number or None, not {value!r}")


_CHECKS: dict[str, Callable[[str, object], Any]] = {
    "db": _db,
    "sample_rate": _sample_rate,
    "sampler": _sampler,
    "include": _prefixes,
    "exclude": _prefixes,
    "enabled": _flag,
    "budget": _budget,
    "flush_interval": _interval,
    "seed": _seed,
}
