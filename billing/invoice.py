"""Invoice lines: charges rounded once, per line; totals are sums of rounded lines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from billing.errors import CurrencyMismatch
from billing.money import Money
from billing.rating import Charge


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """A rounded charge, tied to what it bills (`reference`, e.g. a session id)."""

    reference: str
    meter: str
    description: str
    quantity: Decimal
    unit: str
    rate: Decimal
    rate_unit: str
    amount: Money


def build_lines(reference: str, charges: Iterable[Charge]) -> list[InvoiceLine]:
    """One invoice line per charge, each amount rounded to minor units (the only rounding step)."""
    return [
        InvoiceLine(
            reference=reference,
            meter=c.meter,
            description=c.description,
            quantity=c.quantity,
            unit=c.unit,
            rate=c.rate,
            rate_unit=c.rate_unit,
            amount=Money.of(c.amount, c.currency),
        )
        for c in charges
    ]


def invoice_total(lines: Sequence[InvoiceLine], currency: str) -> Money:
    """Sum of the lines' rounded amounts; every line must be in `currency`."""
    total = Money.zero(currency)
    for line in lines:
        if line.amount.currency != currency:
            raise CurrencyMismatch(currency, line.amount.currency)
        total = total + line.amount
    return total
