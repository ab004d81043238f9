"""Agent keys against a running collector: revocation, rotation, and every refusal counted."""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import closing

import grpc
import pytest

from agent.identity import Identity, public_key_bytes
from collector.api.agent_servicer import MAX_FORGED_PER_STREAM
from collector.config import CollectorSettings
from collector.metering.keys import REVOCATION_DELAY_S
from collector.server import Collector
from protos.rentmeter.v1 import agent_pb2, agent_pb2_grpc, machines_pb2, usage_pb2
from protos.signing import rotation_signing_bytes
from rentmeter.client import AdminClient
from rentmeter.embedded import running_collector
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
    first = next(r for r in responses if r.acks)
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
    stream(channel, [signed(identity, 4, [sample(t + 1, t + 2)])])  # an older sequence: conflict
    stream(channel, [signed(identity, 6, [sample(t + 7200, t + 7201)])])  # from the future: rejected
    forged = signed(Identity(identity.agent_id, "standard", stranger.key), 6, [sample(t + 2, t + 3)])
    garbage = agent_pb2.SignedReport(agent_id=identity.agent_id, payload=b"\xff" * 40, signature=b"x" * 64)
    assert [a.status for a in stream(channel, [forged, garbage])] == [agent_pb2.ReportAck.FORGED] * 2
    with pytest.raises(grpc.RpcError):
        stream(channel, [signed(stranger, 1, [sample(t, t + 1)])])
    scraped = (
        urllib.request.urlopen(f"http://127.0.0.1:{collector.metrics_port}/metrics", timeout=10)
        .read()
        .decode()
    )
    for line in (
        'rentmeter_reports_total{outcome="accepted"} 1.0',
        'rentmeter_reports_total{outcome="duplicate"} 1.0',
        'rentmeter_reports_total{outcome="rejected"} 1.0',
        'rentmeter_reports_total{outcome="conflict"} 1.0',
        'rentmeter_reports_total{outcome="forged"} 2.0',
        'rentmeter_reports_rejected_total{reason="conflict"} 1.0',
        'rentmeter_reports_rejected_total{reason="clock_skew"} 1.0',
        'rentmeter_reports_rejected_total{reason="bad_signature"} 2.0',
        'rentmeter_report_streams_refused_total{reason="unknown_agent"} 1.0',
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
    stale = stream(channel, [signed(old, 3, [sample(t + 2, t + 3)])])  # the old key after its last sequence
    assert [a.status for a in stale] == [agent_pb2.ReportAck.FORGED]
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


def test_a_forged_report_gets_its_own_ack_and_the_stream_goes_on(
    channel: grpc.Channel, admin: AdminClient
) -> None:
    """One damaged report in an agent's spool must not block every later one (the stream used to end)."""
    identity = enroll(channel, admin)
    t = now_s() - 60
    damaged = signed(identity, 2, [sample(t + 1, t + 2)])
    damaged.payload = damaged.payload[:-1] + bytes([damaged.payload[-1] ^ 0x01])  # one flipped bit
    damaged.sequence = 2
    envelopes = [signed(identity, n, [sample(t + n - 1, t + n)]) for n in (1, 3, 4)]
    envelopes.insert(1, damaged)
    responses = list(agent_pb2_grpc.AgentServiceStub(channel).StreamReports(iter(envelopes), timeout=10))
    assert responses[0].HasField("last_stored_sequence") and responses[0].last_stored_sequence == 0
    acks = [(a.sequence, a.status) for r in responses for a in r.acks]
    ok, forged = agent_pb2.ReportAck.ACCEPTED, agent_pb2.ReportAck.FORGED
    assert acks == [(1, ok), (2, forged), (3, ok), (4, ok)]
    again = list(agent_pb2_grpc.AgentServiceStub(channel).StreamReports(iter(envelopes[2:]), timeout=10))
    assert again[0].last_stored_sequence == 4  # told first: the agent numbers new reports above it
    usage = admin.usage.GetUsage(usage_pb2.GetUsageRequest(agent_id=identity.agent_id))
    assert usage.sample_count == 3


def test_too_many_forged_reports_end_the_stream(channel: grpc.Channel, admin: AdminClient) -> None:
    identity, stranger = enroll(channel, admin), new_identity()
    forger = Identity(identity.agent_id, "standard", stranger.key)
    t = now_s() - 60
    forged = [signed(forger, n + 1, [sample(t + n, t + n + 1)]) for n in range(MAX_FORGED_PER_STREAM + 1)]
    with pytest.raises(grpc.RpcError) as ended:
        stream(channel, forged)
    assert ended.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert "reports that do not verify" in ended.value.details()


def _open_stream(channel: grpc.Channel, identity: Identity, t: float):  # type: ignore[no-untyped-def]
    """A stream that sends one report and then stays open, as an agent's does between reports."""
    done = threading.Event()

    def reports() -> Iterator[agent_pb2.SignedReport]:
        yield signed(identity, 1, [sample(t, t + 1)])
        done.wait(30)

    responses = agent_pb2_grpc.AgentServiceStub(channel).StreamReports(reports(), timeout=30)
    return responses, done


def _revoke_through(other: Collector, token: str, agent_id: str) -> float:
    """Revoke the machine through collector `other`; return when (time.monotonic()) it was asked."""
    with closing(AdminClient.connect(f"127.0.0.1:{other.port}", token)) as admin_b:
        asked = time.monotonic()
        admin_b.machines.RevokeMachine(machines_pb2.RevokeMachineRequest(agent_id=agent_id))
    return asked


def test_a_revocation_on_another_collector_takes_effect_within_the_stated_time(
    collector: Collector, collector_settings: CollectorSettings, channel: grpc.Channel, admin: AdminClient
) -> None:
    """Two collectors on one database: a machine revoked through the other one is refused here within
    REVOCATION_DELAY_S (README), on an open stream that sends nothing and on every new stream."""
    identity = enroll(channel, admin)
    t = now_s() - 60
    responses, done = _open_stream(channel, identity, t)
    assert [a.status for a in next(r for r in responses if r.acks).acks] == [agent_pb2.ReportAck.ACCEPTED]
    with running_collector(collector_settings) as other:
        revoked_at = _revoke_through(other, collector.admin_token, identity.agent_id)  # type: ignore[attr-defined]
        with pytest.raises(grpc.RpcError) as ended:
            list(responses)
        open_stream_s = time.monotonic() - revoked_at
        done.set()
        assert ended.value.code() is grpc.StatusCode.UNAUTHENTICATED and "revoked" in ended.value.details()
        assert open_stream_s < REVOCATION_DELAY_S, open_stream_s
        with pytest.raises(grpc.RpcError) as refused:
            stream(channel, [signed(identity, 2, [sample(t + 1, t + 2)])])
        assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED


def test_a_cached_key_is_refused_within_the_stated_time_after_a_revocation_elsewhere(
    collector: Collector, collector_settings: CollectorSettings, channel: grpc.Channel, admin: AdminClient
) -> None:
    """No stream open here, the key cached a moment before: new reports are refused within the TTL."""
    identity = enroll(channel, admin)
    t = now_s() - 60
    stream(channel, [signed(identity, 1, [sample(t, t + 1)])])  # caches the key
    with running_collector(collector_settings) as other:
        revoked_at = _revoke_through(other, collector.admin_token, identity.agent_id)  # type: ignore[attr-defined]
    sequence = 2
    while True:
        try:
            stream(channel, [signed(identity, sequence, [sample(t + sequence, t + sequence + 1)])])
        except grpc.RpcError as exc:
            assert exc.code() is grpc.StatusCode.UNAUTHENTICATED
            break
        sequence += 1
        time.sleep(0.05)
    assert time.monotonic() - revoked_at <= REVOCATION_DELAY_S + 0.2
