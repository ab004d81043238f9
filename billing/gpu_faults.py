"""Service-level credits for a GPU that fails the renter while the machine keeps reporting.

A sample of a session's machine whose GPUs lack one of those the machine enrolled with (its facts) is a
GPU fault: the GPU fell off the bus, its driver lost it, or the host took it away. Back-to-back faulty
samples make a stretch; a stretch longer than the plan's `sla_outage_longer_than` is credited like an
outage of the machine (billing/confidence.py): `sla_credit` x what the stretch costs as rental time, at
most what the session's other lines charge. The "sla_gpu" line names the missing GPUs and the times.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from billing.assurance import Assurance
from billing.charges import Charge, Piece
from billing.confidence import Gap, time_price
from billing.money import to_decimal
from billing.plan import PricePlan, RentalTerms

GPU_SLA_METER = "sla_gpu"
_US = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class GpuFault:
    """One sample's span in which the GPUs `missing` (uuids) did not report."""

    start: datetime
    end: datetime
    missing: frozenset[str]


@dataclass(frozen=True, slots=True)
class FaultStretch:
    start: datetime
    end: datetime
    missing: frozenset[str]  # every GPU missing at some time in the stretch


def fault_stretches(faults: Iterable[GpuFault]) -> list[FaultStretch]:
    """Back-to-back faulty samples merged, in time order."""
    found: list[FaultStretch] = []
    for fault in sorted(faults, key=lambda f: f.start):
        last = found[-1] if found else None
        if last is not None and fault.start <= last.end:
            found[-1] = FaultStretch(last.start, max(last.end, fault.end), last.missing | fault.missing)
        else:
            found.append(FaultStretch(fault.start, fault.end, fault.missing))
    return found


def gpu_fault_credit(
    versions: Sequence[PricePlan],
    terms: RentalTerms,
    faults: Iterable[GpuFault],
    rule: Assurance,
    charged: Sequence[Charge],
) -> Charge | None:
    """The "sla_gpu" credit (negative) for the stretches longer than the plan's outage threshold, or None."""
    if not rule.credits_outages:
        return None
    limit = timedelta(microseconds=rule.sla_outage_longer_than_us)
    long = [s for s in fault_stretches(faults) if s.end - s.start > limit]
    if not long:
        return None
    price = time_price(versions, terms, [Gap(s.start, s.end) for s in long])
    charged_total = sum((Fraction(c.amount) for c in charged), Fraction(0))
    credit = min(price * Fraction(rule.sla_credit), max(charged_total, Fraction(0)))
    if credit <= 0:
        return None
    seconds = sum((s.end - s.start) // _US for s in long)
    spans = ", ".join(
        f"{', '.join(sorted(s.missing))} from {s.start.isoformat()} to {s.end.isoformat()}" for s in long
    )
    return Charge(
        meter=GPU_SLA_METER,
        description=f"service credit: GPU missing {_s(seconds)} s during the session ({spans}),"
        f" credited {format(rule.sla_credit.normalize(), 'f')} x its price",
        quantity=Decimal(seconds).scaleb(-6).normalize(),
        unit="s",
        rate=Decimal(0),
        rate_unit="",
        amount=-to_decimal(credit),
        currency=versions[0].currency,
        pieces=tuple(
            Piece(s.start, s.end, "", Decimal((s.end - s.start) // _US).scaleb(-6), Decimal(0), "gpu missing")
            for s in long
        ),
    )


def missing_gpus(expected: Iterable[str], present: Iterable[str]) -> frozenset[str]:
    """The enrolled GPUs (uuids) a sample lacks."""
    return frozenset(expected) - frozenset(present)


def _s(micros: int) -> str:
    return format((Decimal(micros) / 1_000_000).normalize(), "f")
