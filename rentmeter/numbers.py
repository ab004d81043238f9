"""Numbers from the command line: money and quantities as Decimal, counts as int, durations as whole
microseconds — never through float. NaN, infinities, negative and absurdly large values are refused with a
sentence (exit code 2) before anything is sent.

The limits here keep every value representable on the wire (uint64 bytes, uint32 counts) and refuse what
cannot be meant; the collector checks its own ranges beyond them (its sentence, exit code 1).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal, InvalidOperation

MAX_AMOUNT = Decimal(10) ** 12  # money: wallet top-ups, credit notes (in the currency's units)
MAX_GB = Decimal(10) ** 9  # expected traffic or memory of a quote: 10^18 bytes fits the wire's uint64
MAX_QUANTITY = Decimal(10) ** 12  # an extra resource held for a rental, e.g. storage=500 (GB)
MAX_COUNT = 1_000_000  # busy cores, GPUs of one model
MAX_ID = 2**63 - 1
MAX_SECONDS = Decimal(7 * 86_400)  # an agent's interval, the demo's duration


def _decimal(text: str) -> Decimal:
    """`text` as a finite Decimal; an ArgumentTypeError naming it otherwise."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def decimal_of(unit: str, maximum: Decimal, *, positive: bool = False) -> Callable[[str], Decimal]:
    """An argparse type: a decimal number of `unit`, from 0 (or above 0 when `positive`) to `maximum`."""

    def parse(text: str) -> Decimal:
        value = _decimal(text)
        if value < 0 or (positive and value == 0):
            raise argparse.ArgumentTypeError(f"{text!r} must be {'more than' if positive else 'at least'} 0")
        if value > maximum:
            raise argparse.ArgumentTypeError(f"{text!r} is more than {maximum:,f} {unit}".rstrip())
        return value

    return parse


def whole(what: str, maximum: int, *, minimum: int = 0) -> Callable[[str], int]:
    """An argparse type: a whole number from `minimum` to `maximum`."""

    def parse(text: str) -> int:
        if not (text.strip().isascii() and text.strip().isdigit()):
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (0, 1, 2, ...) of {what}")
        value = int(text)
        if not minimum <= value <= maximum:
            bounds = f"from {minimum} to {maximum:,} {what}".rstrip()
            raise argparse.ArgumentTypeError(f"{text!r} must be {bounds}")
        return value

    return parse


def amount(text: str) -> str:
    """An argparse type for money: a positive decimal up to MAX_AMOUNT, as plain text ("1e2" -> "100")."""
    return format(decimal_of("", MAX_AMOUNT, positive=True)(text), "f")


def signed_amount(text: str) -> str:
    """An argparse type for a correction: a decimal other than 0, negative or positive, at most MAX_AMOUNT
    either way, as plain text ("-5" -> "-5")."""
    magnitude = decimal_of("", MAX_AMOUNT, positive=True)(text.strip().removeprefix("-"))
    return format(-magnitude if text.strip().startswith("-") else magnitude, "f")


def seconds(text: str) -> float:
    """An argparse type: a positive number of seconds up to a week (an interval, not money)."""
    return float(decimal_of("seconds", MAX_SECONDS, positive=True)(text))


def gigabytes_to_bytes(value: Decimal) -> int:
    return int(value * 10**9)


def duration(longest: timedelta) -> Callable[[str], timedelta]:
    """An argparse type: a duration such as 90m, 2h or 1d, positive and at most `longest`."""

    def parse(text: str) -> timedelta:
        from billing.durations import parse_duration_us

        try:
            micros = parse_duration_us(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if micros > longest // timedelta(microseconds=1):
            raise argparse.ArgumentTypeError(f"{text!r} is longer than {longest.days} days")
        return timedelta(microseconds=micros)

    return parse
