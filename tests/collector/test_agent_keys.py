"""Agent keys against a running collector: revocation, rotation, and every refusal counted."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator

import grpc
import pytest

from agent.identity import Identity, public_key_bytes
from collector.server import Collector
from protos.rentmeter.v1 import agent_pb2, agent_pb2_grpc, machines_pb2, usage_pb2
from protos.signing import rotation_signing_bytes
from rentmeter.client import AdminClient
from tests.collector.helpers import new_identity, sample, signed
from tests.collector.test_services import enroll, now_s, stream


def test_a_revoked_machine_is_refused_at_once_even_on_an_open_stream(
    channel: grpc.Channel, admin: AdminClient
) -> None:
    identity = enroll(channel, admin)
    t = now_s() - 30
    revoked = threading.Event()

    def reports() -> Iterator[agent_pb2.SignedReport]:
        yield signed(identity, 1, [sample(t, t + 1)])
        revoked.wait(10)
        yield signed(identity, 2, [sample(t + 1, t + 2)])

    responses = agent_pb2_grpc.AgentServiceStub(channel).StreamReports(reports(), timeout=20)
    first = next(responses)
    assert [a.status for a in first.acks] == [agent_pb2.ReportAck.ACCEPTED]
    machine = admin.machines.RevokeMachine(machines_pb2.RevokeMachineRequest(agent_id=identity.agent_id))
    assert machine.HasField("revoked_at")
    revoked.set()
    with pytest.raises(grpc.RpcError) as refused:
        list(responses)
    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED and "revoked" in refused.value.details()
    with pytest.raises(grpc.RpcError) as again:
        stream(channel, [signed(identity, 3, [sample(t + 2, t + 3)])])
    assert again.value.code() is grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as twice:
        admin.machines.RevokeMachine(machines_pb2.RevokeMachineRequest(agent_id=identity.agent_id))
    assert twice.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    usage = admin.usage.GetUsage(usage_pb2.GetUsageRequest(agent_id=identity.agent_id))
    assert usage.sample_count == 1  # what was stored before stays


def test_every_refusal_is_counted_in_the_metrics(
    channel: grpc.Channel, admin: AdminClient, collector: Collector
) -> None:
    identity, stranger = enroll(channel, admin), new_identity()
    t = now_s() - 60
    stream(channel, [signed(identity, 5, [sample(t, t + 1)])])
    stream(channel, [signed(identity, 5, [sample(t, t + 1)])])  # duplicate
    stream(channel, [signed(identity, 4, [sample(t + 1, t + 2)])])  # replayed older sequence: rejected
    forged = signed(Identity(identity.agent_id, "standard", stranger.key), 6, [sample(t + 2, t + 3)])
    garbage = agent_pb2.SignedReport(agent_id=identity.agent_id, payload=b"\xff" * 40, signature=b"x" * 64)
    for envelope in (forged, garbage):
        with pytest.raises(grpc.RpcError):
            stream(channel, [envelope])
    scraped = (
        urllib.request.urlopen(f"http://127.0.0.1:{collector.metrics_port}/metrics", timeout=10)
        .read()
        .decode()
    )
    for line in (
        'rentmeter_reports_total{outcome="accepted"} 1.0',
        'rentmeter_reports_total{outcome="duplicate"} 1.0',
        'rentmeter_reports_total{outcome="rejected"} 1.0',
        'rentmeter_reports_rejected_total{reason="replayed_or_reordered"} 1.0',
        'rentmeter_report_streams_refused_total{reason="bad_signature"} 2.0',
    ):
        assert line in scraped, line


def test_key_rotation_keeps_reports_signed_before_it(channel: grpc.Channel, admin: AdminClient) -> None:
    old = enroll(channel, admin)
    new = Identity(old.agent_id, old.machine_class, new_identity().key)
    t = now_s() - 100
    assert [a.status for a in stream(channel, [signed(old, 1, [sample(t, t + 1)])])] == [
        agent_pb2.ReportAck.ACCEPTED
    ]
    waiting = signed(old, 2, [sample(t + 1, t + 2)])  # sealed before the rotation, still in the spool
    new_public = public_key_bytes(new.key)
    handover = old.sign(rotation_signing_bytes(old.agent_id, new_public, 2))
    request = agent_pb2.RotateKeyRequest(
        agent_id=old.agent_id, new_public_key=new_public, last_old_sequence=2, signature=handover
    )
    agents = agent_pb2_grpc.AgentServiceStub(channel)
    agents.RotateKey(request)
    agents.RotateKey(request)  # sent again (an interrupted rotation run twice): nothing changes
    assert [a.status for a in stream(channel, [waiting])] == [agent_pb2.ReportAck.ACCEPTED]
    with pytest.raises(grpc.RpcError) as stale:
        stream(channel, [signed(old, 3, [sample(t + 2, t + 3)])])  # the old key after its last sequence
    assert stale.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert [a.status for a in stream(channel, [signed(new, 3, [sample(t + 2, t + 3)])])] == [
        agent_pb2.ReportAck.ACCEPTED
    ]
    stranger = new_identity()
    forged = agent_pb2.RotateKeyRequest(
        agent_id=old.agent_id, new_public_key=public_key_bytes(stranger.key), last_old_sequence=9,
        signature=stranger.key.sign(rotation_signing_bytes(old.agent_id, public_key_bytes(stranger.key), 9)),
    )  # fmt: skip
    with pytest.raises(grpc.RpcError) as refused:
        agents.RotateKey(forged)
    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
