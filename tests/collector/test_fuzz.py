"""Fuzzing a running collector: generated reports signed by a real agent key, garbage bytes on the wire.

The collector must answer every one (an ack or a status), keep serving, and never store a row that breaks
its invariants (a sample ending after it starts, inside its report, not overlapping another).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

import billing
from agent.identity import Identity
from agent.wire import sign_report
from collector.config import CollectorSettings
from collector.server import Collector
from protos.rentmeter.v1 import (
    agent_pb2,
    agent_pb2_grpc,
    invoices_pb2,
    machines_pb2,
    plans_pb2,
    renters_pb2,
    sessions_pb2,
    wallets_pb2,
)
from rentmeter.client import AdminClient
from tests.collector.test_services import enroll

NOW_S = int(time.time())


@pytest.fixture
def collector_settings(tmp_path: Path) -> CollectorSettings:
    """No rate limit: the fuzzer calls far faster than any person."""
    return CollectorSettings(listen="127.0.0.1:0", db_url=f"sqlite:///{tmp_path / 'c.db'}", api_rate_limit=0,
                             agent_report_rate_limit=0)  # fmt: skip


# FUZZ_EXAMPLES=2000 for a longer hunt.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


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
    boot_time=timestamps,
    logins=st.lists(
        st.builds(agent_pb2.LoginSession, user=st.text(max_size=300), host=st.text(max_size=300)), max_size=3
    ),
    gaps=st.lists(
        st.builds(
            agent_pb2.ReportGap,
            kind=st.integers(0, 5),
            sequence=st.integers(0, 2**64 - 1),
            start=timestamps,
            end=timestamps,
            reason=st.text(max_size=250),
        ),
        max_size=3,
    ),
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
            agent_pb2.ReportAck.CONFLICT,
            agent_pb2.ReportAck.FORGED,
        )
        if tamper:
            assert ack.status == agent_pb2.ReportAck.FORGED
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


@FUZZ
@given(text=st.text(max_size=300), number=st.integers(0, 2**63 - 1), which=st.integers(0, 7))
def test_admin_requests_with_wild_values_get_a_clear_answer(
    admin: AdminClient, collector: Collector, text: str, number: int, which: int
) -> None:
    """Well-formed messages with arbitrary values: answered OK or with a client-error status, never
    INTERNAL or UNKNOWN."""
    if not getattr(collector, "fuzz_wallet", False):  # a wallet to ask about, in any currency
        admin.wallets.TopUp(
            wallets_pb2.TopUpRequest(renter="r", amount="1", currency="EUR", idempotency_key="w")
        )
        collector.fuzz_wallet = True  # type: ignore[attr-defined]
    calls = [
        lambda: admin.wallets.GetWallet(wallets_pb2.GetWalletRequest(renter="r", currency=text)),
        lambda: admin.wallets.TopUp(
            wallets_pb2.TopUpRequest(renter=text, amount=text, currency=text, idempotency_key=text)
        ),
        lambda: admin.sessions.StartSession(
            sessions_pb2.StartSessionRequest(agent_id=text, renter=text, plan=text)
        ),
        lambda: admin.plans.Quote(
            plans_pb2.QuoteRequest(plan=text, machine_class=text, duration=Duration(seconds=number % 10**9))
        ),
        lambda: admin.invoices.RenderInvoice(invoices_pb2.RenderInvoiceRequest(invoice_id=text, format=text)),
        lambda: admin.renters.UpdateRenter(
            renters_pb2.UpdateRenterRequest(renter=text, email=text, billing_cycle=text)
        ),
        lambda: admin.machines.CreateEnrollmentToken(
            machines_pb2.CreateEnrollmentTokenRequest(
                machine_class=text, label=text, ttl=Duration(seconds=number % 10**9)
            )
        ),
        lambda: admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=text)),
    ]
    try:
        calls[which]()
    except grpc.RpcError as exc:
        assert exc.code() not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), (which, exc.details())


# Numbers at their extremes: huge, negative, NaN and infinities, many decimals, exponents, odd digits.
NUMBER_WORDS = ["nan", "NaN", "-nan", "sNaN", "inf", "-inf", "Infinity", "-Infinity", "1e999999999",
                "1e-999999999", "9" * 80, "0." + "0" * 60 + "1", "92233720368547758.08", "-0", "1_000",
                "1e20", "0.000000001", "10000000000000.01", "\u0663", " 1 ", "1e", ".", "+5",
                "0x10"]  # fmt: skip
numbers = st.one_of(
    st.sampled_from(NUMBER_WORDS),
    st.integers(-(10**30), 10**30).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.from_regex(r"-?[0-9]{0,25}(\.[0-9]{0,25})?([eE][-+]?[0-9]{1,12})?", fullmatch=True),
)
uint64s = st.one_of(st.integers(0, 2**64 - 1), st.sampled_from([0, 1, 10**19, 2**63, 2**64 - 1]))
int64s = st.one_of(st.integers(-(2**63), 2**63 - 1), st.sampled_from([-(2**63), -1, 0, 2**31, 2**63 - 1]))
TIME_PRICE = '[[prices]]\nmeter = "time"\nprice = "1"\n'
# Where a plan document carries the number: its own price or tiers (no other price needed), or an amount
# beside a plain time price.
PLAN_PLACES = [
    '[time.hourly]\nstandard = "{}"\n',
    '[[prices]]\nmeter = "time"\ntiers = [{{ up_to = "1", price = "{}" }}, {{ price = "1" }}]\n',
    '[[prices]]\nmeter = "time"\ntiers = [{{ up_to = "1", price = "1", flat = "{}" }}, {{ price = "1" }}]\n',
    TIME_PRICE + '[session]\ncap = "{}"\n',
    TIME_PRICE + '[session]\nminimum_charge = "{}"\n',
    TIME_PRICE + '[coupons.X]\namount = "{}"\n',
    TIME_PRICE + '[tax]\nname = "VAT"\npercent = "{}"\n',
    TIME_PRICE + '[service_levels]\nfast = "{}"\n',
    TIME_PRICE + '[[windows]]\nname = "w"\nmultiplier = "{}"\n',
    TIME_PRICE + '[[prices]]\nmeter = "traffic_in"\npackage = "{}"\nprice = "1"\n',
]


@FUZZ
@given(
    number=numbers,
    which=st.integers(0, 4),
    where=st.integers(0, 1000),
    big=uint64s,
    wide=int64s,
    currency=st.sampled_from(["EUR", "JPY", "BHD", "KWD"]),
)
def test_numbers_at_their_extremes_never_get_internal(
    admin: AdminClient,
    collector: Collector,
    number: str,
    which: int,
    where: int,
    big: int,
    wide: int,
    currency: str,
) -> None:
    """Top-ups, credits, plan amounts and quotes with extreme numbers: OK or a client error, never INTERNAL
    or UNKNOWN (before: INTERNAL for 1e70 and 1e17 top-ups, 1e70 credits, quotes with a huge duration,
    start or load)."""
    from tests.collector.test_money_range import make_invoice

    if not getattr(collector, "fuzz_invoice", ""):
        collector.fuzz_invoice = make_invoice(admin, collector.port)  # type: ignore[attr-defined]
        dear = billing.simple_document("fq", "EUR", {"standard": "10000000"}, "0.09", "10000000")
        admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=dear))
    invoice = collector.fuzz_invoice  # type: ignore[attr-defined]
    resources = plans_pb2.RentalTerms(resources={"storage": number})
    document = f'name = "f{where}"\ncurrency = "EUR"\n' + PLAN_PLACES[where % len(PLAN_PLACES)].format(number)
    calls = [
        lambda: admin.wallets.TopUp(
            wallets_pb2.TopUpRequest(
                renter="r", amount=number, currency=currency, idempotency_key=number[:150]
            )
        ),
        lambda: admin.invoices.CreditInvoice(
            invoices_pb2.CreditInvoiceRequest(invoice_id=invoice, amount=number, reason="fuzz")
        ),
        lambda: admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=document)),
        lambda: admin.plans.Quote(
            plans_pb2.QuoteRequest(
                plan="fq",
                machine_class="standard",
                duration=Duration(seconds=wide % 10**12 - where),
                start=Timestamp(seconds=wide, nanos=where),
                expected_rx_bytes=big,
                expected_tx_bytes=big // 3,
                expected_busy_cores=big % 2**32,
                expected_memory_bytes=big,
                gpus={"A100": big % 2**32},
                terms=resources,
            )
        ),
        lambda: admin.plans.Quote(
            plans_pb2.QuoteRequest(
                plan="fq",
                machine_class="standard",
                duration=Duration(seconds=where * 31_000),
                expected_tx_bytes=big % 10**19,
                terms=resources,
            )
        ),
    ]
    try:
        calls[which]()
    except grpc.RpcError as exc:
        assert exc.code() not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), (which, exc.details())
