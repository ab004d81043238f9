"""A real collector on loopback whose clock the test sets, and a machine streaming signed reports to it:
scenarios that span minutes or days run in milliseconds through the public gRPC API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from agent.identity import Identity
from collector.accounts.tokens import create_api_token
from collector.config import CollectorSettings
from collector.core.clock import to_us
from collector.server import Collector
from protos.rentmeter.v1 import agent_pb2, agent_pb2_grpc
from rentmeter.client import AdminClient
from rentmeter.embedded import running_collector
from tests.collector.helpers import SECOND, sample, signed
from tests.collector.test_services import enroll

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class Scenario:
    collector: Collector
    admin: AdminClient
    channel: grpc.Channel
    clock: Clock
    sequences: dict[str, int] = field(default_factory=dict)
    rated_cost: int = 0  # a session's cost as the rating job left it

    def machine(self) -> Identity:
        return enroll(self.channel, self.admin)

    def report(
        self, machine: Identity, start: datetime, seconds: int, per_report: int = 60, cpu: float = 0.1
    ) -> None:
        """One-second samples over [start, start + seconds) with the CPU `cpu` busy (0..1), `per_report`
        to a signed report, streamed."""
        base = to_us(start) / SECOND
        samples = [replace(sample(base + i, base + i + 1), cpu_utilization=cpu) for i in range(seconds)]
        envelopes = []
        for first in range(0, seconds, per_report):
            number = self.sequences.get(machine.agent_id, 0) + 1
            self.sequences[machine.agent_id] = number
            envelopes.append(signed(machine, number, samples[first : first + per_report]))
        stub = agent_pb2_grpc.AgentServiceStub(self.channel)
        acks = [a for r in stub.StreamReports(iter(envelopes), timeout=20) for a in r.acks]
        assert {a.status for a in acks} == {agent_pb2.ReportAck.ACCEPTED}, acks


@pytest.fixture
def scenario(db_url: str) -> Iterator[Scenario]:
    settings = CollectorSettings(
        listen="127.0.0.1:0", db_url=db_url, metrics_listen="127.0.0.1:0", invoice_period=timedelta(days=1),
        invoice_grace=timedelta(0),
    )  # fmt: skip
    clock = Clock(T0 - timedelta(hours=1))
    with running_collector(settings, now=clock, run_jobs=False) as running:
        token = running.database.call(create_api_token, "admin", "", "tests", clock.now)
        admin = AdminClient.connect(f"127.0.0.1:{running.port}", token)
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            yield Scenario(running, admin, channel, clock)
        admin.close()
