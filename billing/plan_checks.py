"""What a new plan document must satisfy beyond being well formed: every number within the limits of its
role (see billing/numbers.py), at most MAX_WINDOWS windows, and no two windows of the same priority that
can cover the same local time.

Plans stored before these rules are read without them (`parse_plan(..., strict=False)`), so that a plan
accepted then keeps its meaning; the engine's output check still guards what any plan produces.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from billing.calendar import Window, first_overlap
from billing.numbers import (
    MAX_MULTIPLIER,
    MAX_PERCENT,
    RATIO_DECIMALS,
    check_amount,
    check_price,
    check_quantity,
    limit,
)

MAX_WINDOWS = 100
MAX_PRIORITY = 1000

# The role of a plan key's number: a unit price, a fixed amount of money, a quantity of units, a
# multiplier or a percentage.
ROLE_OF_KEY = {
    "price": "price", "in_per_gb": "price", "out_per_gb": "price",
    "flat": "amount", "minimum_charge": "amount", "cap": "amount", "daily_cap": "amount", "amount": "amount",
    "free": "quantity", "up_to": "quantity", "package": "quantity", "min_memory_gb": "quantity",
    "multiplier": "multiplier", "percent": "percent",
}  # fmt: skip


def _ratio(maximum: Decimal, ceiling: str) -> Callable[[Decimal, str, str, str], Decimal]:
    def check(value: Decimal, currency: str, what: str, text: str) -> Decimal:
        return limit(value, what, places=RATIO_DECIMALS, maximum=maximum, ceiling=ceiling, text=text)

    return check


def _quantity(value: Decimal, currency: str, what: str, text: str) -> Decimal:
    return check_quantity(value, what, text)


_CHECKS: dict[str, Callable[[Decimal, str, str, str], Decimal]] = {
    "price": check_price,
    "amount": check_amount,
    "quantity": _quantity,
    "multiplier": _ratio(MAX_MULTIPLIER, f"{MAX_MULTIPLIER}, the largest multiplier"),
    "percent": _ratio(MAX_PERCENT, "100 %"),
}


def check_number(role: str, value: Decimal, currency: str, what: str, text: str = "") -> Decimal:
    """`value` when it is within the limits of `role` (a key of _CHECKS); InvalidAmount naming `what`."""
    return _CHECKS[role](value, currency, what, text)


def windows_problem(
    windows: Sequence[Window], line_of: Callable[[int], int | None]
) -> tuple[int, str] | None:
    """(index of the window to blame, sentence) when the windows break a rule, else None; `line_of(i)` is
    the line of window i, to point at the other window of an overlap."""
    if len(windows) > MAX_WINDOWS:
        return MAX_WINDOWS, f"windows: at most {MAX_WINDOWS} windows"
    for index, window in enumerate(windows):
        if window.priority > MAX_PRIORITY:
            return index, f"priority: a whole number from 0 to {MAX_PRIORITY}"
    pair = first_overlap(windows)
    if pair is None:
        return None
    earlier, later = windows[pair[0]], windows[pair[1]]
    line = line_of(pair[0])
    where = f" (line {line})" if line else ""
    holidays = " (a holiday can fall on any weekday)" if earlier.holidays or later.holidays else ""
    return pair[1], (
        f"windows: {later.describe()} overlaps {earlier.describe()}{where}{holidays}: give the window that "
        f"should apply where they overlap a higher priority, e.g. priority = {earlier.priority + 1}"
    )
