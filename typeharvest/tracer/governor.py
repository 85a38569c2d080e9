"""Keep the tracer's own cost under a share of wall time by lowering the sampling rate.

Why a governor and not just a low rate: the cost of recording depends on the workload (how many traced
functions, how big their arguments), which nobody knows in advance. The recorder measures the time it
spends recording; every flush interval the governor compares it with the wall time that passed and, above
the target, scales the rate down in proportion; well below it, it doubles the rate back towards the
configured one. What it did is logged and kept in ``GovernorReport``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

logger = logging.getLogger("typeharvest")

#: Never sample less than this: a rate of zero would stop the measurements that could raise it again.
MIN_RATE = 1e-4


@dataclass(slots=True)
class GovernorReport:
    """The governor's state: the rate in force, the last measured share of wall time, its actions."""

    configured_rate: float
    rate: float
    target: float
    last_overhead: float = 0.0
    throttles: int = 0
    recoveries: int = 0


class OverheadGovernor:
    """Adjusts a sampling rate so that recording takes at most ``target`` of wall time."""

    def __init__(self, configured_rate: float, target: float) -> None:
        self.report = GovernorReport(configured_rate, configured_rate, target)

    @property
    def rate(self) -> float:
        return self.report.rate

    def update(self, busy_ns: int, wall_ns: int) -> float:
        """Weigh ``busy_ns`` spent recording against ``wall_ns`` of wall time; return the rate to use now."""
        report = self.report
        if wall_ns <= 0:
            return report.rate
        share = busy_ns / wall_ns
        report.last_overhead = share
        if share > report.target and report.rate > MIN_RATE:
            # Proportional, with a margin, so one step lands under the target.
            new_rate = max(MIN_RATE, report.rate * report.target / share * 0.8)
            logger.warning(
                "typeharvest: recording took %.1f%% of wall time (target %.1f%%): sampling %.4g -> %.4g",
                share * 100,
                report.target * 100,
                report.rate,
                new_rate,
            )
            report.rate = new_rate
            report.throttles += 1
        elif share < report.target / 2 and report.rate < report.configured_rate:
            report.rate = min(report.configured_rate, report.rate * 2)
            report.recoveries += 1
        return report.rate
