"""Charges: priced usage before rounding, with the derivation behind each."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from billing.window_caps import Occurrence


@dataclass(frozen=True, slots=True)
class Piece:
    """One segment's contribution to a charge: the derivation behind an invoice line."""

    start: datetime
    end: datetime
    window: str
    quantity: Decimal  # in the charge's unit
    amount: Decimal  # full precision
    note: str = ""


@dataclass(frozen=True, slots=True)
class Charge:
    """One invoice line before rounding. `meter` is the line's key: the meter, plus the rule and version
    when the plan has more than one price for it ("time", "time#3", "time#1@v2", "discount", "tax:VAT").

    quantity is in `unit`; rate is the price per `rate_unit`; amount is at full precision in `currency`.
    """

    meter: str
    description: str
    quantity: Decimal
    unit: str
    rate: Decimal
    rate_unit: str
    amount: Decimal
    currency: str
    pieces: tuple[Piece, ...] = ()
    day_amounts: tuple[tuple[date | None, Fraction], ...] = field(default=(), repr=False, compare=False)
    # (occurrence of a capped window or None, local day or None, amount): what window caps apply to
    window_amounts: tuple[tuple[Occurrence | None, date | None, Fraction], ...] = field(
        default=(), repr=False, compare=False
    )
