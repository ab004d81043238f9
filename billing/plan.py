"""Price plans: one version of a provider's price list, and the terms of one rental under it.

A plan version holds price rules (one meter each, optionally limited to a time window, a hardware class, a
GPU model or a resource), the windows and hardware classes they refer to, and session-wide terms: billing
increment and minimum time, minimum charge, per-session and per-day caps, service levels, member
discounts, coupons and tax. Versions of one plan share its name and currency and differ by effective_from.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import tzinfo as TimeZone  # the property `tzinfo` below hides the name in the class
from decimal import Decimal
from types import MappingProxyType

from billing.assurance import Assurance, IdleRule
from billing.calendar import Window, zone
from billing.dynamic import DemandPolicy, PriceLock
from billing.errors import BillingError, InvalidPlan
from billing.meters import METER_NAMES, METERS, allowed_pers, default_per, unit_label
from billing.money import exponent
from billing.numbers import InvalidAmount, parse_decimal
from billing.packs import HeldPack, PackOffer, check_offers
from billing.tiers import Pricing

# Versions without an effective-from time are in force since this instant.
BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)
MAX_NAME = 30


def parse_price(text: str, what: str) -> Decimal:
    """Parse a non-negative decimal such as "1.20" (under 10^40, at most 40 decimals); InvalidPlan names
    `what` otherwise. The limits of each role (prices, amounts, quantities) are billing.numbers'."""
    try:
        return parse_decimal(text, what)
    except InvalidAmount as exc:
        raise InvalidPlan(str(exc)) from None


@dataclass(frozen=True, slots=True)
class MachineProfile:
    """The facts a machine reported at enrollment that hardware classes are matched against."""

    cpu_model: str = ""
    cores: int = 0
    memory_bytes: int = 0
    gpu_models: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HardwareClass:
    """A machine belongs to the first class whose every given condition holds (text: case-insensitive
    substring)."""

    name: str
    cpu_model: str = ""
    min_cores: int = 0
    min_memory_gb: Decimal = Decimal(0)
    gpu_model: str = ""
    min_gpus: int = 0

    def matches(self, machine: MachineProfile) -> bool:
        gpus = (
            [g for g in machine.gpu_models if self.gpu_model.lower() in g.lower()] if self.gpu_model else []
        )
        return (
            self.cpu_model.lower() in machine.cpu_model.lower()
            and machine.cores >= self.min_cores
            and Decimal(machine.memory_bytes) >= self.min_memory_gb * 10**9
            and (not self.gpu_model or len(gpus) >= max(self.min_gpus, 1))
            and len(machine.gpu_models) >= self.min_gpus
        )


@dataclass(frozen=True, slots=True)
class PriceRule:
    """Prices one meter. Filters left empty match anything; among the rules that match a piece of usage,
    the most specific wins (window, then class, then GPU model / resource), then the first written."""

    meter: str
    pricing: Pricing
    per: str = ""
    window: str = ""
    machine_class: str = ""
    gpu_model: str = ""
    resource: str = ""
    unit: str = ""  # label of a resource's unit, e.g. "GB" for storage priced per GB-month
    free: Decimal = Decimal(0)  # free units per session, before any price applies

    def __post_init__(self) -> None:
        if self.meter not in METERS:
            raise InvalidPlan(f"meter: {self.meter!r} is not one of {', '.join(METERS)}")
        if not self.per:
            object.__setattr__(self, "per", default_per(self.meter))
        if self.per not in allowed_pers(self.meter):
            raise InvalidPlan(f"per: {self.meter} is priced per {' or '.join(allowed_pers(self.meter))}")
        if self.meter == "resource" and not self.resource:
            raise InvalidPlan('resource: a resource price names its resource, e.g. resource = "storage"')
        if self.gpu_model and self.meter != "gpu":
            raise InvalidPlan("gpu_model: only GPU time prices can be limited to a GPU model")
        if self.free < 0:
            raise InvalidPlan("free: the free allowance cannot be negative")

    @property
    def unit_label(self) -> str:
        return unit_label(self.meter, self.per, self.unit)

    def specificity(self) -> tuple[bool, bool, bool]:
        return bool(self.window), bool(self.machine_class), bool(self.gpu_model or self.resource)

    def matches(self, meter: str, key: str, window: str, machine_class: str) -> bool:
        if meter != self.meter or (self.window and self.window != window):
            return False
        if self.machine_class and self.machine_class != machine_class:
            return False
        if self.meter == "gpu" and self.gpu_model and self.gpu_model.lower() not in key.lower():
            return False
        return not (self.meter == "resource" and self.resource != key)

    def describe(self, currency: str) -> str:
        what = METER_NAMES[self.meter]
        if self.meter == "resource":
            what = self.resource
        filters = [f for f in (self.machine_class, self.gpu_model) if f]
        if self.window:
            filters.append(f"in {self.window}")
        text = f"{what}{' (' + ', '.join(filters) + ')' if filters else ''}: "
        text += self.pricing.describe(currency, self.unit_label)
        if self.free:
            text += f", first {format(self.free.normalize(), 'f')} {self.unit_label} free"
        return text


