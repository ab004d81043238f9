"""How a quantity becomes an amount: a unit price, or standard / graduated / volume / package tiers.

Every pricing is a function amount(quantity) of the cumulative quantity of a session, so that rating a
session in pieces (amount(after) - amount(before)) adds up to rating it whole.

- standard: quantity x price.
- graduated: each tier's units at that tier's price (first 10 h at 2.00, the next at 1.50, ...), plus the
  flat fee of every tier entered.
- volume: all units at the price of the tier the total falls in, plus that tier's flat fee.
- package: whole packages of `package_size` units, rounded up, at `price` per package.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from billing.errors import InvalidPlan

MODES = ("standard", "graduated", "volume", "package")


@dataclass(frozen=True, slots=True)
class Tier:
    """Units up to `up_to` (cumulative; None = no limit) at `price` each, plus `flat` once entered."""

    up_to: Decimal | None
    price: Decimal
    flat: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Pricing:
    mode: str = "standard"
    price: Decimal = Decimal(0)
    tiers: tuple[Tier, ...] = ()
    package_size: Decimal = Decimal(1)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InvalidPlan(f"mode: {self.mode!r} is not one of {', '.join(MODES)}")
        if self.mode in ("graduated", "volume"):
            if not self.tiers:
                raise InvalidPlan(f"tiers: {self.mode} pricing needs at least one tier")
            bounds = [t.up_to for t in self.tiers]
            if any(b is None for b in bounds[:-1]) or bounds[-1] is not None:
                raise InvalidPlan("tiers: only the last tier may (and must) have no up_to limit")
            limits = [b for b in bounds if b is not None]
            if any(b <= 0 for b in limits) or limits != sorted(set(limits)):
                raise InvalidPlan("tiers: up_to limits must be positive and increasing")
        elif self.tiers:
            raise InvalidPlan(f"tiers: {self.mode} pricing takes a price, not tiers")
        if self.mode == "package" and self.package_size <= 0:
            raise InvalidPlan("package: the package size must be positive")

    def amount(self, quantity: Fraction) -> Fraction:
        """Exact amount for a cumulative `quantity` (>= 0) of units."""
        if quantity <= 0:
            return Fraction(0)
        if self.mode == "standard":
            return quantity * Fraction(self.price)
        if self.mode == "package":
            packages = -(-quantity // Fraction(self.package_size))
            return packages * Fraction(self.price)
        if self.mode == "volume":
            tier = next(t for t in self.tiers if t.up_to is None or quantity <= t.up_to)
            return quantity * Fraction(tier.price) + Fraction(tier.flat)
        total, lower = Fraction(0), Fraction(0)
        for tier in self.tiers:
            upper = quantity if tier.up_to is None else min(quantity, Fraction(tier.up_to))
            total += (upper - lower) * Fraction(tier.price) + Fraction(tier.flat)
            if tier.up_to is None or quantity <= tier.up_to:
                break
            lower = Fraction(tier.up_to)
        return total

    def describe(self, currency: str, unit: str) -> str:
        if self.mode == "standard":
            return f"{self.price:f} {currency}/{unit}"
        if self.mode == "package":
            return f"{self.price:f} {currency} per {_plain(self.package_size)} {unit}"
        parts = []
        lower = Decimal(0)
        for tier in self.tiers:
            span = (
                f"{_plain(lower)}-{_plain(tier.up_to)}" if tier.up_to is not None else f"over {_plain(lower)}"
            )
            flat = f" + {_plain(tier.flat)} {currency}" if tier.flat else ""
            parts.append(f"{span} {unit}: {tier.price:f} {currency}/{unit}{flat}")
            lower = tier.up_to or lower
        return f"{self.mode} tiers (" + "; ".join(parts) + ")"


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")
