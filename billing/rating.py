"""Rating: turn measured usage into charges under a price plan, at full precision."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from billing.errors import NotRated
from billing.money import EXACT
from billing.plan import PricePlan

SECONDS_PER_HOUR = 3600


@dataclass(frozen=True, slots=True)
class Usage:
    """Usage of one machine inside one billing window.

    covered_us: microseconds of the window covered by the machine's reports (silence is not billed).
    net_rx_bytes / net_tx_bytes: bytes received / sent, from samples that start inside the window.
    """

    covered_us: int = 0
    net_rx_bytes: int = 0
    net_tx_bytes: int = 0

    def __post_init__(self) -> None:
        for name in ("covered_us", "net_rx_bytes", "net_tx_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative int, got {value!r}")

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.covered_us + other.covered_us,
            self.net_rx_bytes + other.net_rx_bytes,
            self.net_tx_bytes + other.net_tx_bytes,
        )


@dataclass(frozen=True, slots=True)
class Charge:
    """One priced meter, with what it was derived from.

    quantity is in `unit` ("s" or "GB"); rate is the plan's price per `rate_unit` ("h" or "GB");
    amount = quantity x rate (converted between units) at full precision, in `currency`, unrounded.
    """

    meter: str
    description: str
    quantity: Decimal
    unit: str
    rate: Decimal
    rate_unit: str
    amount: Decimal
    currency: str


def billed_time_us(covered_us: int, increment_us: int = 1, minimum_us: int = 0) -> int:
    """Covered time rounded up to whole increments, and at least the minimum once anything is covered."""
    if covered_us <= 0:
        return 0
    rounded = -(-covered_us // increment_us) * increment_us
    return max(rounded, minimum_us)


def _rule(plan: PricePlan) -> str:
    parts = []
    if plan.increment_us > 1:
        parts.append(f"billed per {Decimal(plan.increment_us).scaleb(-6).normalize():f} s")
    if plan.minimum_us:
        parts.append(f"minimum {Decimal(plan.minimum_us).scaleb(-6).normalize():f} s")
    return "; " + ", ".join(parts) if parts else ""


def rate_usage(usage: Usage, plan: PricePlan, machine_class: str) -> list[Charge]:
    """Price `usage` of a machine of `machine_class` under `plan`.

    Always returns the time charge, then the traffic charges whose price is not zero. Raises NotRated
    when the plan has no rate for the machine class.
    """
    hourly = plan.hourly_rate(machine_class)
    if hourly is None:
        raise NotRated(f"plan {plan.name!r} has no hourly rate for machine class {machine_class!r}")
    billed_us = billed_time_us(usage.covered_us, plan.increment_us, plan.minimum_us)
    seconds = Decimal(billed_us).scaleb(-6)
    description = f"rental time, {machine_class}"
    if billed_us != usage.covered_us:
        description += f" ({Decimal(usage.covered_us).scaleb(-6).normalize():f} s covered{_rule(plan)})"
    charges = [
        Charge(
            meter="time",
            description=description,
            quantity=seconds,
            unit="s",
            rate=hourly,
            rate_unit="h",
            amount=EXACT.divide(EXACT.multiply(seconds, hourly), Decimal(SECONDS_PER_HOUR)),
            currency=plan.currency,
        )
    ]
    for meter, description, byte_count, price in (
        ("traffic_in", "network traffic received", usage.net_rx_bytes, plan.traffic_in_per_gb),
        ("traffic_out", "network traffic sent", usage.net_tx_bytes, plan.traffic_out_per_gb),
    ):
        if price == 0:
            continue
        gigabytes = Decimal(byte_count).scaleb(-9)
        charges.append(
            Charge(
                meter=meter,
                description=description,
                quantity=gigabytes,
                unit="GB",
                rate=price,
                rate_unit="GB",
                amount=EXACT.multiply(gigabytes, price),
                currency=plan.currency,
            )
        )
    return charges
