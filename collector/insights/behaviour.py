"""Behaviour profiles as domain objects: what one ended session or one wallet entry adds to a renter's
profile and to its machine class's. Folding is addition only, so a profile built run by run equals one
built at once (tests/collector/test_insights_profiles.py checks it).

Stored as JSON (`renter_profiles.data`, `class_profiles.data`); amounts are integers: microseconds, bytes,
minor units of money. Utilisation is kept as exact sums (busy time, capacity) and divided when shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, tzinfo
from typing import Any

from collector.insights.weekly import (
    HOURS_OF_WEEK,
    LENGTH_LABELS,
    NIGHT_HOURS,
    by_hour_of_week,
    length_bucket,
    week_of,
)

# A sample whose CPU utilisation is below this is idle time (the renter holds the machine, unused).
IDLE_BELOW = 0.05
# Spend per week is kept for this many most recent weeks.
WEEKS_KEPT = 26


@dataclass(frozen=True)
class SessionFacts:
    """What an ended session contributes: its span and terms, and its samples' totals."""

    session_id: str
    host_id: str
    machine_class: str
    started_at: datetime
    ended_at: datetime
    currency: str
    cost_minor: int
    covered_us: int = 0
    idle_us: int = 0  # covered time of samples below IDLE_BELOW
    cpu_busy_us: int = 0
    cores: int = 0
    gpu_us: int = 0  # time each GPU was attached, summed over GPUs
    gpu_busy: int = 0  # utilisation percent x microseconds, summed over GPUs
    rx_bytes: int = 0
    tx_bytes: int = 0


@dataclass
class Utilisation:
    """Exact sums over the rented time that samples cover."""

    covered_us: int = 0
    idle_us: int = 0
    cpu_busy_us: int = 0
    cpu_capacity_us: int = 0  # covered time x logical cores (machines that reported their cores)
    gpu_us: int = 0
    gpu_busy: int = 0
    rx_bytes: int = 0
    tx_bytes: int = 0

    def add(self, facts: SessionFacts) -> None:
        self.covered_us += facts.covered_us
        self.idle_us += facts.idle_us
        self.cpu_busy_us += facts.cpu_busy_us if facts.cores else 0
        self.cpu_capacity_us += facts.covered_us * facts.cores
        self.gpu_us += facts.gpu_us
        self.gpu_busy += facts.gpu_busy
        self.rx_bytes += facts.rx_bytes
        self.tx_bytes += facts.tx_bytes

    @property
    def idle_share(self) -> float:
        return self.idle_us / self.covered_us if self.covered_us else 0.0

    @property
    def cpu_share(self) -> float:
        return self.cpu_busy_us / self.cpu_capacity_us if self.cpu_capacity_us else 0.0

    @property
    def gpu_share(self) -> float:
        return self.gpu_busy / self.gpu_us / 100 if self.gpu_us else 0.0


@dataclass
class TopUps:
    """A wallet's top-ups in one currency and the balance each found."""

    count: int = 0
    total_minor: int = 0
    balance_before_minor: int = 0  # summed over top-ups: divided by count, the usual balance at a top-up
    lowest_before_minor: int | None = None


