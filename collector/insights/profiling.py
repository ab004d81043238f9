"""The profile job: folds what is new since its last run into each renter's and machine class's profile.

Incremental, like CloudKitty's orchestrator: each renter has a watermark (`folded_until` for sessions,
`ledger_after` for wallet entries), advanced in the transaction that stores the folded result, so a run
that stops half-way keeps what it stored and a session is never counted twice. A session is folded once it
has ended at least `grace` ago (late reports are in by then); its samples are aggregated once, over its
own span, with the (agent, start) index — no run rescans all samples. Renters are taken INSIGHT_BATCH per
transaction, each in a savepoint (collector/db/isolation.py): one renter's failure is recorded and
retried, the others are profiled. Erased renters get no profile.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import Session

from billing import ledger
from collector.accounts.renters import renter_zone
from collector.core.clock import to_us
from collector.db.database import Database
from collector.db.isolation import JobOutcome, JobRun
from collector.db.models import (
    ClassProfile,
    GpuSample,
    LedgerEntry,
    LedgerTransaction,
    RentalSession,
    Renter,
    RenterProfile,
    Sample,
)
from collector.insights.behaviour import IDLE_BELOW, ClassOccupancy, RenterBehaviour, SessionFacts

logger = logging.getLogger(__name__)

PROFILE_JOB = "profile-usage"
INSIGHT_BATCH = 1000
NEVER = datetime(1970, 1, 1, tzinfo=UTC)
WALLET = ledger.wallet("")  # the prefix of every renter's wallet account


async def refresh_profiles(database: Database, now: datetime, grace: timedelta) -> JobOutcome:
    """The job: every renter with sessions ended since its watermark (and at least `grace` ago) or new
    wallet entries, INSIGHT_BATCH renters per transaction."""
    cutoff = now - grace
    renters = await database.run(renters_to_profile, cutoff)
    outcome = JobOutcome(PROFILE_JOB)
    for first in range(0, len(renters), INSIGHT_BATCH):
        batch = renters[first : first + INSIGHT_BATCH]
        outcome.add(await database.run(profile_renters, now, cutoff, batch))
    if outcome.processed:
        logger.info("profiles: %d renters brought up to %s", outcome.processed, cutoff.isoformat())
    return outcome


def renters_to_profile(db: Session, cutoff: datetime) -> list[str]:
    """Renters (not erased) with something new to fold, sorted."""
    sessions = select(RentalSession.renter_id).where(*_new_sessions(cutoff)).distinct()
    profile_of_entry = RenterProfile.renter_id == func.substr(LedgerEntry.account, len(WALLET) + 1)
    entries = (
        select(func.substr(LedgerEntry.account, len(WALLET) + 1))
        .outerjoin(RenterProfile, profile_of_entry)
        .where(
            LedgerEntry.account.startswith(WALLET),
            or_(RenterProfile.renter_id.is_(None), LedgerEntry.id > RenterProfile.ledger_after),
        )
        .distinct()
    )
    found = set(db.scalars(sessions)) | set(db.scalars(entries))
    erased = set(db.scalars(select(Renter.id).where(Renter.erased_at.is_not(None))))
    return sorted(found - erased)


def _new_sessions(cutoff: datetime) -> list[ColumnElement[bool]]:
    """Conditions (joined with the renter's profile) of sessions ended since the watermark, by `cutoff`."""
    watermark = (
        select(RenterProfile.folded_until)
        .where(RenterProfile.renter_id == RentalSession.renter_id)
        .scalar_subquery()
    )
    return [
        RentalSession.ended_at.is_not(None),
        RentalSession.ended_at <= cutoff,
        or_(watermark.is_(None), RentalSession.ended_at > watermark),
    ]


def profile_renters(db: Session, now: datetime, cutoff: datetime, renter_ids: list[str]) -> JobOutcome:
    """Fold everything new of `renter_ids` into their profiles, and what the renters that succeeded added
    into the class profiles (once per class at the end, in the batch's transaction)."""
    sessions: dict[str, list[RentalSession]] = defaultdict(list)
    query = select(RentalSession).where(RentalSession.renter_id.in_(renter_ids), *_new_sessions(cutoff))
    for rental in db.scalars(query.order_by(RentalSession.ended_at, RentalSession.id)):
        sessions[rental.renter_id].append(rental)
    entries = _wallet_entries(db, renter_ids)
    run = JobRun(db, PROFILE_JOB, now)
    classes: dict[tuple[str, str], ClassOccupancy] = {}
    for renter_id in renter_ids:
        work = partial(_profile_one, db, now, cutoff, renter_id, sessions[renter_id], entries[renter_id])
        added = run.each(f"renter {renter_id}", work)
        for key, occupancy in (added or {}).items():
            classes.setdefault(key, ClassOccupancy()).merge(occupancy)
    for (host_id, machine_class), occupancy in sorted(classes.items()):
        _add_to_class(db, host_id, machine_class, occupancy, now)
    return run.outcome


def _wallet_entries(db: Session, renter_ids: list[str]) -> dict[str, list[tuple[int, str, str, int]]]:
    """Per renter, its wallet entries after its watermark: (id, kind, currency, amount), oldest first."""
    query_after = select(RenterProfile.renter_id, RenterProfile.ledger_after).where(
        RenterProfile.renter_id.in_(renter_ids)
    )
    after = {renter_id: mark for renter_id, mark in db.execute(query_after)}
    floor = min((after.get(r, 0) for r in renter_ids), default=0)
    query = (
        select(LedgerEntry.id, LedgerEntry.account, LedgerTransaction.kind, LedgerEntry.currency,
               LedgerEntry.amount_minor)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerEntry.account.in_([WALLET + r for r in renter_ids]), LedgerEntry.id > floor)
        .order_by(LedgerEntry.id)
    )  # fmt: skip
    found: dict[str, list[tuple[int, str, str, int]]] = defaultdict(list)
    for entry_id, account, kind, currency, amount in db.execute(query):
        renter_id = account[len(WALLET) :]
        if entry_id > after.get(renter_id, 0):
            found[renter_id].append((entry_id, kind, currency, amount))
    return found


