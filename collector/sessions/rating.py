"""Rating sessions: usage from the database, prices from the billing engine."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, object_session

import billing
import billing.packs
from billing import assured
from collector.core.clock import to_us
from collector.core.errors import FailedPrecondition
from collector.db.isolation import JobOutcome, JobRun
from collector.db.models import RentalSession, Renter
from collector.metering.coverage import idle_spans, uncovered
from collector.metering.usage import UsageSummary, usage_summary
from collector.sessions import checkpoints
from collector.sessions.packs import held_packs, record_uses
from collector.sessions.plans import versions_of
from collector.sessions.price_locks import demand_locks, extend_locks

logger = logging.getLogger(__name__)

RATING_JOB = "rate-sessions"


class SessionOutOfRange(FailedPrecondition, billing.BillingError):
    """A session whose charges would leave the money range (billing/numbers.py), e.g. from implausible
    usage: it cannot be rated and keeps its last cost. It is both a billing error (what callers of the
    engine handle, and scheduled jobs record against the session) and a collector error (so that a request
    about the session gets FAILED_PRECONDITION with this sentence, not INTERNAL)."""

    def __init__(self, session_id: str, problem: billing.AmountOutOfRange) -> None:
        super().__init__(f"session {session_id}: {problem}")
        self.session_id = session_id


@contextmanager
def out_of_range_names(rental: RentalSession) -> Iterator[None]:
    """Turn the engine's AmountOutOfRange into SessionOutOfRange naming `rental`."""
    try:
        yield
    except billing.AmountOutOfRange as exc:
        raise SessionOutOfRange(rental.id, exc) from None


def rental_terms(rental: RentalSession) -> billing.RentalTerms:
    return billing.RentalTerms(
        machine_class=rental.machine_class,
        service_level=rental.service_level,
        member_tier=rental.member_tier,
        coupon=rental.coupon,
        resources={name: Decimal(quantity) for name, quantity in (rental.resources or {}).items()},
        demand=demand_locks(rental),
        packs=_held_packs(rental),
    )


def _held_packs(rental: RentalSession) -> tuple[billing.packs.HeldPack, ...]:
    """The renter's time packs the session may use (none for a session not in a database session)."""
    db = object_session(rental)
    return held_packs(db, rental) if db is not None and rental.id else ()


def machine_profile(facts: dict[str, Any]) -> billing.MachineProfile:
    """What hardware classes are matched against, from the facts a machine reported at enrollment."""
    return billing.MachineProfile(
        cpu_model=str(facts.get("cpu_model", "")),
        cores=int(facts.get("cpu_cores_logical", 0) or 0),
        memory_bytes=int(facts.get("memory_bytes", 0) or 0),
        gpu_models=tuple(str(gpu.get("name", "")) for gpu in facts.get("gpus", [])),
    )


def gpu_models(facts: dict[str, Any]) -> dict[str, str]:
    """GPU uuid -> model name, from the machine's facts."""
    return {str(gpu.get("uuid", "")): str(gpu.get("name", "")) for gpu in facts.get("gpus", [])}


def cumulative_usage(
    db: Session,
    rental: RentalSession,
    until: datetime,
    *,
    versions: list[billing.PricePlan] | None = None,
    terms: billing.RentalTerms | None = None,
    summaries: dict[tuple[str, int, int], UsageSummary] | None = None,
    with_gap_line: bool = False,
) -> tuple[billing.Usage, list[billing.Charge]]:
    """Usage of `rental` from its start to `until` (clipped to its end), and its full-precision charges.

    The session is cut into the engine's segments (plan versions, time windows, local days) and each
    segment's usage is aggregated in SQL. `versions` and `terms` (default: the session's own plan and
    terms) re-rate the same usage under another plan: what a plan recommendation compares; it passes
    `summaries` to keep each segment's usage for the other plans that cut the session the same way.

    The plan's assurance rules apply (billing/confidence.py): gaps it bills count as covered time, outages
    it credits add an "sla" line; `with_gap_line` (invoices, explain) adds the "gap" line. The usage
    returned is what reports measured, without billed gaps.
    """
    end = until if rental.ended_at is None else min(until, rental.ended_at)
    end = max(end, rental.started_at)
    models = gpu_models(rental.machine.facts or {})
    total = billing.Usage()

    versions = versions_of(rental.plan) if versions is None else versions
    span = (to_us(rental.started_at), to_us(end))
    wanted = with_gap_line or assured.needs_gaps(versions, rental.started_at)
    gaps = uncovered(db, rental.agent_id, *span) if wanted else []
    below = assured.idle_below(versions, rental.started_at)
    idle = idle_spans(db, rental.agent_id, *span, float(below)) if below is not None else []

    def usage_of(start: datetime, stop: datetime) -> billing.Usage:
        nonlocal total
        key = (rental.agent_id, to_us(start), to_us(stop))
        summary = summaries.get(key) if summaries is not None else None
        if summary is None:
            summary = usage_summary(db, rental.agent_id, key[1], key[2], with_gpus=bool(models))
            if summaries is not None:
                summaries[key] = summary
        usage = summary.billable(models)
        total = total + usage
        return usage

    extend_locks(db, rental, end)  # a lock period that began by `end` takes its published price first
    terms = rental_terms(rental) if terms is None else terms
    with out_of_range_names(rental):
        charges = assured.rate_assured(
            versions, terms, rental.started_at, end, usage_of, gaps, idle_samples=idle,
            with_gap_line=with_gap_line,
        )  # fmt: skip
    return total, charges


