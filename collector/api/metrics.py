"""The collector's Prometheus metrics: what happened to every report, and every refusal with its reason.

Each Collector has its own registry (tests run several); `metrics_listen` serves it over HTTP for scraping.
"""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

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
