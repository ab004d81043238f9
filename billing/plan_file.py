"""Price plans as TOML documents, validated with line-numbered, human errors.

    name = "cafe"
    currency = "EUR"

    [time]                  # rental time, billed per second of covered time
    increment = "1m"        # optional: bill whole increments, rounded up
    minimum = "30m"         # optional: at least this much per session
    [time.hourly]           # price of one hour, per machine class
    standard = "1.20"
    gpu-a100 = "2.90"

    [traffic]               # optional: price of one GB (10^9 bytes)
    in_per_gb = "0.05"
    out_per_gb = "0.09"

Prices are strings (or whole numbers) so that no amount passes through a float; a float is an error.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from billing.durations import parse_duration_us
from billing.errors import InvalidPlan
from billing.plan import PricePlan

_SECTIONS = {"": {"name", "currency", "time", "traffic"}, "time": {"increment", "minimum", "hourly"},
             "traffic": {"in_per_gb", "out_per_gb"}}  # fmt: skip
_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\s*(#.*)?$")


class PlanFileError(InvalidPlan):
    """An error in a plan document; `line` is 1-based, or None when it concerns the whole document."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        super().__init__(f"{source}:{line}: {message}" if line else f"{source}: {message}")
        self.line = line


def parse_plan(text: str, source: str = "<plan>") -> PricePlan:
    """The PricePlan a TOML document describes; PlanFileError naming the line of the first problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise PlanFileError(source, int(line.group(1)) if line else None, str(exc)) from None
    locate = _Locator(text)

    def fail(section: str, key: str, message: str) -> PlanFileError:
        return PlanFileError(source, locate(section, key), message)

    for section, allowed in _SECTIONS.items():
        table = _table(data, section)
        for key in table:
            if key not in allowed:
                raise fail(section, key, f"unknown key {key!r}" + (f" in [{section}]" if section else ""))
    time, traffic = _table(data, "time"), _table(data, "traffic")
    hourly = time.get("hourly", {})
    if not isinstance(hourly, dict) or not hourly:
        raise fail(
            "time", "hourly", "[time.hourly] must give at least one machine class and its hourly price"
        )
    values = {
        "name": _text(data, "name", fail),
        "currency": _text(data, "currency", fail),
        "hourly_rates": {cls: _price(hourly, cls, "time.hourly", fail) for cls in hourly},
        "traffic_in_per_gb": _price(traffic, "in_per_gb", "traffic", fail, default="0"),
        "traffic_out_per_gb": _price(traffic, "out_per_gb", "traffic", fail, default="0"),
        "increment_us": _duration(time, "increment", fail, default=1),
        "minimum_us": _duration(time, "minimum", fail, default=0),
    }
    try:
        return PricePlan.from_text(**values)
    except InvalidPlan as exc:
        field = str(exc).split(":", 1)[0]
        if field.startswith("hourly_rates["):
            section, key = "time.hourly", field.removeprefix("hourly_rates[").rstrip("]")
        else:
            section, key = _FIELD_PLACES.get(field, ("", field))
        raise fail(section, key, str(exc)) from None


# Where each PricePlan field comes from in the document: (section, key).
_FIELD_PLACES = {
    "name": ("", "name"),
    "currency": ("", "currency"),
    "hourly_rates": ("time", "hourly"),
    "traffic_in_per_gb": ("traffic", "in_per_gb"),
    "traffic_out_per_gb": ("traffic", "out_per_gb"),
    "increment": ("time", "increment"),
    "minimum": ("time", "minimum"),
}


def _table(data: dict[str, Any], section: str) -> dict[str, Any]:
    table = data.get(section, {}) if section else data
    return table if isinstance(table, dict) else {}


def _text(data: dict[str, Any], key: str, fail: Any) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise fail("", key, f"{key} is required, as text")
    return value


def _price(table: dict[str, Any], key: str, section: str, fail: Any, default: str | None = None) -> str:
    value = table.get(key, default)
    if isinstance(value, bool | float):
        raise fail(section, key, f'{key}: write prices as text, e.g. "1.20", so that no float rounds them')
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise fail(section, key, f'{key}: a price is required, e.g. "1.20"')
    return value


def _duration(table: dict[str, Any], key: str, fail: Any, default: int) -> int:
    value = table.get(key)
    if value is None:
        return default
    try:
        return parse_duration_us(str(value))
    except ValueError as exc:
        raise fail("time", key, f"{key}: {exc}") from None


class _Locator:
    """Finds the line of `key` inside `[section]` (tomllib reports no positions for valid documents)."""

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()

    def __call__(self, section: str, key: str) -> int | None:
        current = ""
        fallback = None
        pattern = re.compile(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*=")
        for number, line in enumerate(self._lines, start=1):
            header = _HEADER.match(line)
            if header:
                current = header.group(1).replace('"', "").replace("'", "").strip()
                if current == f"{section}.{key}".strip(".") and fallback is None:
                    fallback = number  # a key that is a whole table, e.g. [time.hourly]
                continue
            if pattern.match(line) and (current == section or current.startswith(f"{section}.")):
                return number
        return fallback
