"""Type reading: the time to name the type of one big value, typeharvest vs MonkeyType.

Issue 3's target: <= 1 ms per value whatever its size. Values: a list, a tuple, a set and a dict of 10**6
items, and a structure nested 5 deep (a list of dicts of lists of tuples of sets, 10 items at each level).
typeharvest: ``TypeNamer().name_of(value)`` with one namer for all calls, as in the tracer (its class-name
cache warm), mean of many calls. MonkeyType 23.3: ``monkeytype.typing.get_type(value, max_typed_dict_size)``
with its default ``max_typed_dict_size`` (0), mean of a few calls.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable

from typeharvest.tracer.typenames import TypeNamer

TARGET_MS = 1.0


def values(size: int) -> list[tuple[str, object]]:
    nested = [
        {
            key: [tuple({leaf for leaf in range(10)} for _ in range(10)) for _ in range(10)]
            for key in range(10)
        }
        for _ in range(10)
    ]
    return [
        (f"list of {size:,} int", list(range(size))),
        (f"tuple of {size:,} int", tuple(range(size))),
        (f"set of {size:,} int", set(range(size))),
        (f"dict of {size:,} int: str", {i: str(i) for i in range(size)}),
        ("5-deep nested, 10 per level", nested),
    ]


def per_call_ms(
    read: Callable[[object], object], value: object, budget_s: float, max_calls: int
) -> tuple[float, object]:
    """Mean milliseconds per call, calling until ``budget_s`` seconds or ``max_calls`` calls have passed."""
    calls = 0
    began = time.perf_counter()
    while True:
        result = read(value)
        calls += 1
        elapsed = time.perf_counter() - began
        if elapsed >= budget_s or calls >= max_calls:
            return elapsed / calls * 1000, result


def shorten(text: str, width: int = 150) -> str:
    return text if len(text) <= width else text[: width - 5] + " ...]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="containers of 10**5 items, one call each")
    args = parser.parse_args()
    size = 10**5 if args.quick else 10**6
    namer = TypeNamer()
    try:
        from monkeytype.config import DefaultConfig
        from monkeytype.typing import get_type

        typed_dict_size = DefaultConfig().max_typed_dict_size()
        monkeytype: Callable[[object], object] | None = functools.partial(
            get_type, max_typed_dict_size=typed_dict_size
        )
    except ImportError:
        monkeytype = None
    print(
        f"Time to name the type of one value, Python {sys.version.split()[0]}: milliseconds per value "
        f"(target for typeharvest: <= {TARGET_MS:g} ms whatever the size)"
    )
    print(f"  {'value':<28} {'typeharvest':>12} {'MonkeyType':>12}  typeharvest's name / MonkeyType's")
    for label, value in values(size):
        mine, my_name = per_call_ms(namer.name_of, value, budget_s=0.2, max_calls=100_000)
        verdict = "PASS" if mine <= TARGET_MS else "MISS"
        if monkeytype is None:
            theirs, their_name = "not installed", ""
        else:
            ms, their_type = per_call_ms(monkeytype, value, budget_s=1.0, max_calls=1 if args.quick else 3)
            theirs, their_name = f"{ms:10.1f}", str(their_type)
        names = f"{my_name} / {their_name}"
        print(f"  {label:<28} {mine:10.4f}   {theirs:>10}  {verdict}  {shorten(names)}")


if __name__ == "__main__":
    main()
