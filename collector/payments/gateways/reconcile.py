"""Reconciliation: a gateway's statement of a day (China Standard Time) against our orders and ledger.

Mismatches: `paid_not_credited` (the statement has a payment our order does not show as paid),
`credited_not_paid` (we credited an order the statement does not have), `amount_differs` (both have it,
the amounts differ), `refund_not_recorded` (a refund in the statement we do not have as succeeded). Each is
kept once per gateway, day, kind and reference until resolved: `credit` applies the statement's payment
to its order (credited once, as a notification would), `accept` keeps a note; both are audited."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.accounts import audit
from collector.core.errors import FailedPrecondition, InvalidArgument, NotFound
from collector.db.database import Database
from collector.db.isolation import JobOutcome
from collector.db.models import GatewayOrder, GatewayRefund, PaymentMismatch, ReconciliationRun
from collector.delivery.outbox import enqueue_webhook
from collector.payments.gateways.base import (
    CURRENCY,
    PAID,
    REFUND_SUCCEEDED,
    Gateway,
    GatewayError,
    StatementLine,
    Trade,
)
from collector.payments.gateways.checkout import gateway_of
from collector.payments.gateways.orders import ORDER_PAID, REFUNDED, apply_trade

logger = logging.getLogger(__name__)

CHINA = ZoneInfo("Asia/Shanghai")
PAID_NOT_CREDITED, CREDITED_NOT_PAID = "paid_not_credited", "credited_not_paid"
AMOUNT_DIFFERS, REFUND_NOT_RECORDED = "amount_differs", "refund_not_recorded"
CREDIT, ACCEPT = "credit", "accept"
RECONCILE_JOB = "reconcile-payments"
# How long after the gateway's payment time we may learn of it (a late notification, the query job).
SLACK = timedelta(days=1)


def china_day(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), CHINA)
    return start, start + timedelta(days=1)


def _mismatch(gateway: str, day: date, kind: str, reference: str, trade_no: str, theirs: int, ours: int,
              now: datetime) -> PaymentMismatch:  # fmt: skip
    return PaymentMismatch(gateway=gateway, statement_date=day.isoformat(), kind=kind, reference=reference,
                           trade_no=trade_no, gateway_minor=theirs, ledger_minor=ours, currency=CURRENCY,
                           found_at=now)  # fmt: skip


def compare(db: Session, gateway: str, day: date, lines: Iterable[StatementLine], now: datetime
            ) -> tuple[int, list[PaymentMismatch]]:  # fmt: skip
    """(lines that match, mismatches) of a statement; nothing is stored."""
    found, matched, seen = [], 0, set()
    for line in lines:
        if line.kind == "refund":
            refund = db.scalar(select(GatewayRefund).where(GatewayRefund.out_refund_no == line.out_refund_no))
            if refund is None or refund.state != REFUND_SUCCEEDED:
                reference = line.out_refund_no or line.out_trade_no
                found.append(_mismatch(gateway, day, REFUND_NOT_RECORDED, reference,
                                       line.trade_no, line.amount_fen, 0, now))  # fmt: skip
            elif refund.amount_minor != line.amount_fen:
                found.append(_mismatch(gateway, day, AMOUNT_DIFFERS, line.out_refund_no, line.trade_no,
                                       line.amount_fen, refund.amount_minor, now))  # fmt: skip
            else:
                matched += 1
            continue
        seen.add(line.out_trade_no)
        order = db.scalar(select(GatewayOrder).where(GatewayOrder.out_trade_no == line.out_trade_no,
                                                     GatewayOrder.gateway == gateway))  # fmt: skip
        if order is None or order.state not in (ORDER_PAID, REFUNDED):
            found.append(_mismatch(gateway, day, PAID_NOT_CREDITED, line.out_trade_no, line.trade_no,
                                   line.amount_fen, 0, now))  # fmt: skip
        elif order.amount_minor != line.amount_fen:
            found.append(_mismatch(gateway, day, AMOUNT_DIFFERS, line.out_trade_no, line.trade_no,
                                   line.amount_fen, order.amount_minor, now))  # fmt: skip
        else:
            matched += 1
    for order in credited_on(db, gateway, day):
        if order.out_trade_no not in seen:
            found.append(_mismatch(gateway, day, CREDITED_NOT_PAID, order.out_trade_no, order.trade_no, 0,
                                   order.amount_minor, now))  # fmt: skip
    return matched, found


def credited_on(db: Session, gateway: str, day: date) -> list[GatewayOrder]:
    """The orders paid on the gateway's day: by the gateway's own payment time where it said it (a payment
    at 23:59:59 notified after midnight belongs to the day before), else by when we learnt it."""
    start, end = china_day(day)
    near = db.scalars(select(GatewayOrder).where(
        GatewayOrder.gateway == gateway, GatewayOrder.state.in_((ORDER_PAID, REFUNDED)),
        GatewayOrder.paid_at >= start - SLACK, GatewayOrder.paid_at < end + SLACK))  # fmt: skip
    return [order for order in near if start <= (order.gateway_paid_at or order.paid_at) < end]  # type: ignore[operator]


def record(db: Session, gateway: str, day: date, lines: list[StatementLine], now: datetime
           ) -> tuple[int, list[PaymentMismatch]]:  # fmt: skip
    """Compare and keep the mismatches not kept yet; (matched, every mismatch of this statement)."""
    matched, found = compare(db, gateway, day, lines, now)
    kept = []
    for mismatch in found:
        existing = db.scalar(select(PaymentMismatch).where(
            PaymentMismatch.gateway == gateway, PaymentMismatch.statement_date == mismatch.statement_date,
            PaymentMismatch.kind == mismatch.kind,
            PaymentMismatch.reference == mismatch.reference))  # fmt: skip
        if existing is None:
            db.add(mismatch)
            existing = mismatch
        kept.append(existing)
    db.flush()
    if found:
        logger.warning("%s statement of %s: %d mismatches, %d lines match", gateway, day, len(found), matched)
    return matched, kept


def list_mismatches(db: Session, *, unresolved_only: bool = True) -> list[PaymentMismatch]:
    query = select(PaymentMismatch).order_by(PaymentMismatch.statement_date.desc(), PaymentMismatch.id)
    if unresolved_only:
        query = query.where(PaymentMismatch.resolved_at.is_(None))
    return list(db.scalars(query))


def list_runs(db: Session, limit: int = 60) -> list[ReconciliationRun]:
    """The latest reconciliations, newest first."""
    query = select(ReconciliationRun).order_by(ReconciliationRun.ran_at.desc(), ReconciliationRun.id.desc())
    return list(db.scalars(query.limit(limit)))


def resolve(
    db: Session, mismatch_id: int, action: str, note: str, actor: str, now: datetime
) -> PaymentMismatch:
    mismatch = db.get(PaymentMismatch, mismatch_id, with_for_update=True)
    if mismatch is None:
        raise NotFound("mismatch", str(mismatch_id))
    if mismatch.resolved_at is not None:
        raise FailedPrecondition(f"mismatch {mismatch_id} was resolved at {mismatch.resolved_at.isoformat()}")
    if action not in (CREDIT, ACCEPT) or not note.strip() or len(note) > 500:
        raise InvalidArgument("resolve with action credit or accept and a note (1 to 500 characters)")
    if action == CREDIT:
        if mismatch.kind != PAID_NOT_CREDITED:
            raise FailedPrecondition("only a payment the ledger lacks (paid_not_credited) can be credited")
        trade = Trade(mismatch.reference, PAID, mismatch.gateway_minor, mismatch.trade_no)
        outcome = apply_trade(db, mismatch.gateway, trade, now)
        if outcome not in ("applied", "already"):
            raise FailedPrecondition(f"order {mismatch.reference} cannot be credited: {outcome}")
    mismatch.resolved_at, mismatch.resolution, mismatch.note, mismatch.resolved_by = now, action, note, actor
    details = {"mismatch": mismatch.id, "kind": mismatch.kind, "reference": mismatch.reference, "note": note}
    audit.record(db, actor, f"payments:resolve-{action}", details, now)
    return mismatch


async def reconcile(database: Database, gateways: Mapping[str, Gateway], name: str, day: date,
                    statement: bytes | None, now: datetime) -> tuple[int, list[PaymentMismatch]]:  # fmt: skip
    """Match the gateway's statement of `day` (downloaded when None) with the ledger; new mismatches are
    announced by a `payments.mismatch` webhook."""
    gateway = gateway_of(gateways, name)
    loop = asyncio.get_running_loop()
    try:
        data = (
            statement if statement is not None else await loop.run_in_executor(None, gateway.statement, day)
        )
        lines = gateway.parse_statement(data)
    except (GatewayError, ValueError, KeyError, UnicodeDecodeError) as exc:
        raise FailedPrecondition(f"the {name} statement of {day} cannot be read: {exc}") from None
    matched, mismatches = await database.run(record_and_announce, name, day, lines, now)
    return matched, mismatches


def record_and_announce(db: Session, gateway: str, day: date, lines: list[StatementLine], now: datetime
                        ) -> tuple[int, list[PaymentMismatch]]:  # fmt: skip
    matched, mismatches = record(db, gateway, day, lines, now)
    db.add(ReconciliationRun(gateway=gateway, statement_date=day.isoformat(), matched=matched,
                             mismatches=len(mismatches), ran_at=now))  # fmt: skip
    fresh = [m for m in mismatches if m.found_at == now and m.resolved_at is None]
    if fresh:
        enqueue_webhook(db, "payments.mismatch", {"gateway": gateway, "date": day.isoformat(), "mismatches": [
            {"kind": m.kind, "reference": m.reference, "gateway_minor": m.gateway_minor,
             "ledger_minor": m.ledger_minor} for m in fresh]}, now)  # fmt: skip
    return matched, mismatches


async def reconcile_yesterday(
    database: Database, gateways: Mapping[str, Gateway], now: datetime
) -> JobOutcome:
    """The daily job: every gateway's statement of the day before (China time), once a day."""
    outcome = JobOutcome(RECONCILE_JOB)
    day = now.astimezone(CHINA).date() - timedelta(days=1)
    for name in gateways:
        try:
            await reconcile(database, gateways, name, day, None, now)
            outcome.processed += 1
        except FailedPrecondition as exc:
            logger.warning("reconciling %s of %s: %s", name, day, exc)
            outcome.failed.append(f"{name} {day}")
    return outcome
