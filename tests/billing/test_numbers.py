"""The money range: text read within it, and an engine that refuses to produce an amount beyond it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from billing import (
    AmountOutOfRange,
    InvalidAmount,
    InvoiceLine,
    Money,
    RentalTerms,
    Usage,
    invoice_total,
    parse_money,
    parse_plan,
    parse_quantity,
    quote,
    rate,
)
from billing.numbers import MAX_MINOR, decimal_places
from tests.billing.plans import T0, simple_plan

INT64 = 2**63 - 1


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.50", "EUR", 1250),
        (" 7 ", "EUR", 700),
        ("1E+2", "EUR", 10000),
        ("10000000000000.00", "EUR", MAX_MINOR),
        ("1000000000000.000", "BHD", MAX_MINOR),
        ("0.001", "KWD", 1),
        ("1000000000000000", "JPY", MAX_MINOR),
    ],
)
def test_amounts_in_range_are_read_exactly(text: str, currency: str, minor: int) -> None:
    assert parse_money(text, currency, "amount") == Money(minor, currency)


@pytest.mark.parametrize(
    ("text", "currency", "words"),
    [
        ("1e20", "EUR", "amount: '1e20' is more than 10000000000000.00 EUR, the largest amount rentmeter"),
        ("1e70", "EUR", "amount: '1e70' is out of any sensible range"),
        ("10000000000000.01", "EUR", "is more than 10000000000000.00 EUR"),
        ("92233720368547758.08", "EUR", "is more than"),  # one minor unit beyond int64
        ("0.001", "EUR", "amount: '0.001' must have at most 2 decimals"),
        ("0.0001", "BHD", "must have at most 3 decimals"),
        ("0.5", "JPY", "amount: '0.5' must be a whole number"),
        ("0", "EUR", "amount: must be more than 0"),
        ("-5", "EUR", "amount: '-5' must be a finite, non-negative number"),
        ("NaN", "EUR", "must be a finite, non-negative number"),
        ("sNaN", "EUR", "must be a finite, non-negative number"),
        ("-inf", "EUR", "must be a finite, non-negative number"),
        ("Infinity", "EUR", "must be a finite, non-negative number"),
        ("1e999999999", "EUR", "'1e999999999' is out of any sensible range"),
        ("0." + "0" * 50 + "1", "EUR", "is out of any sensible range"),
        ("1" * 65, "EUR", "is not a decimal number of at most 64 characters"),
        ("12,50", "EUR", "amount: '12,50' is not a decimal number"),
        ("", "EUR", "amount: '' is not a decimal number"),
        ("5", "EURO", "unknown currency 'EURO'"),
    ],
)  # fmt: skip
def test_amounts_out_of_range_are_refused_with_a_sentence(text: str, currency: str, words: str) -> None:
    with pytest.raises(Exception) as error:
        parse_money(text, currency, "amount")
    assert words in str(error.value) and error.type.__module__.startswith("billing")


def test_quantities() -> None:
    assert parse_quantity("500", "storage") == 500
    assert parse_quantity("0.000000001", "storage") == Decimal("1e-9")
    for text, words in (("1e13", "is more than 1,000,000,000,000"), ("1e-10", "at most 9 decimals")):
        with pytest.raises(InvalidAmount, match=words):
            parse_quantity(text, "storage")


@pytest.mark.parametrize(
    ("text", "places"), [("1.50", 1), ("1E+3", 0), ("0.000", 0), ("0.0010", 3), ("7", 0)]
)
def test_decimal_places_ignore_trailing_zeros(text: str, places: int) -> None:
    assert decimal_places(Decimal(text)) == places


# The engine's output check.

LARGEST = parse_plan(
    'name = "p"\ncurrency = "EUR"\n[[prices]]\nmeter = "time"\nper = "second"\nprice = "10000000"\n'
)


def test_a_charge_beyond_the_range_names_its_meter() -> None:
    """10,000,000 EUR a second (the largest price) for 366 days is 3.2 x 10^14 EUR: beyond the range."""
    with pytest.raises(AmountOutOfRange) as error:
        quote([LARGEST], RentalTerms("c"), T0, T0 + timedelta(days=366))
    assert str(error.value) == (
        "time: 3.162E+14 EUR is beyond the range rentmeter handles"
        " (±10000000000000.00 EUR, 10^15 minor units)"
    )
    assert error.value.what == "time"


def test_the_range_ends_exactly_at_its_limit() -> None:
    """10^6 seconds at 10,000,000 EUR is 10^13 EUR, the largest amount: rated; one more second is not."""
    charges = quote([LARGEST], RentalTerms("c"), T0, T0 + timedelta(seconds=10**6))
    assert Money.of(charges[0].amount, "EUR").minor == MAX_MINOR
    with pytest.raises(AmountOutOfRange):
        quote([LARGEST], RentalTerms("c"), T0, T0 + timedelta(seconds=10**6 + 1))


@pytest.mark.parametrize(
    ("usage", "meter"),
    [
        # More traffic than any link carries: 10^30 bytes at 0.09 EUR/GB.
        (Usage(covered_us=1, net_tx_bytes=10**30), "traffic_out"),
        # Counters far beyond int64: before the check, rounding them raised decimal.InvalidOperation.
        (Usage(covered_us=10**70), "time"),
    ],
)
def test_implausible_usage_is_refused_not_rounded_or_overflowed(usage: Usage, meter: str) -> None:
    plan = simple_plan({"c": "1.20"}, traffic_out="0.09")
    with pytest.raises(AmountOutOfRange) as error:
        rate([plan], RentalTerms("c"), T0, T0 + timedelta(hours=1), lambda a, b: usage)
    assert error.value.what == meter and f"{meter}: " in str(error.value)


def test_a_session_total_beyond_the_range_is_refused_though_each_line_fits() -> None:
    """Two lines of 6 x 10^12 EUR each fit; their sum, what the session costs, does not."""
    plan = simple_plan({"c": "6000000"}, traffic_out="6000000")
    usage = Usage(covered_us=3600 * 10**6 * 10**6, net_tx_bytes=10**15)
    with pytest.raises(AmountOutOfRange, match=r"^session total: 1\.200E\+13 EUR is beyond"):
        rate([plan], RentalTerms("c"), T0, T0 + timedelta(hours=1), lambda a, b: usage)


def test_an_invoice_total_beyond_the_range_is_refused() -> None:
    line = InvoiceLine("s", "time", "", Decimal(1), "h", Decimal(1), "h", Money(MAX_MINOR, "EUR"))
    assert invoice_total([line], "EUR").minor == MAX_MINOR
    with pytest.raises(AmountOutOfRange, match=r"^total: "):
        invoice_total([line, line], "EUR")


def test_every_amount_inside_the_range_fits_storage_and_wire_with_room_for_sums() -> None:
    assert MAX_MINOR * 9000 < INT64
