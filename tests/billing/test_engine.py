"""The billing engine against hand-computed totals: windows, DST, tiers, caps, versions, terms, meters.

Each case is a price list (TOML) and a rental; the expected total is worked out by hand in the comment.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing import (
    BillingError,
    InvalidPlan,
    MachineProfile,
    Money,
    RentalTerms,
    Usage,
    build_lines,
    invoice_total,
    parse_plan,
    quote,
    rate,
)

BERLIN = ZoneInfo("Europe/Berlin")
HEAD = 'name = "p"\ncurrency = "EUR"\ntimezone = "Europe/Berlin"\n'

PEAK = (
    HEAD
    + """
[[windows]]
name = "peak"
days = "mon-fri"
from = "08:00"
to = "20:00"

[[prices]]
meter = "time"
price = "1.50"

[[prices]]
meter = "time"
window = "peak"
price = "3.00"
"""
)

NIGHT = (
    HEAD
    + """
[[windows]]
name = "night"
from = "22:00"
to = "06:00"

[[prices]]
meter = "time"
price = "2.00"

[[prices]]
meter = "time"
window = "night"
price = "1.00"
"""
)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)  # type: ignore[misc]


def total_of(charges) -> str:  # type: ignore[no-untyped-def]
    return str(invoice_total(build_lines("s", charges), "EUR"))


def quoted(document: str, start: datetime, hours: float, terms: RentalTerms | None = None, **usage) -> str:  # type: ignore[no-untyped-def]
    end = start + timedelta(hours=hours)
    return total_of(quote([parse_plan(document)], terms or RentalTerms("c"), start, end, **usage))


CASES = [
    # Peak ends at 20:00 on a Monday: 0.5 h x 3.00 + 0.5 h x 1.50.
    ("peak boundary", PEAK, local(2026, 1, 5, 19, 30), 1, {}, "2.25 EUR"),
    # Peak does not apply on Saturday: 2 h x 1.50.
    ("weekend", PEAK, local(2026, 1, 10, 9, 0), 2, {}, "3.00 EUR"),
    # Autumn DST night, 24-25 Oct 2026: 22:00 to 06:00 local is 9 real hours at 1.00.
    ("dst autumn night", NIGHT, local(2026, 10, 24, 22, 0), 9, {}, "9.00 EUR"),
    # Spring DST night, 28-29 Mar 2026: 22:00 to 06:00 local is 7 real hours at 1.00, then 1 h day at 2.00.
    ("dst spring night", NIGHT, local(2026, 3, 28, 22, 0), 8, {}, "9.00 EUR"),
]


@pytest.mark.parametrize(
    ("name", "document", "start", "hours", "usage", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_windows_and_dst(
    name: str, document: str, start: datetime, hours: float, usage: dict, expected: str
) -> None:
    assert quoted(document, start, hours, **usage) == expected


def test_a_dst_night_is_split_at_real_instants() -> None:
    charges = quote(
        [parse_plan(NIGHT)], RentalTerms("c"), local(2026, 10, 24, 20, 0), local(2026, 10, 25, 8, 0)
    )
    night = next(c for c in charges if "night" in c.description)
    assert night.quantity == Decimal(9 * 3600)  # 22:00 CEST to 06:00 CET
    assert [(p.start, p.end) for p in night.pieces] == [
        (local(2026, 10, 24, 22, 0), local(2026, 10, 25, 6, 0))
    ]


def test_increment_and_minimum_are_charged_where_the_session_ends() -> None:
    document = PEAK + '[session]\nincrement = "15m"\nminimum = "1h"\n'
    # 19:50-20:20 Monday: 10 min peak (0.50) + 20 min off-peak (0.50);
    # the minimum of 1 h adds 30 min off-peak (0.75).
    assert quoted(document, local(2026, 1, 5, 19, 50), 0.5) == "1.75 EUR"
    # 19:00-20:40: 1 h peak (3.00) + 40 min off-peak rounded up to 45 min (1.125): 4.13 after rounding.
    assert quoted(document, local(2026, 1, 5, 19, 0), 1 + 40 / 60) == "4.13 EUR"


TIERS = (
    HEAD
    + """
[[prices]]
meter = "time"
price = "0"