def rated_usage(
    db: Session,
    rental: RentalSession,
    until: datetime,
    *,
    advance: bool,
    reuse: bool = False,
    known: checkpoints.Prefetched | None = None,
) -> tuple[billing.Usage, list[billing.Charge]] | None:
    """What cumulative_usage gives, going on from the session's checkpoint (collector/sessions/
    checkpoints.py): only the usage after it is measured and priced. `advance`: `until` is now, so the
    checkpoint may move forward. `reuse`: None when nothing arrived or changed since the last rating of an
    open session without resources (its cost is still what that rating stored). `known`: what arrived
    for each session, fetched once for a job run (checkpoints.prefetch)."""
    end = until if rental.ended_at is None else min(until, rental.ended_at)
    end = max(end, rental.started_at)
    models = gpu_models(rental.machine.facts or {})
    extend_locks(db, rental, end)
    versions, terms = versions_of(rental.plan), rental_terms(rental)
    if _rates_whole_session(versions, rental.started_at):
        return cumulative_usage(db, rental, until)
    digest = checkpoints.basis(rental, terms, models)
    found = checkpoints.resumable(db, rental, digest, known)
    still = found.unchanged and rental.rated_at is not None and rental.ended_at is None
    if reuse and still and not terms.resources:
        return None
    resume = found.checkpoint(end)
    settled = checkpoints.settled_at(rental, end)
    measure = checkpoints.Measure(db, rental, models, end, settled, found.open_part())
    with out_of_range_names(rental):
        charges, kept = billing.rate_from(
            versions, terms, rental.started_at, end, measure.usage_of, resume, settled if advance else None
        )
    checkpoints.keep(found, digest, kept, measure, advance)
    total = (resume.usage if resume is not None else billing.Usage()) + measure.measured
    return total, charges


def _rates_whole_session(versions: list[billing.PricePlan], start: datetime) -> bool:
    """Whether the plan's assurance or idle rules price the session as a whole (gaps, outages and idle
    stretches may span any checkpoint): such sessions are rated from their start."""
    return assured.needs_gaps(versions, start) or assured.idle_below(versions, start) is not None


def rate_sessions(db: Session, now: datetime) -> JobOutcome:
    """Refresh the live cost of every session not yet fully invoiced, each on its own: a session that
    cannot be rated keeps its last cost, is recorded in job_failures and retried later.

    The job the scheduler runs every few seconds. Each session goes on from its checkpoint, with exactly
    the cost that rating from its start (and an invoice for the same span) gives.
    """
    query = (
        select(RentalSession)
        .join(Renter, Renter.id == RentalSession.renter_id)
        .where(or_(RentalSession.ended_at.is_(None), RentalSession.ended_at > Renter.invoiced_until))
    )
    rentals = list(db.scalars(query))
    known = checkpoints.prefetch(db, [rental.id for rental in rentals])
    run = JobRun(db, RATING_JOB, now)
    with db.no_autoflush:  # rating only reads: every session's new cost is written in one flush
        for rental in rentals:
            discard = partial(checkpoints.discard, db, rental, known)
            run.each_unflushed(f"session {rental.id}", partial(rate_session, db, rental, now, known), discard)
    db.flush()
    run.settle(f"session {rental.id}" for rental in rentals)
    return run.outcome


def rate_session(
    db: Session, rental: RentalSession, now: datetime, known: checkpoints.Prefetched | None = None
) -> None:
    """Refresh one session's live cost and covered time. Raises billing.BillingError when the session
    cannot be rated (its cost is then left as it was), SessionOutOfRange when its cost would leave the
    money range."""
    rated = rated_usage(db, rental, now, advance=True, reuse=True, known=known)
    rental.rated_at = now
    if rated is None:
        return  # one rating serves the job and every watcher until something new arrives
    usage, charges = rated
    record_uses(db, rental, charges)
    rental.cost_minor = session_total(rental, charges, rental.plan.currency).minor
    rental.covered_us = usage.covered_us


def session_total(rental: RentalSession, charges: list[billing.Charge], currency: str) -> billing.Money:
    """What the session's charges come to, each line rounded once, as its live cost and an invoice of its
    whole span have it."""
    lines = billing.build_lines(rental.id, charges)
    with out_of_range_names(rental):
        return billing.invoice_total(lines, currency)
