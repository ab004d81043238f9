"""Money as integer minor units of one currency, and the one rounding rule.

Rounding policy: quantities and prices keep full precision; an amount is rounded to the currency's
minor unit once, per invoice line, half up (0.005 EUR -> 0.01 EUR). An invoice total is the sum of its
rounded lines. Floats are refused everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal
from fractions import Fraction

from billing.errors import CurrencyMismatch, UnknownCurrency

# ISO 4217 minor-unit exponents of the currencies we accept.
CURRENCY_EXPONENTS: dict[str, int] = {
    "AUD": 2,
    "BRL": 2,
    "CAD": 2,
    "CHF": 2,
    "CNY": 2,
    "CZK": 2,
    "DKK": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "HUF": 2,
    "IDR": 2,
    "INR": 2,
    "JPY": 0,
    "KRW": 0,
    "MXN": 2,
    "NOK": 2,
    "NZD": 2,
    "PHP": 2,
    "PLN": 2,
    "RON": 2,
    "SEK": 2,
    "SGD": 2,
    "THB": 2,
    "TRY": 2,
    "TWD": 2,
    "USD": 2,
    "VND": 0,
    "ZAR": 2,
    "BHD": 3,
    "KWD": 3,
}

# Arithmetic context for every intermediate amount: far more digits than any bill needs, explicit so
# that results never depend on the ambient decimal context.
EXACT = Context(prec=60, rounding=ROUND_HALF_UP)


def to_decimal(value: Fraction) -> Decimal:
    """An exact fraction as a Decimal: exact when it terminates, else to 60 significant digits (far from
    any half-cent, so rounding it to minor units gives the same result as rounding the fraction)."""
    return EXACT.divide(Decimal(value.numerator), Decimal(value.denominator))


def round_half_up(value: Fraction) -> int:
    """An exact fraction of minor units rounded to whole ones, half away from zero (the project's rule)."""
    magnitude = int(abs(value) + Fraction(1, 2))
    return magnitude if value >= 0 else -magnitude


def exponent(currency: str) -> int:
    """Minor-unit exponent of an ISO 4217 currency (2 for EUR, 0 for JPY)."""
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise UnknownCurrency(currency) from None


def round_to_minor(amount: Decimal, currency: str) -> int:
    """Round a full-precision amount to integer minor units, half up. The project's only rounding."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"amount must be Decimal, not {type(amount).__name__}")
    scaled = amount.scaleb(exponent(currency), context=EXACT)
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP, context=EXACT))


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount: `minor` units (cents) of `currency`."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise TypeError(f"minor units must be int, not {type(self.minor).__name__}")
        exponent(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def of(cls, amount: Decimal, currency: str) -> Money:
        """Round a full-precision Decimal amount to Money."""
        return cls(round_to_minor(amount, currency), currency)

    def to_decimal(self) -> Decimal:
        return Decimal(self.minor).scaleb(-exponent(self.currency))

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency)
        return Money(self.minor + other.minor, self.currency)

    def __str__(self) -> str:
        places = exponent(self.currency)
        return f"{self.to_decimal():.{places}f} {self.currency}"
