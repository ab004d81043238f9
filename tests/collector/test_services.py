"""The collector over real gRPC on loopback: health, reflection, enrollment, report stream, errors."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from agent.identity import Identity, public_key_bytes
from collector.server import SERVICE_NAMES
from protos.rentmeter.v1 import (
    agent_pb2,
    agent_pb2_grpc,
    invoices_pb2,
    machines_pb2,
    plans_pb2,
    sessions_pb2,
    usage_pb2,
    wallets_pb2,
)
from rentmeter.client import AdminClient
from tests.collector.helpers import new_identity, plan_request, sample, signed


def enroll(channel: grpc.Channel, admin: AdminClient, token: str | None = None) -> Identity:
    if token is None:
        token = admin.machines.CreateEnrollmentToken(machines_pb2.CreateEnrollmentTokenRequest()).token
    owner = new_identity()
    response = agent_pb2_grpc.AgentServiceStub(channel).Enroll(
        agent_pb2.EnrollRequest(token=token, public_key=public_key_bytes(owner.key))
    )
    return Identity(response.agent_id, response.machine_class, owner.key)


def stream(channel: grpc.Channel, envelopes: list[agent_pb2.SignedReport]) -> list[agent_pb2.ReportAck]:
    responses = agent_pb2_grpc.AgentServiceStub(channel).StreamReports(iter(envelopes), timeout=10)
    return [ack for response in responses for ack in response.acks]


def now_s() -> float:
    return time.time() - 10


def test_health_and_reflection(channel: grpc.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ["", *SERVICE_NAMES]:
        response = health.Check(health_pb2.HealthCheckRequest(service=service))
        assert response.status == health_pb2.HealthCheckResponse.SERVING
    listed = set(ProtoReflectionDescriptorDatabase(channel).get_services())
    assert set(SERVICE_NAMES) <= listed and "grpc.health.v1.Health" in listed


def test_enrollment_token_is_one_time(channel: grpc.Channel, admin: AdminClient) -> None:
    token = admin.machines.CreateEnrollmentToken(
        machines_pb2.CreateEnrollmentTokenRequest(machine_class="gpu")
    ).token
    identity = enroll(channel, admin, token)
    assert identity.machine_class == "gpu"
    with pytest.raises(grpc.RpcError) as reused:
        enroll(channel, admin, token)
    assert reused.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert "already used" in reused.value.details()
    with pytest.raises(grpc.RpcError) as unknown:
        enroll(channel, admin, "rmt_not-a-token")
    assert unknown.value.code() is grpc.StatusCode.PERMISSION_DENIED


def test_expired_token_is_refused(channel: grpc.Channel, admin: AdminClient) -> None:
    request = machines_pb2.CreateEnrollmentTokenRequest(ttl=Duration(seconds=1))
    token = admin.machines.CreateEnrollmentToken(request).token
    time.sleep(1.1)
    with pytest.raises(grpc.RpcError) as expired:
        enroll(channel, admin, token)
    assert (expired.value.code(), expired.value.details()) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "enrollment token has expired",
    )


def test_duplicates_are_acknowledged_and_counted_once(channel: grpc.Channel, admin: AdminClient) -> None:
    identity = enroll(channel, admin)
    t = now_s()
    first = signed(identity, 1, [sample(t, t + 1, rx=500)])
    second = signed(identity, 2, [sample(t + 1, t + 2, rx=700)])
    acks = stream(channel, [first, second, first])
    assert [(a.sequence, a.status) for a in acks] == [
        (1, agent_pb2.ReportAck.ACCEPTED),
        (2, agent_pb2.ReportAck.ACCEPTED),
        (1, agent_pb2.ReportAck.DUPLICATE),
    ]
    assert [a.status for a in stream(channel, [first, second])] == [agent_pb2.ReportAck.DUPLICATE] * 2
    usage = admin.usage.GetUsage(usage_pb2.GetUsageRequest(agent_id=identity.agent_id))
    assert (usage.covered_us, usage.net_rx_bytes, usage.sample_count) == (2_000_000, 1200, 2)


def _open_rental(admin: AdminClient, identity: Identity) -> str:
    admin.plans.CreatePlan(plan_request("p", {"standard": "3600"}))
    request = sessions_pb2.StartSessionRequest(agent_id=identity.agent_id, renter="r", plan="p")
    return admin.sessions.StartSession(request).session_id


def _assert_nothing_billed(admin: AdminClient, identity: Identity, session_id: str) -> None:
    time.sleep(1.5)  # at least one run of the rating job
    usage = admin.usage.GetUsage(usage_pb2.GetUsageRequest(agent_id=identity.agent_id))
    rental = admin.sessions.GetSession(sessions_pb2.GetSessionRequest(session_id=session_id))
    assert (usage.sample_count, usage.covered_us, rental.covered_us, rental.cost.minor_units) == (0, 0, 0, 0)


def test_forged_signature_is_refused_and_not_billed(channel: grpc.Channel, admin: AdminClient) -> None:
    identity = enroll(channel, admin)
    session_id = _open_rental(admin, identity)
    t = time.time()
    forger = Identity(identity.agent_id, "standard", new_identity().key)
    (forged,) = stream(channel, [signed(forger, 1, [sample(t, t + 1, rx=10**9)])])
    assert (forged.sequence, forged.status) == (1, agent_pb2.ReportAck.FORGED)
    assert "signature does not verify" in forged.reason
    tampered = signed(identity, 1, [sample(t, t + 1)])
    report = agent_pb2.UsageReport.FromString(tampered.payload)
    report.samples[0].net_rx_bytes = 10**12
    tampered.payload = report.SerializeToString()
    assert [a.status for a in stream(channel, [tampered])] == [agent_pb2.ReportAck.FORGED]
    _assert_nothing_billed(admin, identity, session_id)


def test_unknown_agent_is_refused(channel: grpc.Channel) -> None:
    stranger = new_identity("m-unknown")
    with pytest.raises(grpc.RpcError) as refused:
        stream(channel, [signed(stranger, 1, [sample(now_s(), now_s() + 1)])])
    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert "not enrolled" in refused.value.details()


def test_report_of_another_agent_in_the_envelope_is_refused(
    channel: grpc.Channel, admin: AdminClient
) -> None:
    identity, other = enroll(channel, admin), enroll(channel, admin)
    envelope = signed(identity, 1, [sample(now_s(), now_s() + 1)])
    envelope.agent_id = other.agent_id  # claims to be another machine
    assert [a.status for a in stream(channel, [envelope])] == [agent_pb2.ReportAck.FORGED]


def test_garbage_payload_with_valid_signature_is_rejected(channel: grpc.Channel, admin: AdminClient) -> None:
    identity = enroll(channel, admin)
    from protos.signing import report_signing_bytes

    payload = b"\xff\xff\xff garbage"
    envelope = agent_pb2.SignedReport(
        agent_id=identity.agent_id, payload=payload, signature=identity.sign(report_signing_bytes(payload))
    )
    envelope.sequence = 7  # the agent's own number for it, named in the ack
    (ack,) = stream(channel, [envelope])
    assert (ack.sequence, ack.status, ack.reason) == (
        7, agent_pb2.ReportAck.REJECTED, "report payload is not a UsageReport"
    )  # fmt: skip


def test_implausible_report_is_rejected_in_its_ack(channel: grpc.Channel, admin: AdminClient) -> None:
    identity = enroll(channel, admin)
    future = time.time() + 3600
    (ack,) = stream(channel, [signed(identity, 1, [sample(future, future + 1)])])
    assert ack.status == agent_pb2.ReportAck.REJECTED and "future" in ack.reason


@pytest.mark.parametrize(
    ("call", "code", "words"),
    [
        (
            lambda a: a.plans.CreatePlan(plan_request("x", {"standard": "1"}, currency="EURO")),
            "INVALID_ARGUMENT",
            "currency",
        ),
        (
            lambda a: a.plans.CreatePlan(plan_request("x", {"standard": "-1"})),
            "INVALID_ARGUMENT",
            "non-negative",
        ),
        (
            lambda a: a.sessions.StartSession(
                sessions_pb2.StartSessionRequest(agent_id="m-x", renter="r", plan="p")
            ),
            "NOT_FOUND",
            "machine 'm-x' not found",
        ),
        (
            lambda a: a.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id="s-x")),
            "NOT_FOUND",
            "s-x",
        ),
        (
            lambda a: a.usage.GetUsage(usage_pb2.GetUsageRequest()),
            "INVALID_ARGUMENT",
            "agent_id or session_id",
        ),
        (
            lambda a: a.machines.CreateEnrollmentToken(
                machines_pb2.CreateEnrollmentTokenRequest(ttl=Duration(seconds=90 * 86400))
            ),
            "INVALID_ARGUMENT",
            "ttl",
        ),
    ],
)
def test_admin_errors_have_clear_statuses(admin: AdminClient, call, code: str, words: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as error:
        call(admin)
    assert error.value.code().name == code and words in error.value.details()


def test_plan_name_is_unique_and_class_must_be_priced(channel: grpc.Channel, admin: AdminClient) -> None:
    plan = plan_request("gpu-only", {"gpu": "5"})
    admin.plans.CreatePlan(plan)
    with pytest.raises(grpc.RpcError) as exists:
        admin.plans.CreatePlan(plan)
    assert exists.value.code() is grpc.StatusCode.ALREADY_EXISTS
    identity = enroll(channel, admin)
    with pytest.raises(grpc.RpcError) as unpriced:
        admin.sessions.StartSession(
            sessions_pb2.StartSessionRequest(agent_id=identity.agent_id, renter="r", plan="gpu-only")
        )
    assert unpriced.value.code() is grpc.StatusCode.FAILED_PRECONDITION


def test_quote_prices_a_planned_rental_with_the_billing_engine(admin: AdminClient) -> None:
    admin.plans.CreatePlan(plan_request("q", {"gpu": "2.75"}, traffic_out="0.09"))
    request = plans_pb2.QuoteRequest(
        plan="q", machine_class="gpu", duration=Duration(seconds=90 * 60), expected_tx_bytes=5 * 10**9
    )
    quote = admin.plans.Quote(request)
    assert [(line.meter, line.quantity, line.amount.minor_units) for line in quote.lines] == [
        ("time", "5400", 413),  # 1.5 h x 2.75 = 4.125 -> 4.13
        ("traffic_out", "5", 45),
    ]
    assert (quote.total.minor_units, quote.total.display) == (458, "4.58 EUR")
    with pytest.raises(grpc.RpcError) as unpriced:
        admin.plans.Quote(
            plans_pb2.QuoteRequest(plan="q", machine_class="cpu", duration=Duration(seconds=60))
        )
    assert unpriced.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.RpcError) as no_duration:
        admin.plans.Quote(plans_pb2.QuoteRequest(plan="q", machine_class="gpu"))
    assert no_duration.value.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_explain_traces_a_sessions_charge_to_its_reports_and_invoices(
    channel: grpc.Channel, admin: AdminClient
) -> None:
    identity = enroll(channel, admin)
    admin.plans.CreatePlan(plan_request("x", {"standard": "36"}, increment="60s"))
    rental = admin.sessions.StartSession(
        sessions_pb2.StartSessionRequest(agent_id=identity.agent_id, renter="r", plan="x")
    )
    t = rental.started_at.seconds + rental.started_at.nanos / 1e9
    envelopes = [
        signed(identity, 1, [sample(t, t + 0.001)]),
        signed(identity, 2, [sample(t + 0.001, t + 0.002)]),
    ]
    acks = stream(channel, envelopes)
    time.sleep(0.05)  # the session outlasts the samples
    assert [a.status for a in acks] == [agent_pb2.ReportAck.ACCEPTED] * 2
    admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=rental.session_id))
    (invoice,) = admin.invoices.CloseInvoices(
        invoices_pb2.CloseInvoicesRequest(renter="r", invoice_now=True)
    ).invoices
    x = admin.sessions.ExplainSession(sessions_pb2.GetSessionRequest(session_id=rental.session_id))
    assert x.rules.splitlines()[1:] == [
        "rental time (standard): 36 EUR/h",
        "rental time billed per 60 s, rounded up",
    ]
    assert x.covered_us == 2000
    charge, gap = x.charges  # the session outlasts its samples: the rest is a gap, not billed
    assert (charge.quantity, charge.exact_amount, charge.amount.minor_units) == ("60", "0.6", 60)
    assert (gap.meter, gap.exact_amount, gap.amount.minor_units) == ("gap", "0", 0)
    assert gap.description.startswith("no reports for ") and gap.description.endswith(" s not billed")
    assert "0.002 s covered" in charge.description
    assert [(r.first_sequence, r.last_sequence) for r in x.reports] == [(1, 2)]
    invoiced = [(i.invoice_id, i.amount.minor_units) for i in x.invoiced]
    assert invoiced == [(invoice.invoice_id, 60), (invoice.invoice_id, 0)]  # time, and the gap line
    assert x.total.minor_units == invoice.total.minor_units == 60


CAFE = """\
name = "cafe"
currency = "EUR"
timezone = "Europe/Berlin"

