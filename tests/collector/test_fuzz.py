"""Fuzzing a running collector: generated reports signed by a real agent key, garbage bytes on the wire.

The collector must answer every one (an ack or a status), keep serving, and never store a row that breaks
its invariants (a sample ending after it starts, inside its report, not overlapping another).
"""

from __future__ import annotations

import time

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from agent.identity import Identity
from agent.wire import sign_report
from collector.server import Collector
from protos.rentmeter.v1 import agent_pb2, agent_pb2_grpc
from rentmeter.client import AdminClient
from tests.collector.test_services import enroll

NOW_S = int(time.time())
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _ts(seconds: int, nanos: int) -> Timestamp:
    return Timestamp(seconds=seconds, nanos=nanos)


timestamps = st.builds(
    _ts,
    st.one_of(st.integers(NOW_S - 7200, NOW_S + 7200), st.integers(0, 2**40)),
    st.integers(0, 999_999_999),
)
samples = st.builds(
    agent_pb2.Sample,
    start=timestamps,
    end=timestamps,
    cpu_busy_us=st.integers(0, 2**64 - 1),
    cpu_utilization=st.floats(allow_nan=True),
    memory_used_bytes=st.integers(0, 2**64 - 1),
    net_rx_bytes=st.integers(0, 2**64 - 1),
    net_tx_bytes=st.integers(0, 2**64 - 1),
)
reports = st.builds(
    agent_pb2.UsageReport,
    sequence=st.integers(0, 2**64 - 1),
    start=timestamps,
    end=timestamps,
    samples=st.lists(samples, max_size=5),
    rental_session_id=st.text(max_size=50),
)


def _stream(channel: grpc.Channel, envelope: agent_pb2.SignedReport) -> list[agent_pb2.ReportAck]:
    try:
        responses = agent_pb2_grpc.AgentServiceStub(channel).StreamReports(iter([envelope]), timeout=10)
        return [ack for response in responses for ack in response.acks]
    except grpc.RpcError as exc:
        assert exc.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNAUTHENTICATED), exc
        return []


def _invariants_hold(collector: Collector) -> None:
    with collector.database.engine.connect() as db:
        assert db.execute(text("SELECT count(*) FROM samples WHERE end_us <= start_us")).scalar() == 0
        outside = (
            "SELECT count(*) FROM samples s JOIN reports r ON r.agent_id = s.agent_id"
            " AND r.sequence = s.report_sequence WHERE s.start_us < r.start_us OR s.end_us > r.end_us"
        )
        assert db.execute(text(outside)).scalar() == 0
        overlap = (
            "SELECT count(*) FROM samples a JOIN samples b ON a.agent_id = b.agent_id AND a.id < b.id"
            " AND a.start_us < b.end_us AND b.start_us < a.end_us"
        )
        assert db.execute(text(overlap)).scalar() == 0


def _serving(channel: grpc.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
    assert health.status == health_pb2.HealthCheckResponse.SERVING


@FUZZ
@given(report=reports, tamper=st.booleans())
def test_generated_reports_are_answered_and_never_store_a_bad_row(
    channel: grpc.Channel,
    admin: AdminClient,
    collector: Collector,
    report: agent_pb2.UsageReport,
    tamper: bool,
) -> None:
    identity = getattr(collector, "fuzz_identity", None) or enroll(channel, admin)
    collector.fuzz_identity = identity  # type: ignore[attr-defined]  # one machine for all examples
    report.agent_id = identity.agent_id
    envelope = sign_report(Identity(identity.agent_id, "standard", identity.key), report)
    if tamper:
        envelope.payload = envelope.payload + b"\x00"
    for ack in _stream(channel, envelope):
        assert ack.status in (
            agent_pb2.ReportAck.ACCEPTED,
            agent_pb2.ReportAck.DUPLICATE,
            agent_pb2.ReportAck.REJECTED,
        )
    _invariants_hold(collector)


@FUZZ
@given(garbage=st.binary(max_size=2048), method=st.sampled_from([
    "/rentmeter.v1.AgentService/StreamReports", "/rentmeter.v1.AgentService/Enroll",
    "/rentmeter.v1.PlanService/CreatePlan", "/rentmeter.v1.SessionService/StartSession",
    "/rentmeter.v1.WalletService/TopUp", "/rentmeter.v1.InvoiceService/CreditInvoice",
]))  # fmt: skip
def test_garbage_bytes_on_the_wire_never_crash_the_collector(
    channel: grpc.Channel, collector: Collector, garbage: bytes, method: str
) -> None:
    bearer = [("authorization", f"Bearer {collector.admin_token}")]  # type: ignore[attr-defined]
    identity = lambda payload: payload  # noqa: E731 - raw bytes in and out
    try:
        if method.endswith("StreamReports"):
            call = channel.stream_stream(method, request_serializer=identity, response_deserializer=identity)
            list(call(iter([garbage]), timeout=10))
        else:
            call = channel.unary_unary(method, request_serializer=identity, response_deserializer=identity)
            call(garbage, timeout=10, metadata=bearer)
    except grpc.RpcError as exc:
        assert exc.code() not in (grpc.StatusCode.UNKNOWN, grpc.StatusCode.UNAVAILABLE), exc
    _serving(channel)
    _invariants_hold(collector)