[[prices]]
meter = "traffic_out"
mode = "{mode}"
tiers = [{{ up_to = "10", price = "0.10" }}, {{ up_to = "100", price = "0.05" }}, {{ price = "0.02" }}]
"""
)


@pytest.mark.parametrize(
    ("mode", "gigabytes", "expected"),
    [
        ("graduated", 5, "0.50 EUR"),  # 5 x 0.10
        ("graduated", 50, "3.00 EUR"),  # 10 x 0.10 + 40 x 0.05
        ("graduated", 150, "6.50 EUR"),  # 1.00 + 90 x 0.05 + 50 x 0.02
        ("volume", 50, "2.50 EUR"),  # all 50 at 0.05
        ("volume", 150, "3.00 EUR"),  # all 150 at 0.02
        ("volume", 10, "1.00 EUR"),  # the limit belongs to its tier
    ],
)
def test_tiers(mode: str, gigabytes: int, expected: str) -> None:
    assert quoted(TIERS.format(mode=mode), local(2026, 1, 5, 12), 1, tx_bytes=gigabytes * 10**9) == expected


def test_package_and_free_allowance() -> None:
    document = (
        HEAD
        + """
[[prices]]
meter = "time"
price = "0"
[[prices]]
meter = "traffic_in"
package = "10"
price = "1.00"
[[prices]]
meter = "traffic_out"
price = "0.10"
free = "1"
"""
    )
    # in: 25 GB = 3 packages of 10 GB = 3.00; out: 3.5 GB, first 1 GB free: 2.5 x 0.10 = 0.25.
    assert (
        quoted(document, local(2026, 1, 5, 12), 1, rx_bytes=25 * 10**9, tx_bytes=3_500_000_000) == "3.25 EUR"
    )


def test_graduated_hours() -> None:
    document = (
        HEAD + '[[prices]]\nmeter = "time"\ntiers = [{ up_to = "2", price = "3.00" }, { price = "2.00" }]\n'
    )
    assert quoted(document, local(2026, 1, 5, 12), 5) == "12.00 EUR"  # 2 x 3.00 + 3 x 2.00


CAPS = HEAD + '[[prices]]\nmeter = "time"\nprice = "2.00"\n[session]\n'


def test_daily_cap_follows_local_days() -> None:
    # From local midnight for 30 h: day 1 = 24 h (48.00, capped to 10.00), day 2 = 6 h (12.00 -> 10.00).
    assert quoted(CAPS + 'daily_cap = "10.00"\n', local(2026, 1, 5, 0), 30) == "20.00 EUR"
    # Over the autumn change the local day has 25 hours: 25 x 2.00 = 50.00 -> 10.00; then 1 h = 2.00.
    assert quoted(CAPS + 'daily_cap = "10.00"\n', local(2026, 10, 25, 0), 26) == "12.00 EUR"


def test_session_cap_and_minimum_charge() -> None:
    assert quoted(CAPS + 'cap = "15.00"\n', local(2026, 1, 5, 9), 10) == "15.00 EUR"  # 20.00 capped
    assert (
        quoted(CAPS + 'minimum_charge = "1.00"\n', local(2026, 1, 5, 9), 1 / 6) == "1.00 EUR"
    )  # 0.33 -> 1.00
    assert quoted(CAPS + 'minimum_charge = "1.00"\n', local(2026, 1, 5, 9), 1) == "2.00 EUR"


def test_caps_make_the_subtotal_exact_despite_line_rounding() -> None:
    document = (
        CAPS.replace('price = "2.00"', 'price = "2.004"')
        + 'cap = "2.00"\n'
        + """
[[prices]]
meter = "traffic_in"
price = "0.004"
"""
    )
    # time 2.004 -> 2.00, traffic 1 GB 0.004 -> 0.00; exact 2.008 capped at 2.00: the cap line is 0.00.
    charges = quote([parse_plan(document)], RentalTerms("c"), local(2026, 1, 5, 9), local(2026, 1, 5, 10),
                    rx_bytes=10**9)  # fmt: skip
    assert total_of(charges) == "2.00 EUR"


TERMS = (
    HEAD
    + """
[[prices]]
meter = "time"
price = "10.00"

[service_levels]
basic = "0.8"
premium = "1.5"

[member_discounts]
gold = "10"

[coupons.FIVE]
amount = "5.00"