[[windows]]
name = "night"
from = "22:00"
to = "06:00"

[[prices]]
meter = "time"
price = "2.00"

[[prices]]
meter = "time"
window = "night"
price = "1.00"

[session]
daily_cap = "10.00"

[service_levels]
premium = "1.5"

[tax]
name = "VAT"
percent = "19"
"""


def test_plan_documents_versions_and_quotes_over_grpc(admin: AdminClient) -> None:
    created = admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=CAFE))
    assert [v.number for v in created.versions] == [
        1
    ] and "window night (every day, 22:00-06:00)" in created.versions[0].rules
    # The autumn DST night in Berlin: 22:00 to 06:00 local is 9 real hours; from 20:00 local on 24 Oct.
    start = Timestamp(seconds=int(datetime(2026, 10, 24, 18, 0, tzinfo=UTC).timestamp()))
    request = plans_pb2.QuoteRequest(
        plan="cafe", machine_class="c", start=start, duration=Duration(seconds=12 * 3600)
    )
    quote = admin.plans.Quote(request)
    # 24 Oct: 2 h day (4.00) + 2 h night (2.00) = 6.00; 25 Oct: 7 h night + 1 h day = 9.00; VAT 19 % of 15.00.
    assert [(line.meter, line.amount.minor_units) for line in quote.lines] == [
        ("time", 600),
        ("time#2", 900),
        ("tax:VAT", 285),
    ]
    assert quote.total.display == "17.85 EUR"
    premium = admin.plans.Quote(
        plans_pb2.QuoteRequest(
            plan="cafe",
            machine_class="c",
            start=start,
            duration=Duration(seconds=12 * 3600),
            terms=plans_pb2.RentalTerms(service_level="premium"),
        )
    )
    # x1.5: 9.00 + 13.50 = 22.50, capped per local day: 24 Oct 9.00, 25 Oct 10.00 -> 19.00 + VAT 3.61.
    assert premium.total.display == "22.61 EUR"
    later = CAFE.replace('price = "2.00"', 'price = "3.00"').replace(
        'currency = "EUR"', 'currency = "EUR"\neffective_from = 2026-10-25T04:00:00Z'
    )
    version = admin.plans.AddPlanVersion(plans_pb2.AddPlanVersionRequest(name="cafe", document=later))
    assert [v.number for v in version.versions] == [1, 2]
    # The last day hour (05:00-06:00 UTC) now costs 3.00: 25 Oct = 7.00 + 3.00 = 10.00 (at the cap).
    assert admin.plans.Quote(request).total.display == "19.04 EUR"  # 16.00 + VAT 3.04


@pytest.mark.parametrize(
    ("document", "code", "words"),
    [
        (
            CAFE.replace('price = "1.00"', "price = 1.0"),
            "INVALID_ARGUMENT",
            ":17: price: write amounts as text",
        ),
        (
            CAFE.replace('to = "06:00"', 'to = "6 am"'),
            "INVALID_ARGUMENT",
            ":8: to: '6 am' is not a local time",
        ),
        ("", "INVALID_ARGUMENT", "document is required"),
    ],
)
def test_bad_plan_documents_are_refused_with_their_line(
    admin: AdminClient, document: str, code: str, words: str
) -> None:
    with pytest.raises(grpc.RpcError) as error:
        admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=document))
    assert error.value.code().name == code and words in error.value.details()


def test_bad_versions_and_quote_terms_are_refused(admin: AdminClient) -> None:
    admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=CAFE))
    with pytest.raises(grpc.RpcError) as error:
        admin.plans.AddPlanVersion(plans_pb2.AddPlanVersionRequest(name="cafe", document=CAFE))
    assert error.value.code() is grpc.StatusCode.FAILED_PRECONDITION and "later than" in error.value.details()
    with pytest.raises(grpc.RpcError) as error:
        admin.plans.Quote(
            plans_pb2.QuoteRequest(
                plan="cafe",
                machine_class="c",
                duration=Duration(seconds=60),
                terms=plans_pb2.RentalTerms(coupon="FREE"),
            )
        )
    assert (
        error.value.code() is grpc.StatusCode.FAILED_PRECONDITION and "coupon 'FREE'" in error.value.details()
    )


@pytest.mark.parametrize(
    ("request_fields", "words"),
    [
        ({"renter": "r", "amount": "5", "currency": "EUR"}, "idempotency_key is required"),
        ({"renter": "r", "amount": "-5", "currency": "EUR", "idempotency_key": "k"}, "non-negative"),
        ({"renter": "r", "amount": "0.001", "currency": "EUR", "idempotency_key": "k"}, "at most 2 decimals"),
        ({"renter": "r", "amount": "5", "currency": "EURO", "idempotency_key": "k"}, "unknown currency"),
        ({"renter": "", "amount": "5", "currency": "EUR", "idempotency_key": "k"}, "renter must be"),
    ],
)
def test_top_ups_are_validated(admin: AdminClient, request_fields: dict, words: str) -> None:
    with pytest.raises(grpc.RpcError) as error:
        admin.wallets.TopUp(wallets_pb2.TopUpRequest(**request_fields))
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT and words in error.value.details()


def test_wallets_over_grpc(admin: AdminClient) -> None:
    with pytest.raises(grpc.RpcError) as missing:
        admin.wallets.GetWallet(wallets_pb2.GetWalletRequest(renter="nobody"))
    assert missing.value.code() is grpc.StatusCode.NOT_FOUND
    request = wallets_pb2.TopUpRequest(renter="amy", amount="12.50", currency="eur", idempotency_key="p-1")
    admin.wallets.TopUp(request)
    wallet = admin.wallets.TopUp(request)  # retried: credited once
    assert (wallet.prepaid, wallet.balance.display, wallet.spendable.display) == (
        True,
        "12.50 EUR",
        "12.50 EUR",
    )
    assert [(e.kind, e.account, e.amount.minor_units) for e in wallet.entries] == [
        ("top-up", "wallet:amy", -1250)
    ]
    check = admin.wallets.CheckLedger(wallets_pb2.CheckLedgerRequest())
    assert check.balanced and [m.display for m in check.debits] == ["12.50 EUR"] == [
        m.display for m in check.credits
    ]
