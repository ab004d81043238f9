"""Invoice lines: charges rounded once, per line; totals are sums of rounded lines."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from billing.charges import Charge
from billing.errors import BillingError, CurrencyMismatch
from billing.money import Money, exponent
from billing.numbers import check_range


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


def plain(value: Decimal) -> str:
    """A decimal as plain text without exponent or trailing zeros ("90.5", "0", "1200")."""
    return format(value.normalize(), "f")


def rate_text(rate: str, currency: str, rate_unit: str) -> str:
    """A line's rate as printed, the one way rates are written everywhere: "2.90 EUR/h" (at least the
    currency's minor digits: 2.9 -> 2.90, 0.0125 stays), "19 %", or nothing for fixed amounts (caps,
    minimums)."""
    if rate_unit == "%":
        return f"{rate} %"
    return f"{_with_minor_digits(rate, currency)} {currency}/{rate_unit}" if rate_unit else ""


def _with_minor_digits(rate: str, currency: str) -> str:
    try:
        value, digits = Decimal(rate), exponent(currency)
    except (ArithmeticError, BillingError):  # not a number or an unknown currency: printed as it came
        return rate
    places = value.as_tuple().exponent
    if not value.is_finite() or not isinstance(places, int) or -places >= digits:
        return rate
    return format(value.quantize(Decimal(1).scaleb(-digits)), "f")


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
    """Sum of the lines' rounded amounts; every line must be in `currency`. AmountOutOfRange when the sum
    leaves the money range (billing/numbers.py)."""
    total = Money.zero(currency)
    for line in lines:
        if line.amount.currency != currency:
            raise CurrencyMismatch(currency, line.amount.currency)
        total = total + line.amount
    check_range(total.to_decimal(), currency, "total")
    return total


@dataclass(frozen=True, slots=True)
class Invoiced:
    """What earlier invoices already charged for one meter of one session."""

    quantity: Decimal
    minor: int


def period_lines(
    reference: str,
    before: Sequence[Charge],
    through: Sequence[Charge],
    invoiced: Mapping[str, Invoiced],
    *,
    in_period: bool = True,
) -> list[InvoiceLine]:
    """A session's lines for one billing period, from its cumulative charges at the period's start (`before`,
    recomputed with all usage known now) and end (`through`), and what earlier invoices charged.

    - period line: round(through) - round(before), for each meter when the session overlaps the period;
    - adjustment line: round(before) - invoiced, when usage for earlier periods arrived after their
      invoices were final (a final invoice never changes; the difference lands here).
    Over a session's life its lines add up, per meter, to the rounding of its whole charge, however the
    session was cut into periods.
    """
    start = {c.meter: c for c in before}
    end_by_meter = {c.meter: c for c in through}
    # A meter present only at the period's start (e.g. a minimum-charge line that later usage outgrew)
    # ends the period at zero.
    for meter, opening in start.items():
        if meter not in end_by_meter:
            end_by_meter[meter] = replace(opening, quantity=Decimal(0), amount=Decimal(0), pieces=())
    lines = []
    for meter, end in end_by_meter.items():
        begin = start.get(meter)
        begin_quantity = begin.quantity if begin else Decimal(0)
        begin_minor = Money.of(begin.amount, end.currency).minor if begin else 0
        done = invoiced.get(meter, Invoiced(Decimal(0), 0))
        if begin_minor != done.minor or begin_quantity != done.quantity:
            lines.append(_line(reference, end, f"adjustment: late usage, {end.description}",
                               begin_quantity - done.quantity, begin_minor - done.minor))  # fmt: skip
        if in_period:
            end_minor = Money.of(end.amount, end.currency).minor
            if end_minor != begin_minor or end.quantity != begin_quantity:
                lines.append(_line(reference, end, end.description, end.quantity - begin_quantity,
                                   end_minor - begin_minor))  # fmt: skip
    return lines


def _line(reference: str, charge: Charge, description: str, quantity: Decimal, minor: int) -> InvoiceLine:
    return InvoiceLine(
        reference=reference,
        meter=charge.meter,
        description=description,
        quantity=quantity,
        unit=charge.unit,
        rate=charge.rate,
        rate_unit=charge.rate_unit,
        amount=Money(minor, charge.currency),
    )
