"""Plan documents: what they mean, and errors that name the line."""

from decimal import Decimal

import pytest

from billing.plan_file import PlanFileError, parse_plan

GOOD = """\
# the café's list
name = "cafe"
currency = "EUR"

[time]
increment = "1m"
minimum = "30m"

[time.hourly]
standard = "1.20"
gpu-a100 = 3

[traffic]
out_per_gb = "0.09"
"""


def test_a_document_becomes_a_plan() -> None:
    plan = parse_plan(GOOD)
    assert (plan.name, plan.currency, plan.increment_us, plan.minimum_us) == (
        "cafe",
        "EUR",
        60_000_000,
        1_800_000_000,
    )
    assert [(r.meter, r.machine_class, r.per, r.pricing.price) for r in plan.rules] == [
        ("time", "standard", "hour", Decimal("1.20")),
        ("time", "gpu-a100", "hour", Decimal(3)),
        ("traffic_out", "", "GB", Decimal("0.09")),
    ]


@pytest.mark.parametrize(
    ("change", "line", "words"),
    [
        (('currency = "EUR"', 'currency = "EURO"'), 3, "unknown currency 'EURO'"),
        (('standard = "1.20"', "standard = 1.20"), 10, "write amounts as text"),
        (('standard = "1.20"', 'standard = "-1"'), 10, "non-negative"),
        (("gpu-a100 = 3", 'gpu-a100 = "three"'), 11, "not a decimal number"),
        (('increment = "1m"', 'increment = "soon"'), 6, "'soon' is not a duration"),
        (('minimum = "30m"', 'minimum = "30m"\nmaximum = "2h"'), 8, "unknown key 'maximum' in [time]"),
        (('out_per_gb = "0.09"', "out_per_gb = [1]"), 14, "must be given as text"),
        (('name = "cafe"', "name = "), 2, "Invalid value"),
        (('name = "cafe"\n', ""), None, "name is required"),
    ],
)
def test_errors_name_the_line(change: tuple[str, str], line: int | None, words: str) -> None:
    with pytest.raises(PlanFileError) as error:
        parse_plan(GOOD.replace(*change), "cafe.toml")
    assert error.value.line == line and words in str(error.value)
    assert str(error.value).startswith(f"cafe.toml:{line}: " if line else "cafe.toml: ")


def test_hourly_prices_are_required() -> None:
    with pytest.raises(PlanFileError, match=r"cafe.toml: prices: give at least one price"):
        parse_plan('name = "x"\ncurrency = "EUR"\n', "cafe.toml")
