from decimal import Decimal

import pytest

from billing import CurrencyMismatch, Money, round_to_minor
from billing.errors import UnknownCurrency


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("0.005", "EUR", 1),  # half up
        ("0.0049999", "EUR", 0),
        ("-0.005", "EUR", -1),  # half away from zero for refunds
        ("12.345", "USD", 1235),
        ("0.5", "JPY", 1),
        ("0.0005", "KWD", 1),
        ("1E+3", "EUR", 100000),
    ],
)
def test_round_to_minor(amount: str, currency: str, minor: int) -> None:
    assert round_to_minor(Decimal(amount), currency) == minor


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        round_to_minor(0.1, "EUR")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(1.5, "EUR")  # type: ignore[arg-type]


def test_money_adds_only_within_a_currency() -> None:
    assert Money(150, "EUR") + Money(50, "EUR") == Money(200, "EUR")
    with pytest.raises(CurrencyMismatch):
        Money(1, "EUR") + Money(1, "USD")


def test_unknown_currency() -> None:
    with pytest.raises(UnknownCurrency, match="XYZ"):
        Money(1, "XYZ")


@pytest.mark.parametrize(
    ("money", "text"),
    [(Money(1234, "EUR"), "12.34 EUR"), (Money(-5, "USD"), "-0.05 USD"), (Money(7, "JPY"), "7 JPY")],
)
def test_display(money: Money, text: str) -> None:
    assert str(money) == text


@pytest.mark.parametrize(
    ("rate", "currency", "unit", "printed"),
    [
        ("2.9", "EUR", "h", "2.90 EUR/h"),  # rating normalizes 2.90 to 2.9; printed with the cents again
        ("36", "EUR", "h", "36.00 EUR/h"),
        ("0.0125", "EUR", "GB", "0.0125 EUR/GB"),  # finer than a cent: kept
        ("5", "JPY", "h", "5 JPY/h"),
        ("19", "EUR", "%", "19 %"),
        ("0", "EUR", "", ""),  # a fixed amount has no rate
    ],
)
def test_a_rate_is_printed_with_at_least_the_currencys_minor_digits(
    rate: str, currency: str, unit: str, printed: str
) -> None:
    from billing.invoice import rate_text

    assert rate_text(rate, currency, unit) == printed
