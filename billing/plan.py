"""Price plans: what one hour of a machine class and one GB of traffic cost."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from types import MappingProxyType

from billing.errors import BillingError, InvalidPlan
from billing.money import exponent


def parse_price(text: str, what: str) -> Decimal:
    """Parse a non-negative decimal price such as "1.20"; InvalidPlan names `what` otherwise."""
    if not isinstance(text, str):
        raise InvalidPlan(f"{what}: price must be given as text such as '1.20', not {type(text).__name__}")
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidPlan(f"{what}: {text!r} is not a decimal number") from None
    if not value.is_finite() or value < 0:
        raise InvalidPlan(f"{what}: {text!r} must be a finite, non-negative number")
    return value


@dataclass(frozen=True)
class PricePlan:
    """A named price list in one currency.

    hourly_rates: price of one hour of covered rental time per machine class, billed per second.
    traffic_in_per_gb / traffic_out_per_gb: price per GB (10^9 bytes) received / sent by the machine.
    increment_us: a session's covered time is billed in whole increments, rounded up (1 = per microsecond).
    minimum_us: a session with any covered time is billed at least this long (0 = no minimum).
    """

    name: str
    currency: str
    hourly_rates: Mapping[str, Decimal]
    traffic_in_per_gb: Decimal = Decimal(0)
    traffic_out_per_gb: Decimal = Decimal(0)
    increment_us: int = 1
    minimum_us: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.increment_us, int) or not 1 <= self.increment_us <= 86_400_000_000:
            raise InvalidPlan("increment: must be between 1 microsecond and 1 day")
        if not isinstance(self.minimum_us, int) or not 0 <= self.minimum_us <= 31 * 86_400_000_000:
            raise InvalidPlan("minimum: must be between 0 and 31 days")
        if not self.name or not self.name.strip():
            raise InvalidPlan("name: a plan needs a name")
        try:
            exponent(self.currency)
        except BillingError as exc:
            raise InvalidPlan(f"currency: {exc}") from None
        if not self.hourly_rates:
            raise InvalidPlan("hourly_rates: give at least one machine class and its hourly price")
        for machine_class, rate in self.hourly_rates.items():
            _check_price(rate, f"hourly_rates[{machine_class}]")
        _check_price(self.traffic_in_per_gb, "traffic_in_per_gb")
        _check_price(self.traffic_out_per_gb, "traffic_out_per_gb")
        object.__setattr__(self, "hourly_rates", MappingProxyType(dict(self.hourly_rates)))

    @classmethod
    def from_text(
        cls,
        name: str,
        currency: str,
        hourly_rates: Mapping[str, str],
        traffic_in_per_gb: str = "0",
        traffic_out_per_gb: str = "0",
        increment_us: int = 1,
        minimum_us: int = 0,
    ) -> PricePlan:
        """Build a plan from decimal strings, as they come from files, the CLI and the wire."""
        return cls(
            name=name,
            currency=currency.strip().upper(),
            hourly_rates={k: parse_price(v, f"hourly_rates[{k}]") for k, v in hourly_rates.items()},
            traffic_in_per_gb=parse_price(traffic_in_per_gb or "0", "traffic_in_per_gb"),
            traffic_out_per_gb=parse_price(traffic_out_per_gb or "0", "traffic_out_per_gb"),
            increment_us=increment_us or 1,
            minimum_us=minimum_us,
        )

    def hourly_rate(self, machine_class: str) -> Decimal | None:
        return self.hourly_rates.get(machine_class)


def _check_price(value: object, what: str) -> None:
    if not isinstance(value, Decimal):
        raise InvalidPlan(f"{what}: price must be Decimal, not {type(value).__name__}")
    if not value.is_finite() or value < 0:
        raise InvalidPlan(f"{what}: {value} must be a finite, non-negative number")
