"""The query job: orders still open are asked about at their gateway (trade query) until final, so a lost
notification loses nothing: paid is credited (once: the same path as the notification's), closed is
closed, and an order past its time that the gateway does not know or still waits for is closed there and
expired here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from collector.db.database import Database
from collector.db.isolation import JobOutcome
from collector.db.models import GatewayOrder
from collector.payments.gateways.base import PAID, Gateway, GatewayError, Trade
from collector.payments.gateways.orders import CREATED, apply_trade, expire
from collector.payments.gateways.refunds import apply_refund, pending_refunds

logger = logging.getLogger(__name__)

QUERY_JOB = "query-gateway-orders"
# An order is first asked about this long after it was made (its notification usually comes first), then
# at most this often.
FIRST_QUERY_AFTER = timedelta(seconds=30)
QUERY_EVERY = timedelta(seconds=30)
BATCH = 200


def open_orders(db: Session, now: datetime) -> list[tuple[str, str, datetime]]:
    """(gateway, out-trade number, expires at) of open orders due for a query, oldest first."""
    query = (
        select(GatewayOrder.gateway, GatewayOrder.out_trade_no, GatewayOrder.expires_at)
        .where(GatewayOrder.state == CREATED, GatewayOrder.created_at <= now - FIRST_QUERY_AFTER,
               or_(GatewayOrder.checked_at.is_(None), GatewayOrder.checked_at <= now - QUERY_EVERY))
        .order_by(GatewayOrder.created_at).limit(BATCH)
    )  # fmt: skip
    return [(gateway, number, expires_at) for gateway, number, expires_at in db.execute(query)]


def _ask(gateway: Gateway, out_trade_no: str, expired: bool) -> Trade | None:
    """The gateway's trade (closing it there first when its time is over and it is not paid)."""
    trade = gateway.query(out_trade_no)
    if expired and trade.state != PAID:
        gateway.close(out_trade_no)
        return None
    return trade


async def query_open_orders(database: Database, gateways: Mapping[str, Gateway], now: datetime) -> JobOutcome:
    """One run of the query job; a gateway that fails is asked again at the next run."""
    outcome = JobOutcome(QUERY_JOB)
    loop = asyncio.get_running_loop()
    for name, out_trade_no, expires_at in await database.run(open_orders, now):
        gateway = gateways.get(name)
        if gateway is None:
            continue
        try:
            trade = await loop.run_in_executor(None, _ask, gateway, out_trade_no, expires_at <= now)
        except GatewayError as exc:
            logger.warning("order %s: %s", out_trade_no, exc)
            outcome.failed.append(f"order {out_trade_no}")
            continue
        if trade is None:
            await database.run(expire, out_trade_no, now)
        else:
            await database.run(apply_trade, name, trade, now)
        outcome.processed += 1
    await _query_pending_refunds(database, gateways, now, outcome)
    return outcome


async def _query_pending_refunds(database: Database, gateways: Mapping[str, Gateway], now: datetime,
                                 outcome: JobOutcome) -> None:  # fmt: skip
    """Refunds without an answer yet (WeChat Pay's PROCESSING, or a request whose answer was lost)."""
    loop = asyncio.get_running_loop()
    for name, out_trade_no, out_refund_no in await database.run(pending_refunds, now, FIRST_QUERY_AFTER):
        gateway = gateways.get(name)
        if gateway is None:
            continue
        try:
            refund = await loop.run_in_executor(None, gateway.query_refund, out_trade_no, out_refund_no)
        except GatewayError as exc:
            logger.warning("refund %s: %s", out_refund_no, exc)
            outcome.failed.append(f"refund {out_refund_no}")
            continue
        await database.run(apply_refund, refund, now)
        outcome.processed += 1