[coupons.SPRING]
percent = "20"
valid_until = 2026-06-01T00:00:00Z

[tax]
name = "VAT"
percent = "19"
"""
)


def test_service_level_discounts_coupon_and_tax() -> None:
    start = local(2026, 1, 5, 9)
    # 2 h x 10.00 = 20.00; gold -2.00 = 18.00; FIVE -5.00 = 13.00; VAT 19 % = 2.47 -> 15.47.
    assert quoted(TERMS, start, 2, RentalTerms("c", member_tier="gold", coupon="FIVE")) == "15.47 EUR"
    # premium: 2 h x 10.00 x 1.5 = 30.00; SPRING 20 % -6.00 = 24.00; VAT 4.56 -> 28.56.
    assert quoted(TERMS, start, 2, RentalTerms("c", service_level="premium", coupon="SPRING")) == "28.56 EUR"
    charges = quote([parse_plan(TERMS)], RentalTerms("c", member_tier="gold", coupon="FIVE"), start,
                    start + timedelta(hours=2))  # fmt: skip
    assert [(c.meter, c.amount) for c in charges] == [
        ("time", Decimal(20)),
        ("discount", Decimal("-2.00")),
        ("coupon", Decimal("-5.00")),
        ("tax:VAT", Decimal("2.47")),
    ]


def test_terms_are_checked() -> None:
    plan = parse_plan(TERMS)
    start = local(2026, 7, 1, 9)
    for terms, words in [
        (RentalTerms("c", service_level="gold"), "service level 'gold' is not offered"),
        (RentalTerms("c", coupon="NOPE"), "coupon 'NOPE' is not known"),
        (RentalTerms("c", coupon="SPRING"), "coupon 'SPRING' is not valid"),
    ]:
        with pytest.raises(BillingError, match=words):
            quote([plan], terms, start, start + timedelta(hours=1))


def test_a_plan_change_mid_session_splits_it_at_that_instant() -> None:
    first = parse_plan(CAPS)
    second = parse_plan(
        HEAD + 'effective_from = 2026-01-05T12:00:00+01:00\n[[prices]]\nmeter = "time"\nprice = "3.00"\n'
    )
    charges = quote([first, second], RentalTerms("c"), local(2026, 1, 5, 10), local(2026, 1, 5, 14))
    # 10:00-12:00 at 2.00 + 12:00-14:00 at 3.00.
    assert [(c.meter, c.quantity, c.amount) for c in charges] == [
        ("time", Decimal(7200), Decimal(4)),
        ("time@v2", Decimal(7200), Decimal(6)),
    ]
    assert "prices from 2026-01-05" in charges[1].description


def test_versions_must_belong_together() -> None:
    first = parse_plan(CAPS)
    with pytest.raises(InvalidPlan, match="same time"):
        rate([first, first], RentalTerms("c"), local(2026, 1, 5), local(2026, 1, 6), lambda a, b: Usage())
    other = parse_plan("effective_from = 2026-02-01\n" + CAPS.replace('"EUR"', '"USD"'))
    with pytest.raises(InvalidPlan, match="name and currency"):
        rate([first, other], RentalTerms("c"), local(2026, 1, 5), local(2026, 1, 6), lambda a, b: Usage())


def test_holidays_and_window_multipliers() -> None:
    document = (
        HEAD
        + """
holidays = [2026-12-25]

[[windows]]
name = "night"
from = "22:00"
to = "06:00"
multiplier = "0.5"

[[windows]]
name = "holiday"
days = "holidays"
priority = 1

[[prices]]
meter = "time"
price = "2.00"

[[prices]]
meter = "time"
window = "holiday"
price = "5.00"
"""
    )
    # 24 Dec 20:00 to 25 Dec 02:00: 2 h day (4.00) + 2 h night x0.5 (2.00) + 2 h holiday (10.00): the holiday
    # window has the higher priority, so it wins over night after midnight, though written after it.
    assert quoted(document, local(2026, 12, 24, 20), 6) == "16.00 EUR"


def test_hardware_classes_are_matched_from_facts() -> None:
    plan = parse_plan(
        HEAD
        + """
