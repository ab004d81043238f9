"""How an invoice line's quantity was obtained, and what gaps in a machine's reports bill and credit.

A session's span is either covered by its machine's signed reports or not; an uncovered stretch is a gap.
- measured: a usage line; its quantity comes from signed reports (`covered_us` of the span they cover,
  `uncovered_us` of the span they do not);
- gap: the "gap" line, quantity the seconds without reports; it charges nothing itself: a plan may bill
  gaps shorter than `bill_gaps_shorter_than` as rental time (added to the covered time, so they are priced
  by the time rule like any covered second), the rest is not billed;
- adjusted: late usage for an earlier period, and the "sla" credit line: an outage (a gap longer than the
  plan's `sla_outage_longer_than`) credits `sla_credit` times what the outage would cost as rental time,
  priced by the same rating as every charge, at most what the session's other lines charge.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from billing.assurance import Assurance
from billing.charges import Charge, Piece
from billing.meters import Usage
from billing.money import to_decimal
from billing.plan import PricePlan, RentalTerms
from billing.rating import rate

MEASURED, GAP, ADJUSTED = "measured", "gap", "adjusted"
GAP_METER, SLA_METER = "gap", "sla"
_US = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Gap:
    """[start, end) of a session without any report covering it."""

    start: datetime
    end: datetime

    @property
    def us(self) -> int:
        return (self.end - self.start) // _US

    def overlap_us(self, start: datetime, end: datetime) -> int:
        return max((min(self.end, end) - max(self.start, start)) // _US, 0)


@dataclass(frozen=True, slots=True)
class Confidence:
    """How a line's quantity was obtained: basis, and the seconds of its span reports cover and do not."""

    basis: str = MEASURED
    covered_us: int = 0
    uncovered_us: int = 0


def billed_gaps(gaps: Iterable[Gap], rule: Assurance) -> list[Gap]:
    """The gaps the plan bills as rental time: those shorter than `bill_gaps_shorter_than`."""
    limit = rule.bill_gaps_shorter_than_us
    return [gap for gap in gaps if limit and gap.us < limit]


def outages(gaps: Iterable[Gap], rule: Assurance) -> list[Gap]:
    """The gaps the plan's service-level rule credits: longer than `sla_outage_longer_than`."""
    if not rule.credits_outages:
        return []
    return [gap for gap in gaps if gap.us > rule.sla_outage_longer_than_us]


def with_billed_gaps(usage: Usage, billed: Sequence[Gap], start: datetime, end: datetime) -> Usage:
    """`usage` of [start, end) with the billed gaps' time inside it added to its covered time."""
    extra = sum(gap.overlap_us(start, end) for gap in billed)
    if not extra:
        return usage
    return Usage(usage.covered_us + extra, usage.net_rx_bytes, usage.net_tx_bytes, usage.cpu_busy_us,
                 usage.memory_byte_us, usage.energy_mj, usage.gpu_us)  # fmt: skip


def gap_charge(gaps: Sequence[Gap], rule: Assurance, currency: str) -> Charge | None:
    """The "gap" line: the seconds without reports and what became of them; it charges nothing itself."""
    total = sum(gap.us for gap in gaps)
    if not total:
        return None
    billed = billed_gaps(gaps, rule)
    billed_us = sum(gap.us for gap in billed)
    count = f"{len(gaps)} gap" + ("s" if len(gaps) != 1 else "")
    parts = []
    if billed_us:
        parts.append(f"{_s(billed_us)} s in gaps shorter than {_s(rule.bill_gaps_shorter_than_us)} s billed"
                     " as rental time")  # fmt: skip
    if total - billed_us:
        parts.append(f"{_s(total - billed_us)} s not billed")
    return Charge(
        meter=GAP_METER,
        description=f"no reports for {_s(total)} s ({count}): " + ", ".join(parts),
        quantity=Decimal(total).scaleb(-6).normalize(),
        unit="s",
        rate=Decimal(0),
        rate_unit="",
        amount=Decimal(0),
        currency=currency,
        pieces=tuple(Piece(g.start, g.end, "", Decimal(g.us).scaleb(-6), Decimal(0)) for g in gaps),
    )


def sla_credit(
    versions: Sequence[PricePlan],
    terms: RentalTerms,
    found: Sequence[Gap],
    rule: Assurance,
    charged: Sequence[Charge],
) -> Charge | None:
    """The service-level credit for the outages `found` (negative), or None. Each outage is priced as
    rental time by billing.rate (windows, versions and multipliers apply; increments, minimums and
    session-wide terms do not), times `sla_credit`; the credit is at most what `charged` comes to."""
    if not found or not rule.credits_outages:
        return None
    price = time_price(versions, terms, found)
    charged_total = sum((Fraction(c.amount) for c in charged), Fraction(0))
    credit = min(price * Fraction(rule.sla_credit), max(charged_total, Fraction(0)))
    if credit <= 0:
        return None
    seconds = sum(outage.us for outage in found)
    spans = ", ".join(f"{o.start.isoformat()} to {o.end.isoformat()}" for o in found)
    return Charge(
        meter=SLA_METER,
        description=f"service credit: machine silent {_s(seconds)} s during the session ({spans}),"
        f" credited {format(rule.sla_credit.normalize(), 'f')} x its price",
        quantity=Decimal(seconds).scaleb(-6).normalize(),
        unit="s",
        rate=Decimal(0),
        rate_unit="",
        amount=-to_decimal(credit),
        currency=versions[0].currency,
        pieces=tuple(
            Piece(o.start, o.end, "", Decimal(o.us).scaleb(-6), Decimal(0), "outage") for o in found
        ),
    )


def time_price(versions: Sequence[PricePlan], terms: RentalTerms, spans: Iterable[Gap]) -> Fraction:
    """What `spans` cost as covered rental time, each priced alone by billing.rate (windows, versions and
    multipliers apply; increments, minimums and session-wide terms do not)."""
    price = Fraction(0)
    for span in spans:
        for charge in rate(versions, terms, span.start, span.end, _all_covered):
            if charge.meter.split("#")[0].split("@")[0].split("~")[0] == "time":
                price += sum((Fraction(p.amount) for p in charge.pieces if not p.note), Fraction(0))
    return price


def _all_covered(start: datetime, end: datetime) -> Usage:
    return Usage(covered_us=(end - start) // _US)


def line_basis(meter: str, description: str) -> str:
    """measured, gap or adjusted, from what a line charges."""
    if meter == GAP_METER:
        return GAP
    if meter in (SLA_METER, "idle") or description.startswith("adjustment"):
        return ADJUSTED
    return MEASURED


def _s(micros: int) -> str:
    return format((Decimal(micros) / 1_000_000).normalize(), "f")


def basis_text(basis: str, covered_us: int, uncovered_us: int) -> str:
    """A line's basis as printed: "measured, 1170 s covered, 630 s not", "gap, 630 s without reports",
    "adjusted"."""
    if basis == MEASURED:
        return f"measured, {_s(covered_us)} s covered" + (
            f", {_s(uncovered_us)} s not" if uncovered_us else ""
        )
    if basis == GAP:
        return f"gap, {_s(uncovered_us)} s without reports"
    return basis