@dataclass(frozen=True, slots=True)
class Coupon:
    code: str
    percent: Decimal = Decimal(0)
    amount: Decimal = Decimal(0)  # off each session, up to its subtotal
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    def valid_at(self, moment: datetime) -> bool:
        return (self.valid_from is None or moment >= self.valid_from) and (
            self.valid_until is None or moment < self.valid_until
        )


@dataclass(frozen=True, slots=True)
class Tax:
    name: str
    percent: Decimal


@dataclass(frozen=True, slots=True)
class RentalTerms:
    """What a rental adds to its plan: the machine's class, chosen service level, the renter's member
    tier, a coupon code, extra resources held for the whole rental (name -> quantity, e.g. 500 GB), and
    the demand-price locks of a plan with dynamic prices (billing/dynamic.py; none: static prices), and
    the renter's time packs that may pay its rental time."""

    machine_class: str
    service_level: str = ""
    member_tier: str = ""
    coupon: str = ""
    resources: Mapping[str, Decimal] = field(default_factory=dict)
    demand: tuple[PriceLock, ...] = ()
    packs: tuple[HeldPack, ...] = ()  # the renter's time packs (billing/packs.py)


@dataclass(frozen=True)
class PricePlan:
    """One version of a named price list in one currency."""

    name: str
    currency: str
    rules: tuple[PriceRule, ...]
    effective_from: datetime = BEGINNING
    timezone: str = "UTC"
    holidays: frozenset[date] = frozenset()
    windows: tuple[Window, ...] = ()
    classes: tuple[HardwareClass, ...] = ()
    increment_us: int = 1
    minimum_us: int = 0
    minimum_charge: Decimal = Decimal(0)
    session_cap: Decimal | None = None
    daily_cap: Decimal | None = None
    service_levels: Mapping[str, Decimal] = field(default_factory=dict)
    member_discounts: Mapping[str, Decimal] = field(default_factory=dict)  # tier -> percent off
    coupons: Mapping[str, Coupon] = field(default_factory=dict)
    tax: Tax | None = None
    dynamic: tuple[DemandPolicy, ...] = ()  # demand-based prices, per class ("" = every class)
    packs: tuple[PackOffer, ...] = ()  # time packs for sale (billing/packs.py)
    burn_rates: Mapping[str, Decimal] = field(default_factory=dict)  # class -> pack time per rental time
    # Gaps, disputes and outage credits (billing/assurance.py); idle-aware prices (billing/idle.py).
    assurance: Assurance = field(default_factory=Assurance)
    idle: IdleRule | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.name.strip() or len(self.name) > 100:
            raise InvalidPlan("name: a plan needs a name of 1 to 100 characters")
        try:
            exponent(self.currency)
        except BillingError as exc:
            raise InvalidPlan(f"currency: {exc}") from None
        if self.effective_from.tzinfo is None:
            raise InvalidPlan("effective_from: give a time zone, e.g. 2026-03-01T00:00:00Z")
        zone(self.timezone)
        if not isinstance(self.increment_us, int) or not 1 <= self.increment_us <= 86_400_000_000:
            raise InvalidPlan("increment: must be between 1 microsecond and 1 day")
        if not isinstance(self.minimum_us, int) or not 0 <= self.minimum_us <= 31 * 86_400_000_000:
            raise InvalidPlan("minimum: must be between 0 and 31 days")
        if not self.rules:
            raise InvalidPlan("prices: give at least one price, e.g. an hourly rate for rental time")
        window_names = [w.name for w in self.windows]
        if len(set(window_names)) != len(window_names):
            raise InvalidPlan("windows: two windows have the same name")
        for rule in self.rules:
            if rule.window and rule.window not in window_names:
                raise InvalidPlan(f"window: no window is named {rule.window!r}")
        for what, names in (("service level", self.service_levels), ("member tier", self.member_discounts),
                            ("coupon", self.coupons), ("class", {c.name: c for c in self.classes}),
                            ("window", {w.name: w for w in self.windows})):  # fmt: skip
            for name in names:
                if not name or len(name) > MAX_NAME:
                    raise InvalidPlan(f"{what} names must be 1 to {MAX_NAME} characters: {name!r}")
        dynamic_classes = [p.machine_class for p in self.dynamic]
        if len(set(dynamic_classes)) != len(dynamic_classes):
            raise InvalidPlan("dynamic: two policies for the same class (one without class covers the rest)")
        for tier, percent in self.member_discounts.items():
            if not 0 <= percent <= 100:
                raise InvalidPlan(f"member discount {tier!r}: percent must be between 0 and 100")
        check_offers(self.packs, window_names, self.burn_rates)
        for frozen in ("service_levels", "member_discounts", "coupons", "burn_rates"):
            object.__setattr__(self, frozen, MappingProxyType(dict(getattr(self, frozen))))

    @property
    def tzinfo(self) -> TimeZone:
        return zone(self.timezone)

    def class_for(self, machine: MachineProfile) -> str | None:
        """The first hardware class the machine matches, or None."""
        return next((c.name for c in self.classes if c.matches(machine)), None)

    def prices_class(self, machine_class: str) -> bool:
        """Whether rental time of `machine_class` has a price at every moment: one without a window (window
        prices only override it)."""
        return any(
            r.meter == "time" and not r.window and r.machine_class in ("", machine_class) for r in self.rules
        )

    def check_terms(self, terms: RentalTerms, start: datetime) -> None:
        """Raise BillingError when a rental's terms cannot be billed under this plan."""
        if not self.prices_class(terms.machine_class):
            raise InvalidPlan(
                f"plan {self.name!r} has no rental-time price for class {terms.machine_class!r} "
                "(one without a window, that window prices override)"
            )
        if terms.service_level and terms.service_level not in self.service_levels:
            known = ", ".join(self.service_levels) or "none"
            raise InvalidPlan(f"service level {terms.service_level!r} is not offered (offered: {known})")
        if terms.coupon:
            coupon = self.coupons.get(terms.coupon)
            if coupon is None:
                raise InvalidPlan(f"coupon {terms.coupon!r} is not known to plan {self.name!r}")
            if not coupon.valid_at(start):
                raise InvalidPlan(f"coupon {terms.coupon!r} is not valid at {start.isoformat()}")
        for name, quantity in terms.resources.items():
            if quantity < 0:
                raise InvalidPlan(f"resource {name!r}: quantity cannot be negative")


def check_versions(versions: list[PricePlan]) -> list[PricePlan]:
    """Versions of one plan sorted by effective_from; InvalidPlan when they do not belong together."""
    ordered = sorted(versions, key=lambda v: v.effective_from)
    if not ordered:
        raise InvalidPlan("a plan needs at least one version")
    for earlier, version in itertools.pairwise(ordered):
        if version.name != ordered[0].name or version.currency != ordered[0].currency:
            raise InvalidPlan("all versions of a plan share its name and currency")
        if version.effective_from == earlier.effective_from:
            raise InvalidPlan("two versions of a plan take effect at the same time")
    return ordered
