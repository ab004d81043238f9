"""Money has a range, checked at the door: plans, top-ups, credits and quotes with absurd numbers get
INVALID_ARGUMENT with a sentence (plans: with the line), and a session whose usage would cost more than the
range holds is recorded as failing, naming itself and the charge, while the others are rated and invoiced."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

import billing
from agent.identity import Identity
from collector.core.errors import FailedPrecondition
from collector.db.database import Database
from collector.db.isolation import current_failures
from collector.db.models import RentalSession
from collector.invoicing.invoices import INVOICING_JOB, close_invoices
from collector.metering.ingest import store_reports
from collector.sessions.explain import explain_session
from collector.sessions.live import live_cost
from collector.sessions.plans import create_plan
from collector.sessions.rating import RATING_JOB, rate_sessions
from collector.sessions.rentals import get_session, start_session, stop_session
from protos.rentmeter.v1 import (
    agent_pb2_grpc,
    invoices_pb2,
    plans_pb2,
    sessions_pb2,
    wallets_pb2,
)
from rentmeter.client import AdminClient
from tests.collector.helpers import enrolled_machine, incoming, plan_request, sample, signed
from tests.collector.test_services import enroll

ABSURD = 'name = "absurd"\ncurrency = "EUR"\n\n[[prices]]\nmeter = "time"\nprice = "100000000000000000000"\n'
OVERLAPPING = """\
name = "night-and-weekend"
currency = "EUR"

[[prices]]
meter = "time"
price = "2.00"

[[windows]]
name = "night"
from = "22:00"
to = "06:00"

[[windows]]
name = "weekend"
days = "weekends"
"""


def _refused(call: Callable[[], Any]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as error:
        call()
    return error.value


def test_an_absurd_price_is_refused_at_plan_create_with_the_line(admin: AdminClient) -> None:
    """Before: accepted, and every session of the plan then failed to rate (10^20 EUR/h overflows int64)."""
    error = _refused(lambda: admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=ABSURD)))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == (
        "invalid price plan: <plan>:6: price: '100000000000000000000' is more than the largest unit price,"
        " 10000000.00 EUR"
    )
    admin.plans.CreatePlan(plan_request("absurd", {"standard": "1.20"}))
    version = ABSURD.replace('price = "100', 'per = "second"\nprice = "100').replace(
        '"EUR"\n', '"EUR"\neffective_from = 2030-01-01T00:00:00Z\n'
    )
    error = _refused(
        lambda: admin.plans.AddPlanVersion(plans_pb2.AddPlanVersionRequest(name="absurd", document=version))
    )
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT and "<plan>:8: price: " in error.details()


def test_overlapping_windows_are_refused_at_plan_create_with_the_line(admin: AdminClient) -> None:
    error = _refused(lambda: admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=OVERLAPPING)))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(
        "invalid price plan: <plan>:13: windows: weekend (sat,sun, all day) overlaps night (every day,"
        " 22:00-06:00) (line 8): give the window that should apply where they overlap a higher priority"
    )
    fixed = OVERLAPPING.replace('days = "weekends"', 'days = "weekends"\npriority = 1')
    assert admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=fixed)).name == "night-and-weekend"


@pytest.mark.parametrize(
    ("amount", "currency", "words"),
    [
        ("1e17", "EUR", "amount: '1e17' is more than 10000000000000.00 EUR"),  # before: INTERNAL (int64)
        ("1e70", "EUR", "amount: '1e70' is out of any sensible range"),  # before: INTERNAL (decimal)
        ("92233720368547758.08", "EUR", "is more than 10000000000000.00 EUR"),
        ("NaN", "EUR", "must be a finite, non-negative number"),
        ("Infinity", "EUR", "must be a finite, non-negative number"),
        ("-0", "EUR", "amount: must be more than 0"),
        ("1.000000001", "EUR", "must have at most 2 decimals"),
        ("1.0001", "BHD", "must have at most 3 decimals"),
        ("0." + "0" * 200 + "1", "EUR", "is not a decimal number of at most 64 characters"),
    ],
)
def test_top_ups_out_of_range_are_invalid(admin: AdminClient, amount: str, currency: str, words: str) -> None:
    request = wallets_pb2.TopUpRequest(renter="r", amount=amount, currency=currency, idempotency_key="k")
    error = _refused(lambda: admin.wallets.TopUp(request))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT and words in error.details()


def test_a_wallet_holds_at_most_the_largest_amount(admin: AdminClient) -> None:
    """Before: the second top-up took the balance past what sums of int64 hold on SQLite."""
    full = wallets_pb2.TopUpRequest(renter="r", amount="10000000000000", currency="EUR", idempotency_key="1")
    assert admin.wallets.TopUp(full).balance.minor_units == 10**15
    more = wallets_pb2.TopUpRequest(renter="r", amount="0.01", currency="EUR", idempotency_key="2")
    error = _refused(lambda: admin.wallets.TopUp(more))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == (
        "the wallet of r holds 10000000000000.00 EUR: a top-up of 0.01 EUR would take it beyond"
        " 10000000000000.00 EUR, the largest amount rentmeter handles"
    )
    assert admin.wallets.TopUp(full).balance.minor_units == 10**15  # a retry is still answered


def make_invoice(admin: AdminClient, port: int, renter: str = "ann") -> str:
    """The id of an invoice of 0.50 EUR: a session covered by one report of 0.5 s at 1 EUR a second,
    invoiced now (plan "p" is created for it)."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        machine = enroll(channel, admin)
        admin.plans.CreatePlan(plan_request("p", {"standard": "3600"}))
        rental = admin.sessions.StartSession(
            sessions_pb2.StartSessionRequest(agent_id=machine.agent_id, renter=renter, plan="p")
        )
        begun = rental.started_at.seconds + rental.started_at.nanos / 1e9
        report = signed(machine, 1, [sample(begun, begun + 0.5)])
        list(agent_pb2_grpc.AgentServiceStub(channel).StreamReports(iter([report])))
    time.sleep(0.6)
    admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=rental.session_id))
    close = invoices_pb2.CloseInvoicesRequest(renter=renter, invoice_now=True)
    (invoice,) = admin.invoices.CloseInvoices(close).invoices
    return invoice.invoice_id