def _profile_one(
    db: Session,
    now: datetime,
    cutoff: datetime,
    renter_id: str,
    rentals: Iterable[RentalSession],
    entries: list[tuple[int, str, str, int]],
) -> dict[tuple[str, str], ClassOccupancy]:
    """Fold one renter's new sessions and wallet entries into its profile; return what they add to each
    (host, class) profile."""
    renter = db.get(Renter, renter_id)
    assert renter is not None
    profile = db.get(RenterProfile, renter_id)
    if profile is None:
        profile = RenterProfile(
            renter_id=renter_id, folded_until=NEVER, ledger_after=0, updated_at=now, data={}
        )
        db.add(profile)
    behaviour = RenterBehaviour.from_data(profile.data)
    zone = renter_zone(renter) or UTC
    classes: dict[tuple[str, str], ClassOccupancy] = {}
    for rental in rentals:
        facts = session_facts(db, rental)
        behaviour.fold_session(facts, zone)
        classes.setdefault((facts.host_id, facts.machine_class), ClassOccupancy()).fold_session(facts, UTC)
    for entry_id, kind, currency, amount in entries:
        behaviour.fold_wallet_entry(kind, currency, amount)
        profile.ledger_after = entry_id
    profile.data = behaviour.to_data()
    profile.folded_until = max(profile.folded_until, cutoff)
    profile.updated_at = now
    return classes


def _add_to_class(
    db: Session, host_id: str, machine_class: str, added: ClassOccupancy, now: datetime
) -> None:
    """Add a renter's new sessions on one host's machines of one class to that class profile."""
    key = (ClassProfile.host_id == host_id, ClassProfile.machine_class == machine_class)
    row = db.scalar(select(ClassProfile).where(*key))
    if row is None:
        row = ClassProfile(host_id=host_id, machine_class=machine_class, updated_at=now, data={})
        db.add(row)
    occupancy = ClassOccupancy.from_data(row.data)
    occupancy.merge(added)
    row.data = occupancy.to_data()
    row.updated_at = now


def session_facts(db: Session, rental: RentalSession) -> SessionFacts:
    """The session's span and terms with its samples' totals (samples starting inside it, as rating counts
    counters): two aggregate queries over the session's own span."""
    assert rental.ended_at is not None
    params = {
        "agent_id": rental.agent_id,
        "start_us": to_us(rental.started_at),
        "end_us": to_us(rental.ended_at),
    }
    connection = db.connection()  # Core: two plain aggregates, no ORM work per session
    covered, idle, busy, rx, tx = (int(v or 0) for v in connection.execute(_SAMPLES, params).one())
    gpu_us, gpu_busy = (int(v or 0) for v in connection.execute(_GPUS, params).one())
    facts = rental.machine.facts or {}
    return SessionFacts(
        session_id=rental.id,
        host_id=rental.machine.host_id,
        machine_class=rental.machine_class,
        started_at=rental.started_at,
        ended_at=rental.ended_at,
        currency=rental.plan.currency,
        cost_minor=rental.cost_minor,
        covered_us=covered,
        idle_us=idle,
        cpu_busy_us=busy,
        cores=int(facts.get("cpu_cores_logical", 0) or 0),
        gpu_us=gpu_us,
        gpu_busy=gpu_busy,
        rx_bytes=rx,
        tx_bytes=tx,
    )


def _samples_query() -> Select[*tuple[Any, ...]]:
    duration = Sample.end_us - Sample.start_us
    return select(
        func.sum(duration),
        func.sum(case((Sample.cpu_utilization < IDLE_BELOW, duration), else_=0)),
        func.sum(Sample.cpu_busy_us),
        func.sum(Sample.net_rx_bytes),
        func.sum(Sample.net_tx_bytes),
    ).where(
        Sample.agent_id == bindparam("agent_id"),
        and_(Sample.start_us >= bindparam("start_us"), Sample.start_us < bindparam("end_us")),
    )


def _gpus_query() -> Select[*tuple[Any, ...]]:
    duration = GpuSample.end_us - GpuSample.start_us
    return select(func.sum(duration), func.sum(GpuSample.utilization_percent * duration)).where(
        GpuSample.agent_id == bindparam("agent_id"),
        GpuSample.start_us >= bindparam("start_us"),
        GpuSample.start_us < bindparam("end_us"),
    )


_SAMPLES = _samples_query()
_GPUS = _gpus_query()
