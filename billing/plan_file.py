"""Price plans as TOML documents, validated with line-numbered, human errors.

The format is documented in README.md ("Price plan files"). In short:

    name = "cafe"
    currency = "EUR"
    effective_from = 2026-03-01T00:00:00+01:00   # this version's start (default: always)
    timezone = "Europe/Berlin"                   # for windows and daily caps (default UTC)
    holidays = [2026-12-25, 2026-12-26]

    [session]                                    # increment, minimum, minimum_charge, cap, daily_cap
    [[windows]]                                  # name, days, from, to, multiplier, priority, cap
                                                 # (at most this much per occurrence, e.g. per night)
    [[classes]]                                  # name, cpu_model, min_cores, min_memory_gb, gpu_model, ...
    [[prices]]                                   # meter, per, price | tiers + mode | package, free, filters
    [service_levels]  basic = "0.8"
    [member_discounts] gold = "10"               # percent
    [coupons.WELCOME] percent = "10" | amount = "5.00", valid_from, valid_until
    [tax] name = "VAT", percent = "19"
    [[packs]] name = "3h", price = "30.00", time = "3h", valid_for = "30d", window = "night"
    [burn_rates] gpu = "1.5"                     # pack time used per hour of rental, by class
    [dynamic]                                    # demand-based prices (billing/dynamic.py): class, floor,
                                                 # cap, max_change, step, low, high | curve, publish_ahead,
                                                 # lock

    [time.hourly] standard = "1.20"              # shorthand: rental time per hour by class
    [traffic] in_per_gb = "0.05"                 # shorthand: traffic prices

Amounts are strings (or whole numbers) so that no amount passes through a float; a float is an error.
A new document must also keep every number within its role's limits and may not contain two windows of the
same priority that overlap (billing/plan_checks.py); stored documents are read with strict=False.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, NoReturn

from billing.assurance import DEFAULT_DISPUTE_WINDOW_US, Assurance, IdleRule
from billing.calendar import Window, parse_clock, parse_days
from billing.durations import parse_duration_us
from billing.dynamic import HOUR_US, CurvePoint, DemandPolicy
from billing.errors import BillingError, InvalidPlan
from billing.money import exponent
from billing.packs import PackOffer
from billing.plan import BEGINNING, Coupon, HardwareClass, PricePlan, PriceRule, Tax, parse_price
from billing.plan_checks import ROLE_OF_KEY, check_number, windows_problem
from billing.plan_lines import Locator, Path
from billing.tiers import Pricing, Tier

_KEYS: dict[str, set[str]] = {
    "": {"name", "currency", "effective_from", "timezone", "holidays", "session", "windows", "classes",
         "prices", "service_levels", "member_discounts", "coupons", "tax", "time", "traffic", "dynamic",
         "packs", "burn_rates", "assurance", "idle"},
    "session": {"increment", "minimum", "minimum_charge", "cap", "daily_cap"},
    "time": {"increment", "minimum", "hourly"},
    "traffic": {"in_per_gb", "out_per_gb"},
    "windows": {"name", "days", "from", "to", "multiplier", "priority", "cap"},
    "classes": {"name", "cpu_model", "min_cores", "min_memory_gb", "gpu_model", "min_gpus"},
    "prices": {"meter", "per", "price", "mode", "tiers", "package", "free", "window", "class", "gpu_model",
               "resource", "unit"},
    "coupons": {"percent", "amount", "valid_from", "valid_until"},
    "tax": {"name", "percent"},
    "tiers": {"up_to", "price", "flat"},
    "dynamic": {"class", "floor", "cap", "max_change", "step", "low", "high", "curve", "publish_ahead",
                "lock"},
    "curve": {"occupancy", "multiplier"},
    "packs": {"name", "price", "time", "valid_for", "window"},
    "idle": {"below", "after", "rate"},
    "assurance": {"bill_gaps_shorter_than", "dispute_window", "sla_outage_longer_than", "sla_credit"},
}  # fmt: skip


class PlanFileError(InvalidPlan):
    """An error in a plan document; `line` is 1-based, or None when it concerns the whole document."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        super().__init__(f"{source}:{line}: {message}" if line else f"{source}: {message}")
        self.line = line


