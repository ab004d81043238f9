"""Operating a collector: the metrics it serves, its graceful shutdown (streams drained, agents told to
reconnect), JSON log lines."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
from sqlalchemy import select

from agent.identity import Identity
from collector.accounts.tokens import create_api_token
from collector.api.metrics import revenue_by_currency
from collector.config import CollectorSettings
from collector.db.database import Database
from collector.db.models import Invoice
from collector.invoicing.invoices import close_invoices
from collector.server import Collector
from collector.sessions.rentals import start_session, stop_session
from protos.rentmeter.v1 import agent_pb2, agent_pb2_grpc
from rentmeter.client import AdminClient
from rentmeter.embedded import running_collector
from rentmeter.logformat import JsonFormatter
from tests.collector.helpers import sample, signed
from tests.collector.test_invoicing import HOUR, START, machine, report_every_second  # noqa: F401
from tests.collector.test_services import enroll, now_s, stream
from tests.e2e.test_collector_process import _collector_log


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} is not served")


def test_ack_latency_streams_and_backlog_are_served(collector: Collector, admin: AdminClient) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{collector.port}") as channel:
        identity = enroll(channel, admin)
        base = now_s()
        acks = stream(channel, [signed(identity, n, [sample(base + n, base + n + 1)]) for n in (1, 2, 3)])
    assert [a.status for a in acks] == [agent_pb2.ReportAck.ACCEPTED] * 3
    url = f"http://127.0.0.1:{collector.metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as answer:
        text = answer.read().decode()
    assert _metric(text, "rentmeter_ack_latency_seconds_count") == 3
    assert 0 < _metric(text, "rentmeter_ack_latency_seconds_sum") < 3
    assert _metric(text, "rentmeter_report_streams") == 0  # the stream ended
    assert _metric(text, "rentmeter_ingest_backlog") == 0
    assert "# TYPE rentmeter_invoiced_revenue_minor gauge" in text


def test_revenue_is_the_invoices_total_per_currency(database: Database, machine: Identity) -> None:  # noqa: F811
    assert database.call(revenue_by_currency) == {}
    rental = database.call(start_session, agent_id=machine.agent_id, renter_id="r", plan_name="p", now=START)
    report_every_second(database, machine, START, 60)
    database.call(stop_session, rental.id, START + timedelta(minutes=1))
    database.call(close_invoices, START + 2 * HOUR, period=HOUR, grace=timedelta(0))
    totals = database.call(lambda db: list(db.scalars(select(Invoice.total_minor))))
    assert database.call(revenue_by_currency) == {"EUR": sum(totals)} == {"EUR": 60}


def test_shutdown_acks_what_is_stored_then_sends_agents_elsewhere(tmp_path: Path) -> None:
    settings = CollectorSettings(listen="127.0.0.1:0", db_url=f"sqlite:///{tmp_path / 'c.db'}")
    outgoing: queue.Queue[agent_pb2.SignedReport | None] = queue.Queue()
    acks: list[int] = []
    ended: list[grpc.RpcError] = []
    with running_collector(settings) as collector:
        token = collector.database.call(create_api_token, "admin", "", "t", datetime.now(UTC))
        admin = AdminClient.connect(f"127.0.0.1:{collector.port}", token)
        channel = grpc.insecure_channel(f"127.0.0.1:{collector.port}")
        identity: Identity = enroll(channel, admin)
        responses = agent_pb2_grpc.AgentServiceStub(channel).StreamReports(
            iter(outgoing.get, None), timeout=30
        )

        def read() -> None:
            try:
                for message in responses:
                    acks.extend(ack.sequence for ack in message.acks)
            except grpc.RpcError as exc:
                ended.append(exc)

        reader = threading.Thread(target=read)
        reader.start()
        base = now_s()
        for n in (1, 2, 3):
            outgoing.put(signed(identity, n, [sample(base + n, base + n + 1)]))
        deadline = time.monotonic() + 10
        while len(acks) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        stopping = time.monotonic()
    reader.join(10)
    assert acks == [1, 2, 3]
    (error,) = ended
    assert error.code() == grpc.StatusCode.UNAVAILABLE  # the agent's retry: reconnect, elsewhere if need be
    assert "shutting down" in (error.details() or "")
    assert time.monotonic() - stopping < 5  # the open stream did not hold the shutdown for long
    outgoing.put(None)
    channel.close()
    admin.close()


def test_json_log_lines(tmp_path: Path) -> None:
    record = logging.LogRecord(
        "collector.x", logging.ERROR, __file__, 1, "agent %s: %s", ("a1", "gone"), None
    )
    line = json.loads(JsonFormatter().format(record))
    assert (line["level"], line["logger"], line["message"]) == ("ERROR", "collector.x", "agent a1: gone")
    assert line["time"].endswith("+00:00")
    log = _collector_log(tmp_path, "--log-format", "json", seconds=1.0)
    lines = [json.loads(text) for text in log.splitlines()]  # every line is one JSON object
    assert any(line["message"].startswith("collector serving on") for line in lines)