@pytest.fixture
def invoice_id(admin: AdminClient, collector: Any) -> str:
    return make_invoice(admin, collector.port)


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("1e20", "amount: '1e20' is more than 10000000000000.00 EUR"),  # before: FAILED_PRECONDITION
        ("1e70", "is out of any sensible range"),  # before: INTERNAL
        ("0.001", "must have at most 2 decimals"),  # before: silently rounded to 0.00
        ("0.005", "must have at most 2 decimals"),  # before: silently rounded to 0.01
        ("nan", "must be a finite, non-negative number"),
        ("-inf", "must be a finite, non-negative number"),
        ("0", "amount: must be more than 0"),
    ],
)
def test_credit_amounts_out_of_range_are_invalid(
    admin: AdminClient, invoice_id: str, amount: str, words: str
) -> None:
    request = invoices_pb2.CreditInvoiceRequest(invoice_id=invoice_id, amount=amount, reason="test")
    error = _refused(lambda: admin.invoices.CreditInvoice(request))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT and words in error.details()
    assert (
        admin.invoices.CreditInvoice(
            invoices_pb2.CreditInvoiceRequest(invoice_id=invoice_id, amount="0.01", reason="test")
        ).amount.minor_units
        == 1
    )


RentalTerms = plans_pb2.RentalTerms
QUOTE = {"plan": "q", "machine_class": "standard", "duration": Duration(seconds=3600)}


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        # Before: INTERNAL for a duration or start that does not fit a datetime.
        ({"duration": Duration(seconds=2**62)}, "duration must be positive and at most 366 days"),
        ({"duration": Duration(seconds=-60)}, "duration must be positive"),
        ({"duration": Duration(nanos=999)}, "duration must be positive"),
        ({"start": Timestamp(seconds=2**62)}, "start must be a time from 1970-01-01 to 2200-01-01"),
        ({"start": Timestamp(seconds=-10**11)}, "start must be a time from 1970-01-01"),
        ({"start": Timestamp(seconds=0, nanos=-1)}, "start must be a time from"),
        ({"expected_tx_bytes": 2**64 - 1},
         "expected_tx_bytes: 18446744073709551615 is more than 10,000,000,000,000,000,000"),
        ({"expected_rx_bytes": 10**19 + 1}, "expected_rx_bytes: "),
        ({"expected_busy_cores": 2**32 - 1},
         "expected_busy_cores: 4294967295 is more than 100,000, the most a quote takes"),
        ({"expected_memory_bytes": 2**64 - 1}, "expected_memory_bytes: "),
        ({"gpus": {"A100": 2**32 - 1}},
         "gpus: a GPU model has a name of 1 to 100 characters and at most 1000 GPUs"),
        ({"gpus": {"": 1}}, "gpus: a GPU model has a name"),
        ({"gpus": {f"g{i}": 1 for i in range(17)}}, "gpus: at most 16 GPU models"),
        ({"terms": RentalTerms(resources={"storage": "1e13"})}, "resource storage: '1e13' is more than"),
        ({"terms": RentalTerms(resources={"storage": "NaN"})}, "must be a finite, non-negative number"),
        ({"terms": RentalTerms(resources={"storage": "1e-10"})}, "must have at most 9 decimals"),
        ({"terms": RentalTerms(resources={f"r{i}": "1" for i in range(17)})}, "resources: at most 16"),
        # In range at the door, beyond the range in the engine: 10^19 bytes at 10,000,000 EUR/GB.
        ({"expected_tx_bytes": 10**19},
         "the quote leaves the money range: traffic_out: 1.000E+17 EUR is beyond"),
    ],
)  # fmt: skip
def test_quotes_with_absurd_numbers_are_invalid(
    admin: AdminClient, fields: dict[str, Any], words: str
) -> None:
    admin.plans.CreatePlan(plan_request("q", {"standard": "1.20"}, traffic_out="10000000"))
    error = _refused(lambda: admin.plans.Quote(plans_pb2.QuoteRequest(**{**QUOTE, **fields})))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT and words in error.details()


