"""What machines earned, per machine, period (a day, week or month in a time zone) and currency.

- invoiced: the invoice lines of the machine's sessions (adjustments, discounts and tax included; credit
  notes not deducted), each in the period where its invoiced stretch begins: the later of the invoice
  period's start and the session's start;
- uninvoiced: the rated cost of each session not yet fully invoiced (the rating job keeps it current)
  minus what its invoices charged so far, in the period where that stretch begins: the later of the
  session's start and its renter's invoiced-until mark;
- sessions: sessions that overlap the period; rented seconds: the time inside a session that the machine's
  reports cover, split exactly at the period boundaries.

Periods start at local midnights (weeks on Monday, months on the 1st) in the zone; the first and last
periods hold only what falls inside [start, end). Rows without sessions are left out. Three queries in
all: sessions, invoice lines, and covered time (samples joined to the sessions and periods in SQL).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, TypeVar

from sqlalchemy import BigInteger, Integer, Select, String, and_, case, column, func, or_, select, values
from sqlalchemy.orm import Session

from billing.cycles import Cycle
from collector.core.clock import to_us
from collector.core.errors import InvalidArgument
from collector.db.models import Invoice, InvoiceLine, Machine, PricePlan, RentalSession, Renter, Sample
from collector.metering.bounds import MAX_SAMPLE_US

PERIODS = ("day", "week", "month")
_CYCLE = {"day": "daily", "week": "weekly", "month": "monthly"}
# A Monday, the 1st of a month: weeks start on Mondays, months on their first day.
_ANCHOR = datetime(2001, 1, 1)
MAX_PERIODS = 1000


@dataclass
class EarningsRow:
    agent_id: str
    period_start: datetime
    currency: str
    invoiced_minor: int = 0
    uninvoiced_minor: int = 0
    sessions: int = 0
    rented_us: int = 0


def period_starts(start: datetime, end: datetime, period: str, zone: tzinfo) -> list[datetime]:
    """The boundaries of the periods that cover [start, end), the first at or before `start`, then the end
    of the last one; InvalidArgument beyond MAX_PERIODS periods."""
    if period not in PERIODS:
        raise InvalidArgument(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
    cycle = Cycle(_CYCLE[period], _ANCHOR.replace(tzinfo=zone), zone)
    bounds = [cycle.at_or_before(start)]
    while bounds[-1] < end:
        if len(bounds) > MAX_PERIODS:
            raise InvalidArgument(f"at most {MAX_PERIODS} periods: choose a longer period or a shorter span")
        bounds.append(cycle.after(bounds[-1]))
    return bounds


def earnings(
    db: Session,
    start: datetime,
    end: datetime,
    period: str,
    zone: tzinfo,
    *,
    host_id: str | None = None,
    agent_id: str = "",
) -> list[EarningsRow]:
    """Earnings rows over [start, end), by machine, period and currency (see the module's docstring)."""
    bounds = period_starts(start, end, period, zone)
    sessions = _sessions(db, start, end, host_id, agent_id)
    rows: dict[tuple[str, datetime, str], EarningsRow] = {}

    def row(agent: str, at: datetime, currency: str) -> EarningsRow | None:
        if not start <= at < end:
            return None
        key = (agent, bounds[_index_of(bounds, at)], currency)
        return rows.setdefault(key, EarningsRow(*key))

    for rental, currency, _ in sessions.values():
        first = _index_of(bounds, max(rental.started_at, start))
        last = _index_of(bounds, min(rental.ended_at or end, end), before=True)
        for index in range(first, last + 1):
            found = row(rental.agent_id, max(bounds[index], start), currency)
            if found is not None:
                found.sessions += 1
    invoiced_by_session: dict[str, int] = defaultdict(int)
    for session_id, invoice_start, amount in _invoice_lines(db, start, end, host_id, agent_id):
        rental, currency, _ = sessions[session_id]
        invoiced_by_session[session_id] += amount
        found = row(rental.agent_id, max(invoice_start, rental.started_at), currency)
        if found is not None:
            found.invoiced_minor += amount
    for session_id, (rental, currency, invoiced_until) in sessions.items():
        if rental.ended_at is None or rental.ended_at > invoiced_until:
            found = row(rental.agent_id, max(rental.started_at, invoiced_until), currency)
            if found is not None:
                found.uninvoiced_minor += rental.cost_minor - invoiced_by_session[session_id]
    for session_id, index, covered in _covered(db, bounds, start, end, sessions):
        rental, currency, _ = sessions[session_id]
        found = row(rental.agent_id, max(bounds[index], start), currency)
        if found is not None:
            found.rented_us += covered
    return sorted(rows.values(), key=lambda r: (r.agent_id, r.period_start, r.currency))


def _index_of(bounds: list[datetime], at: datetime, *, before: bool = False) -> int:
    """The period holding `at` (`before`: holding the instant just before it, for an exclusive end)."""
    found = bisect_left(bounds, at) if before else bisect_right(bounds, at)
    return max(found - 1, 0)


Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")


def _visible(query: Q, start: datetime, end: datetime, host_id: str | None, agent_id: str) -> Q:
    """Sessions that overlap [start, end), on the host's machines or the one machine asked for."""
    query = query.where(
        RentalSession.started_at < end, or_(RentalSession.ended_at.is_(None), RentalSession.ended_at > start)
    )
    if host_id is not None:
        query = query.join(Machine, Machine.agent_id == RentalSession.agent_id).where(
            Machine.host_id == host_id
        )
    return query.where(RentalSession.agent_id == agent_id) if agent_id else query


Sessions = dict[str, tuple[RentalSession, str, datetime]]


def _sessions(db: Session, start: datetime, end: datetime, host_id: str | None, agent_id: str) -> Sessions:
    """Each session by id, with its currency and its renter's invoiced-until mark."""
    query = (
        select(RentalSession, PricePlan.currency, Renter.invoiced_until)
        .join(PricePlan, PricePlan.id == RentalSession.plan_id)
        .join(Renter, Renter.id == RentalSession.renter_id)
    )
    found = db.execute(_visible(query, start, end, host_id, agent_id))
    return {rental.id: (rental, currency, until) for rental, currency, until in found}


def _invoice_lines(
    db: Session, start: datetime, end: datetime, host_id: str | None, agent_id: str
) -> list[tuple[str, datetime, int]]:
    """(session, invoice period start, amount) for every invoice of the sessions."""
    query = (
        select(InvoiceLine.session_id, Invoice.period_start, func.sum(InvoiceLine.amount_minor))
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .join(RentalSession, RentalSession.id == InvoiceLine.session_id)
        .group_by(InvoiceLine.session_id, Invoice.id, Invoice.period_start)
    )
    return [
        (s, at, int(amount)) for s, at, amount in db.execute(_visible(query, start, end, host_id, agent_id))
    ]


# Sessions per covered-time query: 4 parameters each, with the periods' 3 each well under SQLite's limit.
SESSIONS_PER_QUERY = 4000


def _covered(
    db: Session, bounds: list[datetime], start: datetime, end: datetime, sessions: Sessions
) -> list[tuple[str, int, int]]:
    """(session, period index, covered µs): the samples' overlap with the session and the period."""
    first, last = to_us(start), to_us(end)
    periods = [
        (index, max(to_us(bounds[index]), first), min(to_us(bounds[index + 1]), last))
        for index in range(len(bounds) - 1)
    ]
    spans = [
        (
            session_id,
            rental.agent_id,
            to_us(rental.started_at),
            to_us(rental.ended_at) if rental.ended_at else last,
        )
        for session_id, (rental, _, _) in sessions.items()
    ]
    found = []
    for offset in range(0, len(spans), SESSIONS_PER_QUERY):
        found += list(db.execute(_covered_query(periods, spans[offset : offset + SESSIONS_PER_QUERY])))
    return [(session_id, int(index), int(covered)) for session_id, index, covered in found]


def _covered_query(
    periods: list[tuple[int, int, int]], spans: list[tuple[str, str, int, int]]
) -> Select[Any]:
    per = values(column("idx", Integer), column("start_us", BigInteger), column("end_us", BigInteger),
                 name="periods").data(periods).cte("periods")  # fmt: skip
    ses = values(column("session_id", String), column("agent_id", String), column("start_us", BigInteger),
                 column("end_us", BigInteger), name="spans").data(spans).cte("spans")  # fmt: skip
    low = _greatest(_greatest(Sample.start_us, ses.c.start_us), per.c.start_us)
    high = _least(_least(Sample.end_us, ses.c.end_us), per.c.end_us)
    inside = and_(
        Sample.agent_id == ses.c.agent_id,
        Sample.start_us >= ses.c.start_us - MAX_SAMPLE_US,
        Sample.start_us < ses.c.end_us,
        Sample.end_us > ses.c.start_us,
    )
    return (
        select(ses.c.session_id, per.c.idx, func.sum(case((high > low, high - low), else_=0)))
        .select_from(
            ses.join(Sample, inside).join(
                per, (Sample.start_us < per.c.end_us) & (Sample.end_us > per.c.start_us)
            )
        )
        .group_by(ses.c.session_id, per.c.idx)
    )


def _least(a: Any, b: Any) -> Any:
    return case((a < b, a), else_=b)


def _greatest(a: Any, b: Any) -> Any:
    return case((a > b, a), else_=b)
