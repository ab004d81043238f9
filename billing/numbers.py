"""The range of numbers rentmeter handles, and decimal text read within it.

The range: every amount the engine produces (a charge, a session's cost, an invoice total) and every amount
it accepts (a top-up, a credit, a plan's caps and fees) lies within ±MAX_MINOR minor units of its currency:
10,000,000,000,000.00 EUR, 1,000,000,000,000.000 BHD, 10^15 JPY. Storage and wire types are signed 64-bit
(±9.2 x 10^18), so sums of up to 9,000 such amounts (an invoice over many sessions, a ledger balance)
still fit. A unit price is at most MAX_PRICE_MINOR minor units per unit with at most PRICE_DECIMALS
decimals, and a multiplier (service level, window) at most MAX_MULTIPLIER: so the dearest hourly price,
scaled by both multipliers, for the longest quote (366 days = 8,784 hours) costs 10^9 x 100 x 8,784
= 8.8 x 10^14 minor units, inside the range. What can still leave it (usage far beyond any machine, a
per-second price at the ceiling for months) is refused by the engine's output check (AmountOutOfRange),
never written as a wrong or overflowing number.

Text is read with Decimal, never float; magnitudes are compared before any exact fraction is built, so a
number like 1e999999999 costs nothing.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from billing.errors import BillingError
from billing.money import Money, exponent

MAX_MINOR = 10**15
MAX_PRICE_MINOR = 10**9
PRICE_DECIMALS = 6
MAX_MULTIPLIER = Decimal(10)
MAX_PERCENT = Decimal(100)
RATIO_DECIMALS = 6  # multipliers and percentages
MAX_QUANTITY = Decimal(10**12)  # a plan's quantities (free allowance, tier limits, package size), resources
QUANTITY_DECIMALS = 9
# Beyond these a number is nonsense in any role; refused even in plans stored before the limits above.
SANE_DIGITS = 40
MAX_TEXT = 64


class InvalidAmount(BillingError):
    """A number given as text that cannot be used; the message starts with what it is ("amount: ...")."""


class AmountOutOfRange(BillingError):
    """An amount the engine would produce beyond ±MAX_MINOR minor units, e.g. from implausible usage."""

    def __init__(self, what: str, amount: Decimal, currency: str) -> None:
        super().__init__(
            f"{what}: {amount:.3E} {currency} is beyond the range rentmeter handles "
            f"(±{largest(currency)}, 10^15 minor units)"
        )
        self.what, self.amount, self.currency = what, amount, currency


def largest(currency: str) -> Money:
    """The largest amount of `currency` inside the range."""
    return Money(MAX_MINOR, currency)


def in_range(amount: Decimal, currency: str) -> bool:
    """Whether a full-precision amount rounds to within ±MAX_MINOR minor units (exact comparison)."""
    return abs(amount) <= Decimal(MAX_MINOR).scaleb(-exponent(currency))


def check_range(amount: Decimal, currency: str, what: str) -> None:
    """Raise AmountOutOfRange naming `what` when `amount` lies outside the range."""
    if not in_range(amount, currency):
        raise AmountOutOfRange(what, amount, currency)


def decimal_places(value: Decimal) -> int:
    """Decimals of a finite value, trailing zeros not counted ("1.50" -> 1, "1E+3" -> 0)."""
    _, digits, places = value.as_tuple()
    assert isinstance(places, int)
    zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return 0 if zeros == len(digits) else max(0, -(places + zeros))


def shown(text: str) -> str:
    """Client-supplied text as an error message quotes it: repr(), at most 40 characters of it."""
    return repr(text) if len(text) <= 40 else repr(text[:40]) + f"… ({len(text)} characters)"


def parse_decimal(text: str, what: str) -> Decimal:
    """A finite, non-negative decimal from text such as "1.20", within sane bounds (under 10^40, at most
    40 decimals); InvalidAmount naming `what` otherwise."""
    if not isinstance(text, str):
        raise InvalidAmount(f"{what}: must be given as text such as '1.20', not {type(text).__name__}")
    if len(text) > MAX_TEXT:
        raise InvalidAmount(f"{what}: {shown(text)} is not a decimal number of at most {MAX_TEXT} characters")
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidAmount(f"{what}: {shown(text)} is not a decimal number") from None
    if not value.is_finite() or value < 0:
        raise InvalidAmount(f"{what}: {shown(text)} must be a finite, non-negative number")
    if value and (value.adjusted() >= SANE_DIGITS or decimal_places(value) > SANE_DIGITS):
        raise InvalidAmount(f"{what}: {shown(text)} is out of any sensible range")
    return value


def limit(
    value: Decimal, what: str, *, places: int, maximum: Decimal, ceiling: str, text: str = ""
) -> Decimal:
    """`value`, unless it has more than `places` decimals or exceeds `maximum` (InvalidAmount; `ceiling`
    says what the maximum is, `text` is the value as written)."""
    quoted = shown(text) if text else repr(format(value, "f"))
    if decimal_places(value) > places:
        rule = f"have at most {places} decimals" if places else "be a whole number"
        raise InvalidAmount(f"{what}: {quoted} must {rule}")
    if value > maximum:
        raise InvalidAmount(f"{what}: {quoted} is more than {ceiling}")
    return value


def check_price(value: Decimal, currency: str, what: str, text: str = "") -> Decimal:
    """A unit price: at most PRICE_DECIMALS decimals and MAX_PRICE_MINOR minor units."""
    maximum = Decimal(MAX_PRICE_MINOR).scaleb(-exponent(currency))
    ceiling = f"the largest unit price, {Money.of(maximum, currency)}"
    return limit(value, what, places=PRICE_DECIMALS, maximum=maximum, ceiling=ceiling, text=text)


def check_amount(value: Decimal, currency: str, what: str, text: str = "") -> Decimal:
    """A fixed amount (a fee, cap, minimum charge, coupon, top-up, credit): whole minor units of
    `currency`, at most MAX_MINOR of them."""
    most = largest(currency)
    ceiling = f"{most}, the largest amount rentmeter handles"
    return limit(
        value, what, places=exponent(currency), maximum=most.to_decimal(), ceiling=ceiling, text=text
    )


def parse_money(text: str, currency: str, what: str) -> Money:
    """A positive amount of `currency` from text such as "12.50" (a top-up, a credit)."""
    value = check_amount(parse_decimal(text, what), currency, what, text)
    if not value:
        raise InvalidAmount(f"{what}: must be more than 0")
    return Money.of(value, currency)


def check_quantity(value: Decimal, what: str, text: str = "") -> Decimal:
    """A quantity of units (a free allowance, a tier limit, a resource held): at most MAX_QUANTITY, with
    at most QUANTITY_DECIMALS decimals."""
    ceiling = f"{MAX_QUANTITY:,}, the largest quantity allowed"
    return limit(value, what, places=QUANTITY_DECIMALS, maximum=MAX_QUANTITY, ceiling=ceiling, text=text)


def parse_quantity(text: str, what: str) -> Decimal:
    """A quantity from text such as "500" (check_quantity's limits)."""
    return check_quantity(parse_decimal(text, what), what, text)
