"""Demand-based prices: a plan's `[dynamic]` policy and the multipliers it publishes.

A policy turns the occupancy of a machine class (rented machines / machines online, 0..1) into a demand
multiplier on the class's usage prices: `floor` at or below occupancy `low`, `cap` at or above `high`,
linear in between (or a `curve` table: each row's multiplier from its occupancy up). Multipliers are
published per step (e.g. one hour, aligned to multiples of the step since the Unix epoch in UTC), up to
`publish_ahead` in advance; a step moves at most `max_change` from the step before it and stays within
[floor, cap]. Every multiplier is rounded half up to 0.01 (floor, cap and max_change have at most two
decimals, so the rounded value keeps to them).

A session locks the multiplier in force when it starts for its whole span (`lock = "session"`, the
default) or for a lock period (`lock = "4h"`: then again the multiplier published for each lock period's
start). Rating applies the locks carried in the session's terms (`RentalTerms.demand`), so a renter never
pays a price that was not published before it applied.

Pure and exact: Decimal and Fraction only, no clock, no randomness.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from billing.errors import InvalidPlan
from billing.money import EXACT

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
MAX_AHEAD_US = 7 * DAY_US
MULTIPLIER_QUANTUM = Decimal("0.01")
ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """From `occupancy` (0..1) up, the multiplier is `multiplier` (until the next point's occupancy)."""

    occupancy: Decimal
    multiplier: Decimal


@dataclass(frozen=True, slots=True)
class DemandPolicy:
    """How one machine class's (or, with machine_class "", every class's) prices follow demand."""

    machine_class: str
    floor: Decimal
    cap: Decimal
    max_change: Decimal  # the most a step's multiplier differs from the step before it
    step_us: int = HOUR_US
    low: Decimal = Decimal("0.3")  # occupancy at or below which the floor applies (linear curve)
    high: Decimal = Decimal("0.9")  # occupancy at or above which the cap applies (linear curve)
    curve: tuple[CurvePoint, ...] = ()  # a table instead of the linear curve
    publish_ahead_us: int = 24 * HOUR_US
    lock_us: int | None = None  # None: the whole session

    def __post_init__(self) -> None:
        for name in ("floor", "cap", "max_change"):
            value: Decimal = getattr(self, name)
            if value != value.quantize(MULTIPLIER_QUANTUM, context=EXACT):
                raise InvalidPlan(f"{name}: a multiplier of dynamic prices has at most 2 decimals")
        if not Decimal(0) < self.floor <= self.cap:
            raise InvalidPlan("cap: floor must be above 0 and at most the cap")
        if self.max_change <= 0:
            raise InvalidPlan("max_change: must be more than 0")
        if not 60_000_000 <= self.step_us <= DAY_US or DAY_US % self.step_us:
            raise InvalidPlan("step: from 1 minute to 1 day, and a whole number of steps a day (15m, 1h, 4h)")
        if not self.step_us <= self.publish_ahead_us <= MAX_AHEAD_US:
            raise InvalidPlan("publish_ahead: at least one step and at most 7 days")
        if self.lock_us is not None and self.lock_us < self.step_us:
            raise InvalidPlan('lock: "session" or a duration of at least one step')
        if not self.curve and not Decimal(0) <= self.low < self.high <= ONE:
            raise InvalidPlan("high: occupancies satisfy 0 <= low < high <= 1")
        occupancies = [p.occupancy for p in self.curve]
        if occupancies and (occupancies != sorted(set(occupancies)) or occupancies[-1] > ONE):
            raise InvalidPlan("curve: occupancies rise from row to row and are at most 1")
        for point in self.curve:
            if not self.floor <= point.multiplier <= self.cap:
                raise InvalidPlan("curve: every multiplier lies between floor and cap")

    def describe(self) -> str:
        """One line, e.g. "demand prices (standard): x0.8-x1.5, ...", for `plan show` and `explain`."""
        floor, cap = _plain(self.floor), _plain(self.cap)
        if self.curve:
            curve = ", ".join(
                f"x{_plain(p.multiplier)} from {_plain(p.occupancy * 100)} %" for p in self.curve
            )
        else:
            low, high = _plain(self.low * 100), _plain(self.high * 100)
            curve = f"x{floor} up to {low} % occupancy, x{cap} from {high} %"
        lock = "the whole session" if self.lock_us is None else f"{_hours(self.lock_us)} h"
        return (
            f"demand prices ({self.machine_class or 'every class'}): x{floor}-x{cap}, {curve}, at most "
            f"{_plain(self.max_change)} a step of {_hours(self.step_us)} h, published "
            f"{_hours(self.publish_ahead_us)} h ahead, locked for {lock}"
        )

    def target(self, occupancy: Fraction) -> Fraction:
        """The multiplier the curve gives for `occupancy` (clamped to 0..1), before any step limit."""
        occupancy = min(max(occupancy, Fraction(0)), Fraction(1))
        if self.curve:
            chosen = self.floor
            for point in self.curve:
                if Fraction(point.occupancy) <= occupancy:
                    chosen = point.multiplier
            return Fraction(chosen)
        low, high, floor, cap = map(Fraction, (self.low, self.high, self.floor, self.cap))
        if occupancy <= low:
            return floor
        if occupancy >= high:
            return cap
        return floor + (cap - floor) * (occupancy - low) / (high - low)

    def next_multiplier(self, previous: Decimal | None, occupancy: Fraction) -> Decimal:
        """The multiplier of a step after one at `previous` (None: none published yet, so 1 — the static
        price — clamped to [floor, cap]), moving towards the curve's target by at most max_change."""
        before = Fraction(min(max(previous if previous is not None else ONE, self.floor), self.cap))
        lower = max(Fraction(self.floor), before - Fraction(self.max_change))
        upper = min(Fraction(self.cap), before + Fraction(self.max_change))
        return round_multiplier(min(max(self.target(occupancy), lower), upper))

    def step_start(self, moment: datetime) -> datetime:
        """Start of the step containing `moment`."""
        offset = (moment - EPOCH) // timedelta(microseconds=1)
        return EPOCH + timedelta(microseconds=offset - offset % self.step_us)

    def steps_to_publish(self, now: datetime, published_until: datetime | None) -> list[datetime]:
        """Starts of the steps to publish at `now`: from the later of the next step start at or after
        `now` and `published_until`, up to `now + publish_ahead`. A step is only ever published before it
        begins, so what applied at any past moment is settled."""
        step = timedelta(microseconds=self.step_us)
        first = self.step_start(now)
        if first < now:
            first += step
        if published_until is not None and published_until > first:
            first = self.step_start(published_until)
            if first < published_until:
                first += step
        horizon = now + timedelta(microseconds=self.publish_ahead_us)
        starts = []
        while first < horizon:
            starts.append(first)
            first += step
        return starts


def round_multiplier(value: Fraction) -> Decimal:
    """`value` (not negative) rounded half up to 0.01, computed on the exact fraction."""
    whole, rest = divmod(value.numerator * 100, value.denominator)
    if 2 * rest >= value.denominator:
        whole += 1
    return Decimal(whole).scaleb(-2)


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _hours(micros: int) -> str:
    return _plain(Decimal(micros) / HOUR_US)


def policy_for(policies: Sequence[DemandPolicy], machine_class: str) -> DemandPolicy | None:
    """The policy of `machine_class`: the one naming it, else the one for every class, else None."""
    named = next((p for p in policies if p.machine_class == machine_class), None)
    return named or next((p for p in policies if not p.machine_class), None)


@dataclass(frozen=True, slots=True)
class PriceLock:
    """From `since` on (until the next lock), a session's usage prices are scaled by `multiplier`."""

    since: datetime
    multiplier: Decimal

    def label(self, session_start: datetime | None) -> str:
        """How an invoice line names it, e.g. "x1.20 demand price, locked at start"."""
        when = "start" if self.since == session_start else self.since.astimezone(UTC).isoformat()
        return (
            f"x{self.multiplier.quantize(MULTIPLIER_QUANTUM, context=EXACT)} demand price, locked at {when}"
        )


def lock_at(locks: Sequence[PriceLock], moment: datetime) -> PriceLock | None:
    """The lock in force at `moment` (locks sorted by `since`), or None before the first."""
    found = None
    for lock in locks:
        if lock.since <= moment:
            found = lock
    return found


def lock_starts(start: datetime, until: datetime, lock_us: int | None) -> list[datetime]:
    """When a session started at `start` takes a new lock, up to `until` (inclusive): its start, then
    every lock period after it (only its start when the lock is the whole session)."""
    if lock_us is None:
        return [start]
    period = timedelta(microseconds=lock_us)
    starts, moment = [], start
    while moment <= until:
        starts.append(moment)
        moment += period
    return starts
