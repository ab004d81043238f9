"""The collector's scheduled jobs, wired to APScheduler. Each job's body lives in the package that owns it
and takes `now`; this module only says how often each runs and passes it what it needs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from collector.api import wire
from collector.api.controls import ControlHub
from collector.config import CollectorSettings
from collector.db.database import Database
from collector.delivery.outbox import Channels, deliver_due
from collector.invoicing.invoices import close_due_invoices
from collector.metering.retention import purge_raw_data
from collector.payments.collection import collect_due
from collector.payments.providers import configured_providers
from collector.sessions.balances import LOW_BALANCE, STOPPED, rate_and_enforce
from protos.rentmeter.v1.agent_pb2 import Control

logger = logging.getLogger(__name__)

MAX_INVOICE_CHECK_INTERVAL = timedelta(minutes=1)
NOTIFY_INTERVAL_S = 5
COLLECT_INTERVAL_S = 60
CONTROL_OF = {LOW_BALANCE: Control.LOW_BALANCE, STOPPED: Control.SESSION_STOPPED}


def build_scheduler(
    database: Database, settings: CollectorSettings, now: Callable[[], datetime], hub: ControlHub
) -> AsyncIOScheduler:
    """An asyncio scheduler rating sessions (and enforcing prepaid balances) every rating_interval, closing
    due invoices, delivering notifications, collecting payments and purging old raw data."""
    providers = configured_providers(settings.stripe_api_key, settings.stripe_api_base)
    channels = Channels(
        settings.webhook_url,
        settings.webhook_secret,
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_from,
    )

    async def rate() -> None:
        levels, grace = settings.alert_levels(), settings.balance_grace
        for event in await database.run(rate_and_enforce, now(), levels, grace):
            control = wire.session_control(event.rental, CONTROL_OF[event.kind], event.message)
            hub.publish(event.rental.agent_id, control)

    async def invoice() -> None:
        await close_due_invoices(
            database,
            now(),
            period=settings.invoice_period,
            grace=settings.invoice_grace,
            prefix=settings.invoice_prefix,
        )

    async def collect() -> None:
        await collect_due(database, providers, now())

    async def purge() -> None:
        await database.run(purge_raw_data, now(), settings.raw_retention)

    async def notify() -> None:
        await deliver_due(database, channels, now())

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