@dataclass
class RenterBehaviour:
    """A renter's profile. `hours_us`: rented time by hour of week in the renter's zone."""

    sessions: int = 0
    rented_us: int = 0
    night_us: int = 0
    hours_us: list[int] = field(default_factory=lambda: [0] * HOURS_OF_WEEK)
    lengths: list[int] = field(default_factory=lambda: [0] * len(LENGTH_LABELS))
    classes: dict[str, int] = field(default_factory=dict)  # class -> rented microseconds
    use: Utilisation = field(default_factory=Utilisation)
    spend: dict[str, dict[str, int]] = field(default_factory=dict)  # currency -> local Monday -> minor
    wallet: dict[str, int] = field(default_factory=dict)  # currency -> balance in minor units
    top_ups: dict[str, TopUps] = field(default_factory=dict)
    first_at: str = ""
    last_at: str = ""

    def fold_session(self, facts: SessionFacts, zone: tzinfo) -> None:
        duration = 0
        for hour, us in by_hour_of_week(facts.started_at, facts.ended_at, zone):
            self.hours_us[hour] += us
            self.night_us += us if hour % 24 in NIGHT_HOURS else 0
            duration += us
        self.sessions += 1
        self.rented_us += duration
        self.lengths[length_bucket(duration)] += 1
        self.classes[facts.machine_class] = self.classes.get(facts.machine_class, 0) + duration
        self.use.add(facts)
        weeks = self.spend.setdefault(facts.currency, {})
        week = week_of(facts.started_at, zone).isoformat()
        weeks[week] = weeks.get(week, 0) + facts.cost_minor
        for old in sorted(weeks)[:-WEEKS_KEPT]:
            del weeks[old]
        started, ended = facts.started_at.isoformat(), facts.ended_at.isoformat()
        self.first_at = min(self.first_at or started, started)
        self.last_at = max(self.last_at, ended)

    def fold_wallet_entry(self, kind: str, currency: str, amount_minor: int) -> None:
        """A ledger entry on the renter's wallet account (credits are negative: the wallet is a liability)."""
        before = self.wallet.get(currency, 0)
        if kind == "top-up":
            top_ups = self.top_ups.setdefault(currency, TopUps())
            top_ups.count += 1
            top_ups.total_minor += -amount_minor
            top_ups.balance_before_minor += before
            lowest = top_ups.lowest_before_minor
            top_ups.lowest_before_minor = before if lowest is None else min(lowest, before)
        self.wallet[currency] = before - amount_minor

    def to_data(self) -> dict[str, Any]:
        data = _shallow(self)
        data["use"] = _shallow(self.use)
        data["top_ups"] = {currency: _shallow(t) for currency, t in self.top_ups.items()}
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> RenterBehaviour:
        values = dict(data)
        values["use"] = Utilisation(**data.get("use", {}))
        values["top_ups"] = {c: TopUps(**t) for c, t in data.get("top_ups", {}).items()}
        return cls(**values)


@dataclass
class ClassOccupancy:
    """One host's machines of one class: rented time by UTC hour of week, revenue, utilisation."""

    sessions: int = 0
    rented_us: int = 0
    hours_us: list[int] = field(default_factory=lambda: [0] * HOURS_OF_WEEK)
    revenue: dict[str, int] = field(default_factory=dict)  # currency -> minor units (rated cost)
    use: Utilisation = field(default_factory=Utilisation)
    first_at: str = ""

    def fold_session(self, facts: SessionFacts, zone: tzinfo) -> None:
        for hour, us in by_hour_of_week(facts.started_at, facts.ended_at, zone):
            self.hours_us[hour] += us
            self.rented_us += us
        self.sessions += 1
        self.revenue[facts.currency] = self.revenue.get(facts.currency, 0) + facts.cost_minor
        self.use.add(facts)
        started = facts.started_at.isoformat()
        self.first_at = min(self.first_at or started, started)

    def merge(self, other: ClassOccupancy) -> None:
        """Add another host's profile of the same class (the provider's view)."""
        self.sessions += other.sessions
        self.rented_us += other.rented_us
        self.hours_us = [a + b for a, b in zip(self.hours_us, other.hours_us, strict=True)]
        for currency, minor in other.revenue.items():
            self.revenue[currency] = self.revenue.get(currency, 0) + minor
        for name in vars(self.use):
            setattr(self.use, name, getattr(self.use, name) + getattr(other.use, name))
        if other.first_at:
            self.first_at = min(self.first_at or other.first_at, other.first_at)

    def to_data(self) -> dict[str, Any]:
        data = _shallow(self)
        data["use"] = _shallow(self.use)
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ClassOccupancy:
        values = dict(data)
        values["use"] = Utilisation(**data.get("use", {}))
        return cls(**values)


def _shallow(value: object) -> dict[str, Any]:
    """A dataclass's fields as JSON-ready values: lists and dicts copied one level deep (asdict's deep
    copy is the profile job's hot spot)."""
    data: dict[str, Any] = {}
    for f in fields(value):  # type: ignore[arg-type]
        item = getattr(value, f.name)
        data[f.name] = (
            list(item) if isinstance(item, list) else dict(item) if isinstance(item, dict) else item
        )
    return data
