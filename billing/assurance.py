"""What a plan promises about the quality of a bill: how gaps in a machine's reports are billed, how long
an invoice can be disputed, and what an outage of the host credits the renter (its service-level rule).

Written in a plan file's `[assurance]` table:

    [assurance]
    bill_gaps_shorter_than = "60s"   # gaps without reports shorter than this are billed as rental time
    dispute_window = "30d"           # an invoice can be disputed this long after it was issued
    sla_outage_longer_than = "5m"    # the host's machine silent this long during a session is an outage
    sla_credit = "2"                 # each outage credits this many times its price as rental time

Without the table gaps are never billed, invoices can be disputed for 30 days and outages credit nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from billing.errors import InvalidPlan

DAY_US = 86_400_000_000
DEFAULT_DISPUTE_WINDOW_US = 30 * DAY_US
MAX_DISPUTE_WINDOW_US = 366 * DAY_US
MAX_GAP_US = DAY_US
MAX_SLA_CREDIT = Decimal(10)


@dataclass(frozen=True, slots=True)
class Assurance:
    """A plan's rules on gaps, disputes and outages; durations in microseconds (0: the rule is off)."""

    bill_gaps_shorter_than_us: int = 0
    dispute_window_us: int = DEFAULT_DISPUTE_WINDOW_US
    sla_outage_longer_than_us: int = 0
    sla_credit: Decimal = Decimal(0)  # multiple of the outage's price as rental time

    def __post_init__(self) -> None:
        if not 0 <= self.bill_gaps_shorter_than_us <= MAX_GAP_US:
            raise InvalidPlan("bill_gaps_shorter_than: must be at most 1 day")
        if not 0 < self.dispute_window_us <= MAX_DISPUTE_WINDOW_US:
            raise InvalidPlan("dispute_window: must be between 1 microsecond and 366 days")
        if not 0 <= self.sla_outage_longer_than_us <= MAX_GAP_US:
            raise InvalidPlan("sla_outage_longer_than: must be at most 1 day")
        if not (self.sla_credit.is_finite() and 0 <= self.sla_credit <= MAX_SLA_CREDIT):
            raise InvalidPlan(f"sla_credit: must be a multiple between 0 and {MAX_SLA_CREDIT}")
        if self.sla_credit and not self.sla_outage_longer_than_us:
            raise InvalidPlan("sla_credit: give sla_outage_longer_than too (how long a silence is an outage)")

    @property
    def credits_outages(self) -> bool:
        return bool(self.sla_credit and self.sla_outage_longer_than_us)

    def describe(self) -> list[str]:
        """The rules in force, one sentence each (for `explain` and the plan page)."""
        found = []
        if self.bill_gaps_shorter_than_us:
            found.append(f"gaps without reports shorter than {_s(self.bill_gaps_shorter_than_us)} s are"
                         " billed as rental time")  # fmt: skip
        else:
            found.append("time without reports is not billed")
        found.append(f"invoices can be disputed for {_s(self.dispute_window_us)} s after they are issued")
        if self.credits_outages:
            found.append(
                f"an outage (no reports for more than {_s(self.sla_outage_longer_than_us)} s during"
                f" a session) credits {format(self.sla_credit.normalize(), 'f')} x its price"
            )
        return found


def _s(micros: int) -> str:
    return format((Decimal(micros) / 1_000_000).normalize(), "f")


@dataclass(frozen=True, slots=True)
class IdleRule:
    """A plan's `[idle]` table (billing/idle.py): idle below `below_percent` for longer than `after_us`
    makes rental time cost `rate` x its price from then on."""

    below_percent: Decimal
    after_us: int
    rate: Decimal  # multiple of the time price while idle beyond `after` (0: paused)

    def __post_init__(self) -> None:
        if not (self.below_percent.is_finite() and 0 < self.below_percent <= 100):
            raise InvalidPlan("below: a utilisation between 0 and 100 %")
        if not 0 < self.after_us <= 86_400_000_000:
            raise InvalidPlan("after: must be between 1 microsecond and 1 day")
        if not (self.rate.is_finite() and 0 <= self.rate < 1):
            raise InvalidPlan("rate: a multiple of the price from 0 (billing paused) to below 1")

    def describe(self) -> str:
        what = "billing pauses" if not self.rate else f"rental time costs x{_d(self.rate)}"
        below, after = _d(self.below_percent), _s(self.after_us)
        return f"idle (CPU and GPUs below {below} %) for more than {after} s: {what}"


def _d(value: Decimal) -> str:
    return format(value.normalize(), "f")
