"""The collector's Prometheus metrics: what happened to every report and every refusal with its reason,
how long reports wait for their ack, the streams open, the backlog waiting for storage, each job's runs,
durations and failures, and the revenue invoiced.

Each Collector has its own registry (tests run several); `metrics_listen` serves it over HTTP for scraping.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from collector.db.database import Database
from collector.db.models import Invoice

logger = logging.getLogger(__name__)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reports = Counter(
            "rentmeter_reports",
            "Reports answered, by outcome (accepted, duplicate, rejected, conflict, forged).",
            ["outcome"], registry=self.registry,
        )  # fmt: skip
        self.rejected = Counter(
            "rentmeter_reports_rejected",
            "Reports refused (REJECTED, CONFLICT or FORGED ack), by kind of reason.",
            ["reason"], registry=self.registry,
        )  # fmt: skip
        self.refused_streams = Counter(
            "rentmeter_report_streams_refused",
            "Report streams ended by a refusal (unknown or revoked agent, too many forged reports, mixed"
            " agents, over the rate limit).",
            ["reason"], registry=self.registry,
        )  # fmt: skip
        self.live_ticks = Counter(
            "rentmeter_live_ticks",
            "Live ticks from agents (shown, never billed), by outcome (kept; refused: malformed or in the"
            " future; unattached: before a report verified on the stream).",
            ["outcome"], registry=self.registry,
        )  # fmt: skip
        self.job_runs = Counter(
            "rentmeter_job_runs", "Runs of each scheduled job, by outcome (ok, failed: the whole run).",
            ["job", "outcome"], registry=self.registry,
        )  # fmt: skip
        self.job_subject_failures = Counter(
            "rentmeter_job_subject_failures",
            "Subjects (sessions, renters, invoices, notifications, machines) a job failed on; the others "
            "were processed.", ["job"], registry=self.registry,
        )  # fmt: skip
        self.job_failing = Gauge(
            "rentmeter_job_failing_subjects", "Subjects the last run of each job failed on.",
            ["job"], registry=self.registry,
        )  # fmt: skip
        self.job_seconds = Histogram(
            "rentmeter_job_duration_seconds", "How long each run of a scheduled job took.",
            ["job"], registry=self.registry,
        )  # fmt: skip
        self.clock_steps = Counter(
            "rentmeter_wall_clock_steps", "Steps of the system's wall clock the collector noticed.",
            registry=self.registry,
        )  # fmt: skip
        self.gaps = Counter(
            "rentmeter_report_gaps",
            "Gaps agents reported in their own reporting (reports set aside, spools lost), by kind.",
            ["kind"], registry=self.registry,
        )  # fmt: skip

        self.ack_seconds = Histogram(
            "rentmeter_ack_latency_seconds",
            "From reading a report off its stream to sending its ack (stored, or refused).",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0), registry=self.registry,
        )  # fmt: skip
        self.streams = Gauge(
            "rentmeter_report_streams",
            "Agents' report streams open on this collector.",
            registry=self.registry,
        )
        self.backlog = Gauge(
            "rentmeter_ingest_backlog",
            "Stream messages (one or more reports each) verified and waiting to be stored; acks follow"
            " storage.",
            registry=self.registry,
        )  # fmt: skip

    def watch_backlog(self, backlog: Callable[[], int]) -> None:
        self.backlog.set_function(backlog)

    def watch_revenue(self, database: Database) -> None:
        """Serve the revenue invoiced per currency (read from the database at most every REVENUE_TTL_S)."""
        self.registry.register(_Revenue(database))

    def serve(self, listen: str) -> int:
        """Serve /metrics on `listen` (HOST:PORT, port 0 = any); return the port."""
        host, _, port = listen.rpartition(":")
        server, _thread = start_http_server(int(port), addr=host or "127.0.0.1", registry=self.registry)
        bound = int(server.server_address[1])
        logger.info("metrics on http://%s:%d/metrics", host or "127.0.0.1", bound)
        self._server = server
        return bound

    def stop(self) -> None:
        server = getattr(self, "_server", None)
        if server is not None:
            server.shutdown()
            server.server_close()


REVENUE_TTL_S = 15.0


def revenue_by_currency(db: Session) -> dict[str, int]:
    """The total of all invoices issued, in minor units, per currency."""
    query = select(Invoice.currency, func.sum(Invoice.total_minor)).group_by(Invoice.currency)
    return {currency: int(total or 0) for currency, total in db.execute(query)}


class _Revenue(Collector):
    def __init__(self, database: Database) -> None:
        self._database = database
        self._read_at = -REVENUE_TTL_S
        self._totals: dict[str, int] = {}

    def collect(self) -> Iterator[Metric]:
        if time.monotonic() - self._read_at >= REVENUE_TTL_S:
            try:
                self._totals = self._database.call(revenue_by_currency)
                self._read_at = time.monotonic()
            except Exception:  # a scrape never fails for this: the last totals are served
                logger.exception("reading the revenue for the metrics failed")
        family = GaugeMetricFamily(
            "rentmeter_invoiced_revenue_minor",
            "Total of the invoices issued, in minor units (cents) of each currency.",
            labels=["currency"],
        )
        for currency, total in sorted(self._totals.items()):
            family.add_metric([currency], total)
        yield family

    def describe(self) -> Iterator[Metric]:
        return iter(())  # read at scrape time only, never when registering
