"""Several reports per stream message (SignedReport.more) over real gRPC: each report gets its own ack,
in order, with every per-report outcome kept (accepted, duplicate, conflict, forged, rejected); a message of
one report still works as before. SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator

import grpc
import pytest

from agent.identity import Identity
from collector.accounts.tokens import create_api_token
from collector.config import CollectorSettings
from collector.server import Collector
from protos.rentmeter.v1 import agent_pb2, usage_pb2
from rentmeter.client import AdminClient
from rentmeter.embedded import running_collector
from tests.collector.helpers import new_identity, sample, signed
from tests.collector.test_services import enroll, stream


@pytest.fixture
def served(collector_settings: CollectorSettings, db_url: str) -> Iterator[Collector]:
    settings = CollectorSettings(**{**collector_settings.__dict__, "db_url": db_url})
    with running_collector(settings) as running:
        yield running


@pytest.fixture
def both(served: Collector) -> Iterator[tuple[grpc.Channel, AdminClient]]:
    from datetime import UTC, datetime

    token = served.database.call(create_api_token, "admin", "", "tests", datetime.now(UTC))
    admin = AdminClient.connect(f"127.0.0.1:{served.port}", token)
    with grpc.insecure_channel(f"127.0.0.1:{served.port}") as channel:
        yield channel, admin
    admin.close()


def usage_of(admin: AdminClient, identity: Identity) -> tuple[int, int]:
    """(samples, bytes received) stored for the machine over the next hour and the last."""
    request = usage_pb2.GetUsageRequest(agent_id=identity.agent_id)
    request.start.FromSeconds(int(time.time()) - 3600)
    request.end.FromSeconds(int(time.time()) + 3600)
    usage = admin.usage.GetUsage(request)
    return usage.sample_count, usage.net_rx_bytes


def packed(envelopes: list[agent_pb2.SignedReport]) -> agent_pb2.SignedReport:
    first = agent_pb2.SignedReport()
    first.CopyFrom(envelopes[0])
    first.more.extend(envelopes[1:])
    return first


def reports(identity: Identity, first: int, count: int, t: float) -> list[agent_pb2.SignedReport]:
    return [signed(identity, n, [sample(t + n, t + n + 1, rx=100)]) for n in range(first, first + count)]


def test_each_report_of_a_message_gets_its_ack_in_order(both: tuple[grpc.Channel, AdminClient]) -> None:
    channel, admin = both
    identity = enroll(channel, admin)
    t = time.time()
    batch = reports(identity, 1, 30, t)
    acks = stream(channel, [packed(batch[:20]), batch[20], packed(batch[21:])])
    assert [(a.sequence, a.status) for a in acks] == [(n, agent_pb2.ReportAck.ACCEPTED) for n in range(1, 31)]
    again = stream(channel, [packed(batch[:5])])
    assert [a.status for a in again] == [agent_pb2.ReportAck.DUPLICATE] * 5
    assert usage_of(admin, identity) == (30, 3000)


def test_outcomes_stay_per_report_inside_one_message(both: tuple[grpc.Channel, AdminClient]) -> None:
    channel, admin = both
    identity = enroll(channel, admin)
    t = time.time()
    good = reports(identity, 1, 3, t)
    forger = Identity(identity.agent_id, "standard", new_identity().key)
    forged = signed(forger, 4, [sample(t + 4, t + 5, rx=10**9)])
    conflicting = signed(identity, 2, [sample(t + 9, t + 10, rx=1)])  # another report under sequence 2
    future = signed(identity, 5, [sample(time.time() + 3600, time.time() + 3601)])
    acks = stream(channel, [packed([*good, forged, conflicting, good[0], future])])
    assert [(a.sequence, a.status) for a in acks] == [
        (1, agent_pb2.ReportAck.ACCEPTED),
        (2, agent_pb2.ReportAck.ACCEPTED),
        (3, agent_pb2.ReportAck.ACCEPTED),
        (4, agent_pb2.ReportAck.FORGED),
        (2, agent_pb2.ReportAck.CONFLICT),
        (1, agent_pb2.ReportAck.DUPLICATE),
        (5, agent_pb2.ReportAck.REJECTED),
    ]
    assert usage_of(admin, identity) == (3, 300)


def test_the_collector_says_it_reads_several_reports_per_message(
    both: tuple[grpc.Channel, AdminClient],
) -> None:
    channel, admin = both
    identity = enroll(channel, admin)
    envelope = reports(identity, 1, 1, time.time())[0]
    responses = list(agent_pb2_grpc_stub(channel).StreamReports(iter([envelope]), timeout=10))
    first = responses[0]
    assert first.HasField("last_stored_sequence") and first.reads_more


def test_a_message_mixing_agents_ends_the_stream(both: tuple[grpc.Channel, AdminClient]) -> None:
    channel, admin = both
    one, other = enroll(channel, admin), enroll(channel, admin)
    t = time.time()
    with pytest.raises(grpc.RpcError) as refused:
        stream(channel, [packed([*reports(one, 1, 1, t), *reports(other, 1, 1, t)])])
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]


def agent_pb2_grpc_stub(channel: grpc.Channel):  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import agent_pb2_grpc

    return agent_pb2_grpc.AgentServiceStub(channel)
