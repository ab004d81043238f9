"""The collector's scheduled jobs, wired to APScheduler. Each job's body lives in the package that owns it
and takes `now`; this module says how often each runs, keeps the job board and the metrics, and keeps the
schedule on time when the wall clock is stepped.

APScheduler 3 computes its wake-ups from the wall clock: stepped back an hour, it would sleep an hour and
every job would stop (live costs frozen, exhausted wallets never stopped). A watch on the monotonic clock
notices every step and makes all jobs due at once, so intervals keep holding in either direction. Balances
are also checked exactly when the next one will reach zero or the next grace ends (timers on the event
loop's monotonic clock), not only every rating_interval.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from collector.api import wire
from collector.api.controls import ControlHub
from collector.api.metrics import Metrics
from collector.api.status import internal_error
from collector.config import CollectorSettings
from collector.core.job_board import JobBoard
from collector.db import leases
from collector.db.database import Database
from collector.db.isolation import JobOutcome
from collector.db.partitions import PARTITIONS_JOB, ensure_partitions
from collector.delivery.outbox import Channels, deliver_due
from collector.insights.advising import AdviceRules, refresh_advice
from collector.insights.profiling import refresh_profiles
from collector.invoicing.invoices import close_due_invoices
from collector.metering.retention import purge_raw_data
from collector.payments.collection import collect_due
from collector.payments.gateways.base import Gateway
from collector.payments.gateways.periodic import collect_by_gateways
from collector.payments.gateways.polling import QUERY_JOB, query_open_orders
from collector.payments.gateways.reconcile import RECONCILE_JOB, reconcile_yesterday
from collector.payments.providers import PaymentProvider, configured_providers
from collector.pricing.schedule import publish_prices
from collector.sessions.balances import (
    IDLE_WARNING,
    LOW_BALANCE,
    STOPPED,
    BalanceRun,
    enforce_balances,
    rate_and_enforce,
)
from protos.rentmeter.v1.agent_pb2 import Control

logger = logging.getLogger(__name__)

MAX_INVOICE_CHECK_INTERVAL = timedelta(minutes=1)
NOTIFY_INTERVAL = timedelta(seconds=5)
COLLECT_INTERVAL = timedelta(minutes=1)
PURGE_INTERVAL = timedelta(hours=1)
PRICING_INTERVAL = timedelta(minutes=1)
QUERY_INTERVAL = timedelta(seconds=30)
RECONCILE_INTERVAL = timedelta(days=1)
CONTROL_OF = {
    LOW_BALANCE: Control.LOW_BALANCE,
    STOPPED: Control.SESSION_STOPPED,
    IDLE_WARNING: Control.IDLE_WARNING,
}
# The wall clock moving this much more or less than the monotonic clock between two looks is a step.
STEP_THRESHOLD_S = 2.0
WATCH_EVERY_S = 1.0
# A balance check is not set sooner than this after the last (the estimate rounds up to a minor unit).
MIN_CHECK_DELAY_S = 0.05


def advice_rules(settings: CollectorSettings) -> AdviceRules:
    return AdviceRules(settings.recommendation_days, settings.notify_saving(), settings.offer_notice)


async def collect_invoices(database: Database, providers: Mapping[str, PaymentProvider],
                           gateways: Mapping[str, Gateway], settings: CollectorSettings, now: datetime
                           ) -> JobOutcome:  # fmt: skip
    """The collection job: cards on file, then Alipay and WeChat Pay (agreements, payment requests)."""
    outcome = await collect_due(database, providers, now)
    if gateways and settings.portal_url:
        outcome.add(await collect_by_gateways(database, gateways, settings.portal_url, now,
                                              settings.gateway_order_ttl))  # fmt: skip
    return outcome


class JobScheduler:
    """The running schedule: start() with the event loop running, shutdown() at the end."""

    def __init__(
        self,
        database: Database,
        settings: CollectorSettings,
        now: Callable[[], datetime],
        hub: ControlHub,
        metrics: Metrics,
        gateways: Mapping[str, Gateway] | None = None,
    ) -> None:
        """`gateways`: Alipay and WeChat Pay as configured (their orders are queried, statements
        reconciled)."""
        self._db, self._settings, self._now, self._hub, self._metrics = database, settings, now, hub, metrics
        self.board = JobBoard()
        self._scheduler = AsyncIOScheduler(
            timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._running: set[asyncio.Task[object]] = set()  # runs under way
        self._balance_timer: asyncio.TimerHandle | None = None
        self._balance_due: float | None = None  # loop time of the pending balance check
        # Several collectors on PostgreSQL share the jobs: each period of a job runs on one of them.
        self._leased = database.engine.dialect.name == "postgresql"
        self._intervals: dict[str, timedelta] = {}
        self._holder = settings.collector_name or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        providers = configured_providers(settings.stripe_api_key, settings.stripe_api_base)
        channels = Channels(settings.webhook_url, settings.webhook_secret, settings.smtp_host,
                            settings.smtp_port, settings.smtp_from)  # fmt: skip
        period, grace, prefix = settings.invoice_period, settings.invoice_grace, settings.invoice_prefix
        advice = advice_rules(settings)
        jobs: list[tuple[str, timedelta, Callable[[], Awaitable[JobOutcome]]]] = [
            ("rate-sessions", settings.rating_interval, self._rate),
            ("close-invoices", min(period, MAX_INVOICE_CHECK_INTERVAL),
             lambda: close_due_invoices(database, now(), period=period, grace=grace, prefix=prefix)),
            ("deliver-notifications", NOTIFY_INTERVAL, lambda: deliver_due(database, channels, now())),
            ("collect-payments", COLLECT_INTERVAL,
             lambda: collect_invoices(database, providers, gateways or {}, settings, now())),
            ("purge-raw-data", PURGE_INTERVAL,
             lambda: database.run(purge_raw_data, now(), settings.raw_retention)),
            (PARTITIONS_JOB, PURGE_INTERVAL, lambda: database.run(ensure_partitions, now())),
            ("publish-prices", PRICING_INTERVAL,
             lambda: database.run(publish_prices, now(), settings.online_window)),
            ("profile-usage", settings.insights_interval,
             lambda: refresh_profiles(database, now(), settings.insights_grace)),
            ("recommend-plans", settings.insights_interval,
             lambda: refresh_advice(database, now(), advice)),
        ]  # fmt: skip
        if gateways:
            jobs += [
                (QUERY_JOB, QUERY_INTERVAL, lambda: query_open_orders(database, gateways, now())),
                (RECONCILE_JOB, RECONCILE_INTERVAL, lambda: reconcile_yesterday(database, gateways, now())),
            ]
        for name, interval, body in jobs:
            self.board.add(name, interval)
            self._intervals[name] = interval
            self._scheduler.add_job(
                self._tracked, "interval", args=(name, body), seconds=interval.total_seconds(), id=name
            )
        self.board.add("check-balances", settings.rating_interval)

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def start(self) -> None:
        self._scheduler.start()
        self._spawn(self._watch_wall_clock())

    async def shutdown(self, grace_s: float = 5.0) -> None:
        """Start no more runs, let the runs under way finish (up to `grace_s`), then stop; a run still
        going after that is cancelled, and its subjects are done again at the next start."""
        if self._balance_timer is not None:
            self._balance_timer.cancel()
        if self._scheduler.running:
            self._scheduler.pause()
        if self._running:
            await asyncio.wait(set(self._running), timeout=grace_s)
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        for task in self._tasks:
            task.cancel()

    async def _tracked(self, name: str, body: Callable[[], Awaitable[JobOutcome]]) -> None:
        """Run a job (once its period is claimed, on a shared database), counted as under way until its
        lease is released, so that shutdown lets it finish."""
        task = asyncio.current_task()
        assert task is not None
        self._running.add(task)
        try:
            if not self._leased or name not in self._intervals:  # check-balances follows its rating run
                await self._run(name, body)
            else:
                await self._leased_run(name, body)
        finally:
            self._running.discard(task)

    async def _leased_run(self, name: str, body: Callable[[], Awaitable[JobOutcome]]) -> None:
        """Claim this period of the job in `job_leases`; run it only if claimed, renewing the lease."""
        holder, lease = self._holder, self._settings.job_lease
        period = leases.period_of(self._now(), self._intervals[name])
        try:
            claimed = await self._db.run(leases.claim, name, period, holder, self._now(), lease)
        except Exception:  # the database is away: the next period tries again
            self.board.jobs[name].error = internal_error(f"claiming job {name}")
            self._metrics.job_runs.labels(name, "failed").inc()
            return
        if not claimed:
            self.board.jobs[name].elsewhere += 1
            self._metrics.job_runs.labels(name, "elsewhere").inc()
            return
        keeper = asyncio.ensure_future(self._keep_lease(name))
        try:
            await self._run(name, body)
        finally:
            keeper.cancel()
            try:
                await self._db.run(leases.finish, name, holder, period)
            except Exception:  # the lease then expires on its own
                logger.exception("releasing the lease of job %s failed", name)

    async def _keep_lease(self, name: str) -> None:
        """Renew the lease of a run under way every third of the lease."""
        lease = self._settings.job_lease
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            try:
                held = await self._db.run(leases.renew, name, self._holder, self._now(), lease)
            except Exception:  # the database is away for a moment: the next renewal tries again
                logger.exception("renewing the lease of job %s failed", name)
                continue
            if not held:
                logger.warning("job %s: its lease expired during the run; another collector may run it", name)

    async def _run(self, name: str, body: Callable[[], Awaitable[JobOutcome]]) -> None:
        """Run a job, keeping its board entry and metrics; a failure of the whole run is logged with an
        error id and shown on the board (the next run tries again)."""
        state = self.board.jobs[name]
        state.runs += 1
        state.last_started = datetime.now(UTC)
        began = time.monotonic()
        try:
            outcome = await body()
        except Exception:  # the run's boundary: the next run tries again
            state.error = internal_error(f"job {name}")
            self._metrics.job_runs.labels(name, "failed").inc()
        except asyncio.CancelledError:  # the collector stopped during the run: its transaction rolled back
            logger.warning("job %s was stopped with the collector before it finished", name)
        else:
            state.error = ""
            state.processed, state.failed, state.deferred = (
                outcome.processed, len(outcome.failed), outcome.deferred
            )  # fmt: skip
            self._metrics.job_runs.labels(name, "ok").inc()
            self._metrics.job_subject_failures.labels(name).inc(len(outcome.failed))
            self._metrics.job_failing.labels(name).set(len(outcome.failed))
        finally:
            state.last_duration_s = time.monotonic() - began
            state.last_finished = datetime.now(UTC)
            self._metrics.job_seconds.labels(name).observe(state.last_duration_s)

    async def _rate(self) -> JobOutcome:
        levels, grace = self._settings.alert_levels(), self._settings.balance_grace
        return self._apply(await self._db.run(rate_and_enforce, self._now(), levels, grace))

    async def _check_balances(self) -> JobOutcome:
        levels, grace = self._settings.alert_levels(), self._settings.balance_grace
        return self._apply(await self._db.run(enforce_balances, self._now(), levels, grace))

    def _apply(self, run: BalanceRun) -> JobOutcome:
        """Tell the machines; set the next balance check when it comes before the next rating run."""
        for event in run.events:
            control = wire.session_control(event.rental, CONTROL_OF[event.kind], event.message)
            self._hub.publish(event.rental.agent_id, control)
        if run.next_check is not None:
            delay = (run.next_check - self._now()).total_seconds()
            if delay < self._settings.rating_interval.total_seconds():
                self._check_balances_in(max(delay, MIN_CHECK_DELAY_S))
        return run.outcome

    def _check_balances_in(self, delay_s: float) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time() + delay_s
        if self._balance_due is not None and self._balance_due <= due:
            return  # an earlier check is set already
        if self._balance_timer is not None:
            self._balance_timer.cancel()
        self._balance_due = due
        self._balance_timer = loop.call_at(due, self._balance_check_due)

    def _balance_check_due(self) -> None:
        self._balance_timer, self._balance_due = None, None
        self._spawn(self._tracked("check-balances", self._check_balances))

    async def _watch_wall_clock(self) -> None:
        """Notice steps of the wall clock (against the monotonic clock) and make every job due at once."""
        offset = time.time() - time.monotonic()
        while True:
            await asyncio.sleep(WATCH_EVERY_S)
            now_offset = time.time() - time.monotonic()
            step, offset = now_offset - offset, now_offset
            if abs(step) > STEP_THRESHOLD_S:
                self._metrics.clock_steps.inc()
                logger.warning("the wall clock stepped by %+.1f s: every scheduled job is run now and keeps "
                               "its interval from here", step)  # fmt: skip
                wall_now = datetime.now(UTC)
                for job in self._scheduler.get_jobs():
                    job.modify(next_run_time=wall_now)

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