def test_the_largest_quote_still_answers(admin: AdminClient) -> None:
    """366 days at the largest hourly price with the most a quote takes, under ordinary prices."""
    admin.plans.CreatePlan(plan_request("q", {"standard": "10000000"}, traffic_out="0.09"))
    request = plans_pb2.QuoteRequest(
        plan="q", machine_class="standard", duration=Duration(seconds=366 * 86400),
        start=Timestamp(seconds=2**31), expected_tx_bytes=10**19, expected_busy_cores=100_000,
        expected_memory_bytes=10**15, gpus={"A100": 1000},
    )  # fmt: skip
    quoted = admin.plans.Quote(request)
    assert quoted.total.minor_units == 8_784_000_000_000 + 90_000_000_000  # 8,784 h; 10^10 GB at 0.09


# A session beyond the range among healthy ones, on a real database.

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DEAR_TRAFFIC = billing.simple_document("dear", "EUR", {"standard": "1.20"}, traffic_out_per_gb="10000000")
PLAIN = billing.simple_document("plain", "EUR", {"standard": "36.00"})  # 1 cent a second


def _report(database: Database, machine: Identity, seconds: int, tx: int) -> None:
    base = START.timestamp()
    samples = [sample(base + i, base + i + 1, tx=tx) for i in range(seconds)]
    database.call(store_reports, [incoming(machine, 1, samples)], START + timedelta(seconds=seconds))


def test_a_session_beyond_the_range_is_isolated_and_named(database: Database) -> None:
    """10^18 bytes sent at 10,000,000 EUR/GB cost 10^16 EUR, beyond the range: that session is recorded as
    failing, naming itself and the charge; the healthy one is rated and invoiced on time."""
    healthy_machine, poisoned_machine = (enrolled_machine(database, START - HOUR) for _ in range(2))
    database.call(create_plan, PLAIN, START - HOUR)
    database.call(create_plan, DEAR_TRAFFIC, START - HOUR)

    def start(machine: Identity, renter: str, plan: str) -> RentalSession:
        return database.call(
            start_session, agent_id=machine.agent_id, renter_id=renter, plan_name=plan, now=START
        )

    healthy, poisoned = start(healthy_machine, "ann", "plain"), start(poisoned_machine, "bob", "dear")
    _report(database, healthy_machine, 10, tx=0)
    _report(database, poisoned_machine, 10, tx=10**17)

    outcome = database.call(rate_sessions, START + timedelta(seconds=10))
    assert (outcome.processed, outcome.failed) == (1, [f"session {poisoned.id}"])
    assert database.call(get_session, healthy.id).cost_minor == 10
    assert database.call(get_session, poisoned.id).cost_minor == 0  # kept as it was, not a wrong number
    (failure,) = database.call(current_failures, RATING_JOB)
    assert failure.subject == f"session {poisoned.id}"
    assert failure.error == (
        f"session {poisoned.id}: traffic_out: 1.000E+16 EUR is beyond the range rentmeter handles"
        " (±10000000000000.00 EUR, 10^15 minor units)"
    )

    for call in (explain_session, live_cost):  # a request about it: FAILED_PRECONDITION, not INTERNAL
        with pytest.raises(FailedPrecondition, match=r"traffic_out: 1\.000E\+16 EUR is beyond"):
            database.call(call, poisoned.id, START + timedelta(seconds=10))

    for rental in (healthy, poisoned):
        database.call(stop_session, rental.id, START + timedelta(seconds=10))
    invoices = database.call(close_invoices, START + 2 * HOUR, period=HOUR, grace=timedelta(minutes=5))
    assert [(i.renter_id, i.total_minor) for i in invoices] == [("ann", 10)]
    (failure,) = database.call(current_failures, INVOICING_JOB)
    assert failure.subject == "renter bob" and f"session {poisoned.id}: traffic_out: " in failure.error