def parse_plan(text: str, source: str = "<plan>", *, strict: bool = True) -> PricePlan:
    """The PricePlan version a TOML document describes; PlanFileError naming the line of the first problem.

    `strict` (for new documents) also holds every number to its role's limits and refuses overlapping
    windows of the same priority; a stored document is read with strict=False so that it keeps its meaning.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise PlanFileError(source, int(line.group(1)) if line else None, str(exc)) from None
    return _Reader(data, source, Locator(text), strict).plan()


class _Reader:
    def __init__(self, data: dict[str, Any], source: str, locate: Locator, strict: bool) -> None:
        self.data, self.source, self.locate, self.strict = data, source, locate, strict
        self.currency = ""

    def fail(self, path: Path, message: str) -> NoReturn:
        raise PlanFileError(self.source, self.locate(path), message)

    @contextmanager
    def at(self, path: Path) -> Iterator[None]:
        """Report an InvalidPlan raised inside at `path` (or at the key it names, when it names one)."""
        try:
            yield
        except PlanFileError:
            raise
        except (InvalidPlan, ValueError) as exc:
            field = str(exc).split(":", 1)[0].strip()
            line = None
            if field.isidentifier():
                places = [(*path, field)] + ([("session", field), ("time", field)] if not path else [])
                line = next((n for n in map(self.locate, places) if n), None)
            raise PlanFileError(self.source, line or self.locate(path), str(exc)) from None

    def plan(self) -> PricePlan:
        data = self.data
        self.check_keys((), data, "")
        session = self.table(("session",))
        time_table = self.table(("time",))
        self.check_keys(("session",), session, "session")
        self.check_keys(("time",), time_table, "time")
        for key in ("increment", "minimum"):
            if key in session and key in time_table:
                self.fail(("time", key), f"{key} is given twice: keep it in [session]")
        terms = {**{k: v for k, v in time_table.items() if k != "hourly"}, **session}
        name = self.text((), "name")
        self.currency = self.text((), "currency").strip().upper()
        if self.strict:
            try:
                exponent(self.currency)
            except BillingError as exc:
                self.fail(("currency",), f"currency: {exc}")
        with self.at(()):
            windows = tuple(self.windows())
            return PricePlan(
                name=name,
                currency=self.currency,
                rules=tuple(self.rules()),
                effective_from=self.moment((), "effective_from", data.get("effective_from")) or BEGINNING,
                timezone=str(data.get("timezone", "UTC")),
                holidays=frozenset(self.dates(("holidays",), data.get("holidays", []))),
                windows=windows,
                classes=tuple(self.classes()),
                increment_us=self.duration(("session",), terms, "increment", 1),
                minimum_us=self.duration(("session",), terms, "minimum", 0),
                minimum_charge=self.amount(("session",), terms, "minimum_charge") or Decimal(0),
                session_cap=self.amount(("session",), terms, "cap"),
                daily_cap=self.amount(("session",), terms, "daily_cap"),
                service_levels=self.amounts(("service_levels",), "multiplier"),
                member_discounts=self.amounts(("member_discounts",), "percent"),
                coupons=self.coupons(),
                tax=self.tax(),
                dynamic=tuple(self.dynamic()),
                packs=tuple(self.packs([w.name for w in windows])),
                burn_rates=self.burn_rates(),
                assurance=self.assurance(),
                idle=self.idle(),
            )

    # sections

    def rules(self) -> Iterator[PriceRule]:
        hourly = self.table(("time", "hourly"))
        for machine_class in hourly:
            price = self.amount(("time", "hourly"), hourly, machine_class, "price")
            yield PriceRule(
                "time", Pricing(price=price or Decimal(0)), per="hour", machine_class=machine_class
            )
        traffic = self.table(("traffic",))
        self.check_keys(("traffic",), traffic, "traffic")
        for key, meter in (("in_per_gb", "traffic_in"), ("out_per_gb", "traffic_out")):
            if key in traffic:
                yield PriceRule(meter, Pricing(price=self.amount(("traffic",), traffic, key) or Decimal(0)))
        for index, entry in enumerate(self.entries("prices")):
            path: Path = ("prices", index)
            with self.at(path):
                yield PriceRule(
                    meter=self.text(path, "meter", entry),
                    pricing=self.pricing(path, entry),
                    per=str(entry.get("per", "")),
                    window=str(entry.get("window", "")),
                    machine_class=str(entry.get("class", "")),
                    gpu_model=str(entry.get("gpu_model", "")),
                    resource=str(entry.get("resource", "")),
                    unit=str(entry.get("unit", "")),
                    free=self.amount(path, entry, "free") or Decimal(0),
                )

    def pricing(self, path: Path, entry: dict[str, Any]) -> Pricing:
        tiers = entry.get("tiers")
        mode = str(
            entry.get("mode", "graduated" if tiers else "package" if "package" in entry else "standard")
        )
        if tiers is None:
            if "price" not in entry:
                self.fail(path, 'give a price (e.g. price = "1.20") or tiers')
            package = self.amount(path, entry, "package") if mode == "package" else None
            return Pricing(mode=mode, price=self.amount(path, entry, "price") or Decimal(0),
                           package_size=package if package is not None else Decimal(1))  # fmt: skip
        if not isinstance(tiers, list) or not all(isinstance(t, dict) for t in tiers):
            self.fail(
                (*path, "tiers"),
                'tiers is a list such as [{ up_to = "10", price = "2.00" }, { price = "1.50" }]',
            )
        parsed = []
        for tier in tiers:
            self.check_keys((*path, "tiers"), tier, "tiers")
            up_to = self.amount((*path, "tiers"), tier, "up_to")
            parsed.append(Tier(up_to, self.amount((*path, "tiers"), tier, "price") or Decimal(0),
                               self.amount((*path, "tiers"), tier, "flat") or Decimal(0)))  # fmt: skip
        return Pricing(mode=mode, tiers=tuple(parsed))

    def windows(self) -> Iterator[Window]:
        found = []
        for index, entry in enumerate(self.entries("windows")):
            path: Path = ("windows", index)
            with self.at(path):
                days_value = entry.get("days", ["all"])
                days, holidays = parse_days([days_value] if isinstance(days_value, str) else days_value)
                start = parse_clock(entry.get("from", "00:00"), "from")
                end = parse_clock(entry.get("to", "00:00"), "to")
                name, multiplier = self.text(path, "name", entry), self.amount(path, entry, "multiplier")
                priority = self.count(path, entry, "priority")
                cap = self.amount(path, entry, "cap")
                found.append(Window(name, days, holidays, start, end, multiplier, priority, cap))
        problem = windows_problem(found, lambda i: self.locate(("windows", i))) if self.strict else None
        if problem is not None:
            index, message = problem
            key = ("priority",) if message.startswith("priority") else ()
            self.fail(("windows", index, *key), message)
        return iter(found)

    def classes(self) -> Iterator[HardwareClass]:
        for index, entry in enumerate(self.entries("classes")):
            path: Path = ("classes", index)
            with self.at(path):
                yield HardwareClass(
                    name=self.text(path, "name", entry),
                    cpu_model=str(entry.get("cpu_model", "")),
                    min_cores=self.count(path, entry, "min_cores"),
                    min_memory_gb=self.amount(path, entry, "min_memory_gb") or Decimal(0),
                    gpu_model=str(entry.get("gpu_model", "")),
                    min_gpus=self.count(path, entry, "min_gpus"),
                )

    def coupons(self) -> dict[str, Coupon]:
        found = {}
        for code, entry in self.table(("coupons",)).items():
            path: Path = ("coupons", code)
            if not isinstance(entry, dict):
                self.fail(path, f"[coupons.{code}] is a table with percent or amount")
            self.check_keys(path, entry, "coupons")
            percent, amount = self.amount(path, entry, "percent"), self.amount(path, entry, "amount")
            if (percent is None) == (amount is None):
                self.fail(path, f"coupon {code}: give either percent or amount")
            if percent is not None and percent > 100:
                self.fail((*path, "percent"), "percent: at most 100")
            found[code] = Coupon(code, percent or Decimal(0), amount or Decimal(0),
                                 self.moment(path, "valid_from", entry.get("valid_from")),
                                 self.moment(path, "valid_until", entry.get("valid_until")))  # fmt: skip
        return found

    def dynamic(self) -> Iterator[DemandPolicy]:
        """`[dynamic]` (one policy) or `[[dynamic]]` (one per class); see billing/dynamic.py."""
        value = self.data.get("dynamic", [])
        entries: list[tuple[Path, Any]] = (
            [(("dynamic",), value)] if isinstance(value, dict)
            else [(("dynamic", i), v) for i, v in enumerate(value)] if isinstance(value, list) else []
        )  # fmt: skip
        if not isinstance(value, dict | list) or not all(isinstance(v, dict) for _, v in entries):
            self.fail(("dynamic",), "dynamic must be written as [dynamic] or [[dynamic]] tables")
        for path, entry in entries:
            self.check_keys(path, entry, "dynamic")
            with self.at(path):
                yield DemandPolicy(
                    machine_class=str(entry.get("class", "")),
                    floor=self.required(path, entry, "floor", "multiplier"),
                    cap=self.required(path, entry, "cap", "multiplier"),
                    max_change=self.required(path, entry, "max_change", "multiplier"),
                    step_us=self.duration(path, entry, "step", HOUR_US),
                    low=self.amount(path, entry, "low", "multiplier") or Decimal(0),
                    high=self.amount(path, entry, "high", "multiplier") or Decimal(1),
                    curve=tuple(self.curve((*path, "curve"), entry.get("curve", []))),
                    publish_ahead_us=self.duration(path, entry, "publish_ahead", 24 * HOUR_US),
                    lock_us=None if entry.get("lock", "session") == "session"
                    else self.duration(path, entry, "lock", 0),
                )  # fmt: skip

    def curve(self, path: Path, rows: Any) -> Iterator[CurvePoint]:
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            self.fail(path, 'curve is a list such as [{ occupancy = "0.5", multiplier = "1.10" }]')
        for row in rows:
            self.check_keys(path, row, "curve")
            yield CurvePoint(self.required(path, row, "occupancy", "multiplier"),
                             self.required(path, row, "multiplier", "multiplier"))  # fmt: skip

    def packs(self, windows: list[str]) -> Iterator[PackOffer]:
        """`[[packs]]`: name, price, time (none: unlimited while valid), valid_for, window."""
        for index, entry in enumerate(self.entries("packs")):
            path: Path = ("packs", index)
            if str(entry.get("window", "")) not in ["", *windows]:
                self.fail((*path, "window"), f"window: no window is named {entry['window']!r}")
            with self.at(path):
                yield PackOffer(
                    name=self.text(path, "name", entry),
                    price=self.required(path, entry, "price", "amount"),
                    time_us=self.duration(path, entry, "time", 0) or None,
                    valid_for_us=self.duration(path, entry, "valid_for", 30 * 24 * HOUR_US),
                    window=str(entry.get("window", "")),
                )

    def burn_rates(self) -> dict[str, Decimal]:
        """`[burn_rates]`: pack time used per hour of rental, by machine class (above 0, at most 100)."""
        rates = self.amounts(("burn_rates",), "multiplier")
        for machine_class, rate in rates.items():
            if not 0 < rate <= 100:
                message = f"burn_rates: the rate of {machine_class!r} must be above 0 and at most 100"
                self.fail(("burn_rates", machine_class), message)
        return rates

    def required(self, path: Path, table: dict[str, Any], key: str, role: str) -> Decimal:
        value = self.amount(path, table, key, role)
        if value is None:
            self.fail(path, f"{key} is required")
        return value

    def assurance(self) -> Assurance:
        path: Path = ("assurance",)
        table = self.table(path)
        self.check_keys(path, table, "assurance")
        credit = Decimal(0)
        if "sla_credit" in table:
            with self.at(path):
                credit = parse_price(str(table["sla_credit"]), "sla_credit")
        return Assurance(
            bill_gaps_shorter_than_us=self.duration(path, table, "bill_gaps_shorter_than", 0),
            dispute_window_us=self.duration(path, table, "dispute_window", DEFAULT_DISPUTE_WINDOW_US),
            sla_outage_longer_than_us=self.duration(path, table, "sla_outage_longer_than", 0),
            sla_credit=credit,
        )

    def idle(self) -> IdleRule | None:
        path: Path = ("idle",)
        table = self.table(path)
        if not table:
            return None
        self.check_keys(path, table, "idle")
        for key in ("below", "after", "rate"):
            if key not in table:
                self.fail(path, f"idle: give {key} (see below, after and rate)")
        with self.at(path):
            return IdleRule(
                below_percent=parse_price(str(table["below"]), "below"),
                after_us=self.duration(path, table, "after", 0),
                rate=parse_price(str(table["rate"]), "rate"),
            )

    def tax(self) -> Tax | None:
        table = self.table(("tax",))
        if not table:
            return None
        self.check_keys(("tax",), table, "tax")
        return Tax(self.text(("tax",), "name", table), self.amount(("tax",), table, "percent") or Decimal(0))

    # values

    def table(self, path: Path) -> dict[str, Any]:
        value: Any = self.data
        for key in path:
            value = value.get(key, {}) if isinstance(value, dict) else {}
        if not isinstance(value, dict):
            self.fail(path, f"{'.'.join(map(str, path))} must be a table")
        return value

    def entries(self, name: str) -> list[dict[str, Any]]:
        value = self.data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail((name,), f"{name} must be written as [[{name}]] tables")
        for index, entry in enumerate(value):
            self.check_keys((name, index), entry, name)
        return value

    def check_keys(self, path: Path, table: dict[str, Any], kind: str) -> None:
        for key in table:
            if key not in _KEYS[kind]:
                where = f" in [{kind}]" if kind else ""
                self.fail(
                    (*path, key),
                    f"unknown key {key!r}{where}; expected one of {', '.join(sorted(_KEYS[kind]))}",
                )

    def text(self, path: Path, key: str, table: dict[str, Any] | None = None) -> str:
        value = (self.data if table is None else table).get(key)
        if not isinstance(value, str) or not value.strip():
            self.fail((*path, key), f"{key} is required, as text")
        return value

    def amount(self, path: Path, table: dict[str, Any], key: str, role: str = "") -> Decimal | None:
        """The number at `key`, held (when strict) to the limits of its role (by default its key's)."""
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool | float):
            self.fail(
                (*path, key), f'{key}: write amounts as text, e.g. "1.20", so that no float rounds them'
            )
        text = str(value) if isinstance(value, int) else value
        try:
            number = parse_price(text, key)
            if self.strict:
                check_number(role or ROLE_OF_KEY[key], number, self.currency, key, text)
            return number
        except BillingError as exc:
            self.fail((*path, key), str(exc))

    def amounts(self, path: Path, role: str) -> dict[str, Decimal]:
        table = self.table(path)
        return {key: self.amount(path, table, key, role) or Decimal(0) for key in table}

    def count(self, path: Path, table: dict[str, Any], key: str) -> int:
        value = table.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            self.fail((*path, key), f"{key}: a whole number >= 0")
        return value

    def duration(self, path: Path, table: dict[str, Any], key: str, default: int) -> int:
        value = table.get(key)
        if value is None:
            return default
        try:
            return parse_duration_us(str(value))
        except ValueError as exc:
            self.fail((*path, key) if path[0] in ("dynamic", "packs") else path if key in self.table(path)
                      else ("time", key), f"{key}: {exc}")  # fmt: skip

    def moment(self, path: Path, key: str, value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime.combine(value, time(0), tzinfo=UTC)
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                self.fail((*path, key), f"{key}: {value!r} is not a time such as 2026-03-01T00:00:00+01:00")
        if not isinstance(value, datetime) or value.tzinfo is None:
            self.fail((*path, key), f"{key}: give a time with its offset, e.g. 2026-03-01T00:00:00Z")
        return value.astimezone(UTC)

    def dates(self, path: Path, values: Any) -> Iterator[date]:
        if not isinstance(values, list):
            self.fail(path, "holidays is a list of dates, e.g. [2026-12-25, 2026-12-26]")
        for value in values:
            if isinstance(value, date) and not isinstance(value, datetime):
                yield value
                continue
            try:
                yield date.fromisoformat(str(value))
            except ValueError:
                self.fail(path, f"holidays: {value!r} is not a date such as 2026-12-25")


def simple_document(
    name: str,
    currency: str,
    hourly_rates: Mapping[str, str],
    traffic_in_per_gb: str = "",
    traffic_out_per_gb: str = "",
    increment: str = "",
    minimum: str = "",
) -> str:
    """The plan document for a plain price list: an hourly rate per machine class, traffic per GB,
    optional increment and minimum time (durations such as "1m")."""
    lines = [f"name = {_quote(name)}", f"currency = {_quote(currency)}", "", "[session]"]
    lines += [
        f"{key} = {_quote(value)}" for key, value in (("increment", increment), ("minimum", minimum)) if value
    ]
    lines += ["", "[time.hourly]"] + [f"{_quote(k)} = {_quote(v)}" for k, v in hourly_rates.items()]
    traffic = [(k, v) for k, v in (("in_per_gb", traffic_in_per_gb), ("out_per_gb", traffic_out_per_gb)) if v]
    if traffic:
        lines += ["", "[traffic]"] + [f"{key} = {_quote(value)}" for key, value in traffic]
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'
