"""The collector's scheduled jobs, wired to APScheduler. The jobs themselves are plain functions
(collector.rating.rate_sessions, collector.invoicing.close_invoices) that take `now`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.orm import Session

from collector import notifications, wire
from collector.balances import LOW_BALANCE, STOPPED, enforce_balances
from collector.config import CollectorSettings
from collector.controls import ControlHub
from collector.database import Database
from collector.invoicing import close_invoices, renters_due
from collector.notifications import Channels
from collector.payments import collection
from collector.payments.providers import PaymentProvider
from collector.rating import rate_sessions
from collector.retention import purge_raw_data
from protos.rentmeter.v1.agent_pb2 import Control

logger = logging.getLogger(__name__)

MAX_INVOICE_CHECK_INTERVAL = timedelta(minutes=1)
NOTIFY_INTERVAL_S = 5
COLLECT_INTERVAL_S = 60


# Renters invoiced per transaction by the scheduled job: bounds memory and lock time at month end, and
# each committed batch is done for good if the collector stops half-way.
INVOICE_BATCH = 1000


async def close_all_invoices(database: Database, settings: CollectorSettings, now: datetime) -> int:
    """Close every due period of every renter, INVOICE_BATCH renters per transaction; return how many
    invoices were made."""
    renters = await database.run(renters_due, now, settings.invoice_grace)
    made = 0
    for first in range(0, len(renters), INVOICE_BATCH):
        batch = renters[first : first + INVOICE_BATCH]
        invoices = await database.run(
            close_invoices,
            now,
            period=settings.invoice_period,
            grace=settings.invoice_grace,
            renter_ids=batch,
            prefix=settings.invoice_prefix,
        )
        made += len(invoices)
    if made:
        logger.info("closed %d invoices", made)
    return made


async def deliver_notifications(database: Database, channels: Channels, now: datetime) -> int:
    """Send the due notifications (outside any transaction) and record what happened; return how many
    were attempted."""
    items = await database.run(notifications.due, now)
    if not items:
        return 0
    loop = asyncio.get_running_loop()
    outcomes = await loop.run_in_executor(
        None, lambda: [(i.id, notifications.send(i, channels, now)) for i in items]
    )
    await database.run(notifications.record, outcomes, now)
    return len(items)


async def collect_payments(
    database: Database, providers: Mapping[str, PaymentProvider], now: datetime
) -> int:
    """Charge the invoices due for collection (outside any transaction) and record the outcomes."""
    requests = await database.run(collection.due, now)
    if not requests:
        return 0
    loop = asyncio.get_running_loop()
    outcomes = await loop.run_in_executor(None, collection.collect, requests, providers)
    await database.run(collection.record, outcomes, now)
    return len(outcomes)


def rate_and_enforce(db: Session, now: datetime, settings: CollectorSettings) -> list[tuple[str, Control]]:
    """Rate every session, then apply prepaid balances; return the controls to send, by agent."""
    rate_sessions(db, now)
    events = enforce_balances(db, now, settings.alert_levels(), settings.balance_grace)
    kinds = {LOW_BALANCE: Control.LOW_BALANCE, STOPPED: Control.SESSION_STOPPED}
    return [(e.rental.agent_id, wire.session_control(e.rental, kinds[e.kind], e.message)) for e in events]


def build_scheduler(
    database: Database, settings: CollectorSettings, now: Callable[[], datetime], hub: ControlHub
) -> AsyncIOScheduler:
    """An asyncio scheduler rating sessions (and enforcing prepaid balances) every rating_interval and
    closing due invoices."""

    async def rate() -> None:
        for agent_id, control in await database.run(rate_and_enforce, now(), settings):
            hub.publish(agent_id, control)

    async def invoice() -> None:
        await close_all_invoices(database, settings, now())

    providers = settings.payment_providers()

    async def collect() -> None:
        await collect_payments(database, providers, now())

    async def purge() -> None:
        await database.run(purge_raw_data, now(), settings.raw_retention)

    async def notify() -> None:
        await deliver_notifications(database, settings.channels(), now())

    scheduler = AsyncIOScheduler(
        timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    )
    scheduler.add_job(rate, "interval", seconds=settings.rating_interval.total_seconds(), id="rate-sessions")
    check = min(settings.invoice_period, MAX_INVOICE_CHECK_INTERVAL)
    scheduler.add_job(invoice, "interval", seconds=check.total_seconds(), id="close-invoices")
    scheduler.add_job(notify, "interval", seconds=NOTIFY_INTERVAL_S, id="deliver-notifications")
    scheduler.add_job(collect, "interval", seconds=COLLECT_INTERVAL_S, id="collect-payments")
    scheduler.add_job(purge, "interval", hours=1, id="purge-raw-data")
    return scheduler