[[classes]]
name = "gpu-a100"
gpu_model = "A100"
[[classes]]
name = "big"
min_cores = 16
min_memory_gb = "64"
[[classes]]
name = "standard"
[[prices]]
meter = "time"
price = "1.00"
"""
    )
    a100 = MachineProfile("AMD EPYC", 32, 256 * 10**9, ("NVIDIA A100-SXM4-80GB",))
    big = MachineProfile("Intel Xeon", 16, 64 * 10**9)
    small = MachineProfile("Intel Core i5", 4, 8 * 10**9)
    assert [plan.class_for(m) for m in (a100, big, small)] == ["gpu-a100", "big", "standard"]


def test_every_meter() -> None:
    document = (
        HEAD
        + """
[[prices]]
meter = "time"
price = "1.00"
[[prices]]
meter = "cpu"
price = "0.10"          # per core-hour
[[prices]]
meter = "memory"
price = "0.01"          # per GB-hour
[[prices]]
meter = "gpu"
gpu_model = "A100"
price = "2.50"          # per GPU-hour
[[prices]]
meter = "gpu"
price = "1.00"
[[prices]]
meter = "energy"
price = "0.30"          # per kWh
[[prices]]
meter = "resource"
resource = "storage"
unit = "GB"
price = "0.10"          # per GB-month (730 h)
"""
    )
    hour = 3600 * 10**6
    gpus = {"NVIDIA A100": 2 * hour, "Tesla T4": hour}
    usage = Usage(covered_us=hour, cpu_busy_us=4 * hour, memory_byte_us=16 * 10**9 * hour,
                  energy_mj=2 * 3_600_000_000, gpu_us=gpus)  # fmt: skip
    start = local(2026, 1, 5, 9)
    terms = RentalTerms("c", resources={"storage": Decimal(730)})
    charges = rate([parse_plan(document)], terms, start, start + timedelta(hours=1), lambda a, b: usage)
    by_meter = {c.meter: (c.quantity, c.unit, c.amount) for c in charges}
    assert by_meter == {
        "time": (Decimal(3600), "s", Decimal(1)),
        "cpu": (Decimal(14400), "core-s", Decimal("0.4")),
        "memory": (Decimal(16), "GB-h", Decimal("0.16")),
        "gpu:NVIDIA A100": (Decimal(7200), "GPU-s", Decimal(5)),
        "gpu#5:Tesla T4": (Decimal(3600), "GPU-s", Decimal(1)),
        "energy": (Decimal(2), "kWh", Decimal("0.6")),
        "resource:storage": (Decimal(1), "GB-month", Decimal("0.1")),  # 730 GB for 1 h = 1 GB-month
    }
    assert total_of(charges) == "8.26 EUR"


def test_explained_pieces_add_up_to_their_charge() -> None:
    charges = quote([parse_plan(NIGHT + '[session]\ndaily_cap = "30"\n')], RentalTerms("c"),
                    local(2026, 1, 5, 12), local(2026, 1, 8, 3))  # fmt: skip
    for charge in charges:
        if charge.pieces:
            assert sum(p.amount for p in charge.pieces) == charge.amount
            assert sum(p.quantity for p in charge.pieces) == charge.quantity


def test_money_never_mixes_currencies() -> None:
    jpy = parse_plan(HEAD.replace("EUR", "JPY") + '[[prices]]\nmeter = "time"\nprice = "100"\n')
    charges = quote([jpy], RentalTerms("c"), local(2026, 1, 5, 12), local(2026, 1, 5, 13, 30))
    assert [c.currency for c in charges] == ["JPY"]
    assert invoice_total(build_lines("s", charges), "JPY") == Money(150, "JPY")


def test_a_plan_without_a_price_in_force_cannot_rate() -> None:
    late = parse_plan("effective_from = 2026-02-01T00:00:00Z\n" + CAPS)
    with pytest.raises(BillingError, match="not in force before"):
        quote([late], RentalTerms("c"), local(2026, 1, 5), local(2026, 1, 6))


def test_rental_time_needs_a_price_outside_every_window() -> None:
    night_only = parse_plan(NIGHT.replace('[[prices]]\nmeter = "time"\nprice = "2.00"\n', ""))
    with pytest.raises(BillingError, match="no rental-time price for class 'c' \\(one without a window"):
        quote([night_only], RentalTerms("c"), local(2026, 1, 5, 23), local(2026, 1, 6, 1))
