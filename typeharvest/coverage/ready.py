"""The to-do list: functions not yet fully typed that traces can type now, most called first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from typeharvest.coverage.report import CoverageReport
from typeharvest.coverage.scan import Status


@dataclass(frozen=True, slots=True)
class ReadyFunction:
    module: str
    qualname: str
    status: Status
    calls: int

    @property
    def command(self) -> str:
        return f"typeharvest annotate {self.module}"


def ready_functions(report: CoverageReport, calls: Mapping[tuple[str, str], int]) -> list[ReadyFunction]:
    """Not fully typed functions that have traces (``calls`` by (module, qualname)), most called first."""
    found = [
        ReadyFunction(
            module.module, function.qualname, function.status, calls[(module.module, function.qualname)]
        )
        for module in report.modules
        for function in module.functions
        if function.status is not Status.FULL and calls.get((module.module, function.qualname), 0) > 0
    ]
    return sorted(found, key=lambda f: (-f.calls, f.module, f.qualname))
