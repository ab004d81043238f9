"""Time packs a session may use (billing/packs.py): the renter's packs from the database, the pack time each
session used (kept whenever the session is rated), and what is left of them.

Sessions use a pack in the order they started: a pack's time left, as one session sees it, is its pack
time minus what the renter's sessions that started earlier used. So a later session never changes what an
earlier one was charged (a session is rated again from its start each time, e.g. for an invoice), and two
sessions running at once share a pack first come, first served: the later one's pack time shrinks as the
earlier one uses it, and its time beyond is metered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

import billing
from billing.packs import HeldPack, consumption_order, pack_use_us
from collector.db.models import PackUse, RentalSession, TimePack
from collector.sessions.plans import versions_of

WARN_BEFORE = timedelta(minutes=10)  # the machine is told when the packs have less wall time left


def used_before(db: Session, pack_ids: Sequence[int], rental: RentalSession) -> dict[int, int]:
    """Pack id -> pack time used by the renter's sessions that started before `rental` (the earlier of
    two sessions at the same moment: the smaller id), in microseconds."""
    if not pack_ids:
        return {}
    earlier = or_(
        RentalSession.started_at < rental.started_at,
        and_(RentalSession.started_at == rental.started_at, RentalSession.id < rental.id),
    )
    rows = db.execute(
        select(PackUse.pack_id, func.coalesce(func.sum(PackUse.used_us), 0))
        .join(RentalSession, RentalSession.id == PackUse.session_id)
        .where(PackUse.pack_id.in_(pack_ids), earlier)
        .group_by(PackUse.pack_id)
    )
    return {int(pack_id): int(used) for pack_id, used in rows}


def packs_of(db: Session, rental: RentalSession) -> list[TimePack]:
    """The renter's packs bought under the session's plan that are still valid after the session began."""
    query = select(TimePack).where(
        TimePack.renter_id == rental.renter_id,
        TimePack.plan_id == rental.plan_id,
        TimePack.valid_until > rental.started_at,
    )
    return list(db.scalars(query.order_by(TimePack.id)))


def held_packs(db: Session, rental: RentalSession) -> tuple[HeldPack, ...]:
    """The packs the session may use, with the pack time left before it."""
    packs = packs_of(db, rental)
    others = used_before(db, [p.id for p in packs], rental)
    return tuple(
        HeldPack(
            id=str(pack.id),
            name=pack.name,
            left_us=None if pack.time_us is None else max(pack.time_us - others.get(pack.id, 0), 0),
            valid_from=pack.bought_at,
            valid_until=pack.valid_until,
            window=pack.window,
        )
        for pack in packs
    )


def after_own_use(db: Session, rental: RentalSession, packs: Sequence[HeldPack]) -> tuple[HeldPack, ...]:
    """`packs` less what the session itself used so far: what they still pay from now on."""
    rows = db.scalars(select(PackUse).where(PackUse.session_id == rental.id))
    mine = {str(row.pack_id): row.used_us for row in rows}
    return tuple(
        p if p.left_us is None else replace(p, left_us=max(p.left_us - mine.get(p.id, 0), 0)) for p in packs
    )


def record_uses(db: Session, rental: RentalSession, charges: Sequence[billing.Charge]) -> None:
    """Keep the pack time the session's charges used from each pack (rows of packs no longer used: 0)."""
    used = {int(pack_id): micros for pack_id, micros in pack_use_us(charges).items()}
    rows = {row.pack_id: row for row in db.scalars(select(PackUse).where(PackUse.session_id == rental.id))}
    for pack_id, row in rows.items():
        row.used_us = used.pop(pack_id, 0)
    for pack_id, micros in used.items():
        db.add(PackUse(pack_id=pack_id, session_id=rental.id, used_us=micros, warned=False))
    db.flush()


@dataclass(frozen=True)
class PackTime:
    """What the session's packs still pay from `at`: wall time of rental at the class's burn rate (a pass:
    until it expires), whether the session used any, and whether one it used says stop."""

    wall_left: timedelta
    used_any: bool
    stop_when_used_up: bool
    burn: Fraction

    @property
    def exhausted(self) -> bool:
        return self.used_any and self.wall_left <= timedelta(0)


def pack_time(db: Session, rental: RentalSession, terms: billing.RentalTerms, at: datetime) -> PackTime:
    """What is left of the session's packs at `at` (valid then; a windowed pack counts its time left even
    outside its window)."""
    versions = versions_of(rental.plan)
    version = versions[billing.version_at(versions, at)] if at >= versions[0].effective_from else versions[0]
    burn = Fraction(version.burn_rates.get(rental.machine_class, Decimal(1)))
    usable = [p for p in consumption_order(terms.packs) if p.valid_from <= at < p.valid_until]
    uses = {row.pack_id: row for row in db.scalars(select(PackUse).where(PackUse.session_id == rental.id))}
    used_ids = [pid for pid, row in uses.items() if row.used_us > 0]
    stop = bool(used_ids) and any(
        pack.when_used_up == "stop" for pack in db.scalars(select(TimePack).where(TimePack.id.in_(used_ids)))
    )
    passes = [p.valid_until - at for p in usable if p.left_us is None]
    if passes:
        return PackTime(max(passes), bool(used_ids), stop, burn)
    mine = {str(pid): row.used_us for pid, row in uses.items()}
    left_us = sum(max((p.left_us or 0) - mine.get(p.id, 0), 0) for p in usable)
    wall = timedelta(microseconds=int(Fraction(left_us) / burn))
    return PackTime(wall, bool(used_ids), stop, burn)


def warn_once(db: Session, rental: RentalSession) -> bool:
    """Mark the session's pack uses as warned; True when one was not yet (the warning is due now)."""
    rows = [row for row in db.scalars(select(PackUse).where(PackUse.session_id == rental.id))]
    due = any(not row.warned for row in rows)
    for row in rows:
        row.warned = True
    return due
