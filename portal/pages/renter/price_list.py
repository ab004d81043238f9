"""A price plan as the renter reads it: the version in force now (and the next one, if announced), its
prices as rows (what, machine class, when, price per unit), read from the stored plan document with the
billing library's own parser (PlanService gives the document and its rules as text, not the prices as
fields). Prices in tiers are left to the rules' text, which the page shows too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from billing import PlanFileError, parse_plan
from billing.errors import BillingError
from portal.i18n import N_
from protos.rentmeter.v1 import plans_pb2

METERS = {
    "time": N_("Rental time"),
    "cpu": N_("CPU time"),
    "gpu": N_("GPU time"),
    "memory": N_("Memory"),
    "traffic_in": N_("Traffic received"),
    "traffic_out": N_("Traffic sent"),
    "energy": N_("Energy"),
    "resource": N_("Resource"),
}


@dataclass(frozen=True)
class PriceRow:
    meter: str  # a key of METERS
    detail: str  # the GPU model or resource the price is for, else ""
    machine_class: str  # "" = every class
    window: str  # "" = any time
    price: str  # decimal text per `unit`; "" when the price is in tiers (see the rules)
    unit: str  # "h", "GB", "GPU-h", ...


@dataclass(frozen=True)
class PlanPrices:
    plan: plans_pb2.PricePlan
    current: plans_pb2.PlanVersion
    upcoming: plans_pb2.PlanVersion | None
    rows: tuple[PriceRow, ...]

    @property
    def machine_classes(self) -> list[str]:
        """The classes the plan prices by name, in the plan's order."""
        return list(dict.fromkeys(row.machine_class for row in self.rows if row.machine_class))


def version_in_force(plan: plans_pb2.PricePlan, now: datetime) -> tuple[plans_pb2.PlanVersion, ...]:
    """(the version in force at `now`, the next one if there is one); the first version when none is yet."""
    versions = list(plan.versions)
    started = [v for v in versions if v.effective_from.ToDatetime(tzinfo=UTC) <= now] or versions[:1]
    later = [v for v in versions if v.effective_from.ToDatetime(tzinfo=UTC) > now and v is not started[-1]]
    return (started[-1], *later[:1])


def price_rows(document: str) -> tuple[PriceRow, ...]:
    """The prices of a stored plan document; none when it cannot be read (the rules still show)."""
    try:
        version = parse_plan(document, strict=False)
    except (PlanFileError, BillingError):
        return ()
    return tuple(
        PriceRow(
            meter=rule.meter,
            detail=rule.gpu_model or rule.resource,
            machine_class=rule.machine_class,
            window=rule.window,
            price=str(rule.pricing.price) if rule.pricing.mode == "standard" else "",
            unit=rule.unit_label,
        )
        for rule in version.rules
    )


def plan_prices(plan: plans_pb2.PricePlan, now: datetime) -> PlanPrices | None:
    """The plan as the prices page shows it; None for a plan without versions."""
    if not plan.versions:
        return None
    current, *upcoming = version_in_force(plan, now)
    return PlanPrices(plan, current, upcoming[0] if upcoming else None, price_rows(current.document))
