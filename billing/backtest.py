"""Backtests of a demand-price policy: stored demand replayed under the policy with a stated response.

The model, per machine class and step of the policy (e.g. each hour), in time order:
- static demand D0 is the machine time rented in the step, as stored (what happened at static prices);
- capacity is the class's machines times the step's length;
- the step's multiplier m follows the occupancy of the step before it under the policy (as the pricing job
  sees occupancy now), within floor, cap and max change (the first step moves from the static price,
  following its own stored occupancy);
- demand responds to the price with constant elasticity E: D = D0 x m^(-E), at most the capacity;
- revenue is the plan's time price of the class in the step (the billing engine's quote for one machine,
  windows included), per second, times the rented time: static D0 at x1, dynamic D at x m.

Deterministic: exact fractions throughout; m^(-E) is computed in a fixed decimal context (28 digits).
Only rental time is priced (traffic, minimums and session caps are left out of both sides alike).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Context, Decimal
from fractions import Fraction

from billing.dynamic import HOUR_US, DemandPolicy
from billing.plan import PricePlan, RentalTerms
from billing.quote import quote

_POWER = Context(prec=28)
_MICRO = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class StepDemand:
    """What happened in one step: rented machine time (microseconds) and machines of the class."""

    start: datetime
    occupied_us: int
    machines: int


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """One class over the replayed span, static prices beside the policy's (money in major units)."""

    machine_class: str
    steps: int
    capacity_us: int
    static_occupied_us: Fraction
    dynamic_occupied_us: Fraction
    static_revenue: Fraction
    dynamic_revenue: Fraction
    multipliers: tuple[Decimal, ...]

    @staticmethod
    def _share(part: Fraction, whole: int) -> Fraction:
        """part / whole, 0 for an empty whole."""
        return part / whole if whole else Fraction(0)

    @property
    def static_occupancy(self) -> Fraction:
        return self._share(self.static_occupied_us, self.capacity_us)

    @property
    def dynamic_occupancy(self) -> Fraction:
        return self._share(self.dynamic_occupied_us, self.capacity_us)

    @property
    def static_price_per_hour(self) -> Fraction:
        """Average price of a rented hour at static prices."""
        return self._per_hour(self.static_revenue, self.static_occupied_us)

    @property
    def dynamic_price_per_hour(self) -> Fraction:
        """Average price of a rented hour under the policy."""
        return self._per_hour(self.dynamic_revenue, self.dynamic_occupied_us)

    @staticmethod
    def _per_hour(revenue: Fraction, occupied_us: Fraction) -> Fraction:
        return revenue * HOUR_US / occupied_us if occupied_us else Fraction(0)


def response(multiplier: Decimal, elasticity: Decimal) -> Fraction:
    """m^(-E): how demand scales at a price `multiplier` times the static one."""
    if elasticity == 0 or multiplier == 1:
        return Fraction(1)
    return Fraction(_POWER.power(multiplier, -elasticity))


def backtest_class(
    plan: PricePlan,
    policy: DemandPolicy,
    machine_class: str,
    steps: Sequence[StepDemand],
    elasticity: Decimal,
) -> BacktestResult:
    """Replay `steps` (in time order, each one policy step long) of `machine_class` under `policy`."""
    length = policy.step_us
    previous: Decimal | None = None
    # The step before the first is not replayed: the first step's own occupancy stands in for it.
    first = steps[0] if steps else None
    last_occupancy = (
        Fraction(first.occupied_us, first.machines * length) if first and first.machines else Fraction(0)
    )
    static_used = dynamic_used = static_money = dynamic_money = Fraction(0)
    capacity_total = 0
    multipliers = []
    for step in steps:
        capacity = step.machines * length
        multiplier = previous = policy.next_multiplier(previous, last_occupancy)
        multipliers.append(multiplier)
        demand = min(Fraction(step.occupied_us) * response(multiplier, elasticity), Fraction(capacity))
        per_us = _price_per_us(plan, machine_class, step.start, length)
        static_used += step.occupied_us
        dynamic_used += demand
        static_money += per_us * step.occupied_us
        dynamic_money += per_us * Fraction(multiplier) * demand
        capacity_total += capacity
        last_occupancy = demand / capacity if capacity else Fraction(0)
    return BacktestResult(machine_class, len(steps), capacity_total, static_used, dynamic_used,
                          static_money, dynamic_money, tuple(multipliers))  # fmt: skip


def _price_per_us(plan: PricePlan, machine_class: str, start: datetime, length_us: int) -> Fraction:
    """The plan's static time price of one machine of the class over the step, per microsecond."""
    charges = quote([plan], RentalTerms(machine_class), start, start + length_us * _MICRO)
    usage = sum((Fraction(c.amount) for c in charges if c.pieces), Fraction(0))
    return usage / length_us
