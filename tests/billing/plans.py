"""Building plans and rating usage in billing tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from billing import Charge, Money, PricePlan, RentalTerms, Usage, parse_plan, rate, simple_document

T0 = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday


def simple_plan(
    hourly: dict[str, str],
    traffic_in: str = "",
    traffic_out: str = "",
    *,
    increment: str = "",
    minimum: str = "",
    currency: str = "EUR",
) -> PricePlan:
    """A plan with hourly rates per class and traffic prices (zero prices left out)."""
    traffic_in = "" if traffic_in.strip("0.") == "" else traffic_in
    traffic_out = "" if traffic_out.strip("0.") == "" else traffic_out
    document = simple_document(
        "p", currency, hourly, traffic_in, traffic_out, increment=increment, minimum=minimum
    )
    return parse_plan(document)


def rate_once(usage: Usage, plan: PricePlan, machine_class: str = "c") -> list[Charge]:
    """Charges of `usage` measured in one stretch under a plan without windows or daily caps."""
    return rate([plan], RentalTerms(machine_class), T0, T0 + timedelta(days=1), lambda a, b: usage)


def total(charges: list[Charge], currency: str = "EUR") -> Money:
    return Money(sum(Money.of(c.amount, currency).minor for c in charges), currency)
