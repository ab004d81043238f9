"""Renters top up their wallets through their card on file (Stripe's SDK against the local stand-in of
test_payments), idempotently, credited once; the provider adjusts wallets on the ledger, with a reason."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest

import billing
from collector.accounts.renters import update_renter
from collector.accounts.wallets import wallet_state
from collector.config import CollectorSettings
from collector.db.database import Database
from collector.payments.providers import StripeProvider
from collector.payments.topups import prepare_top_up, request_top_up
from collector.server import Collector
from protos.rentmeter.v1 import access_pb2, audit_pb2, invoices_pb2, renters_pb2, wallets_pb2
from rentmeter.client import AdminClient
from tests.collector.test_payments import StripeStandIn


@pytest.fixture
def stand_in() -> Iterator[StripeStandIn]:
    server = StripeStandIn(declines=1)
    yield server
    server.shutdown()


@pytest.fixture
def collector_settings(tmp_path: Path, stand_in: StripeStandIn) -> CollectorSettings:
    return CollectorSettings(
        listen="127.0.0.1:0",
        db_url=f"sqlite:///{tmp_path / 'collector.db'}",
        rating_interval=timedelta(seconds=1),
        stripe_api_key="sk_test_standin",
        stripe_api_base=stand_in.url,
    )


def renter_client(collector: Collector, admin: AdminClient, renter: str) -> AdminClient:
    request = access_pb2.CreateApiTokenRequest(role="renter", subject=renter)
    return AdminClient.connect(f"127.0.0.1:{collector.port}", admin.access.CreateApiToken(request).token)


def refused(call: object) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call()  # type: ignore[operator]
    return caught.value


def top_up(client: AdminClient, renter: str, amount: str, key: str) -> wallets_pb2.Wallet:
    request = wallets_pb2.TopUpRequest(renter=renter, amount=amount, currency="EUR", idempotency_key=key)
    return client.wallets.RequestTopUp(request)


def test_a_renter_tops_up_by_card_once_per_key(
    collector: Collector, admin: AdminClient, stand_in: StripeStandIn
) -> None:
    card = {"payment_method": "stripe", "payment_customer": "cus_1", "payment_source": "pm_1"}
    admin.renters.UpdateRenter(renters_pb2.UpdateRenterRequest(renter="alice", **card))
    alice = renter_client(collector, admin, "alice")
    declined = refused(lambda: top_up(alice, "alice", "20.00", "k1"))
    assert declined.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert declined.details() == "the top-up of 20.00 EUR was not charged: declined: Your card was declined."
    again = refused(lambda: top_up(alice, "alice", "20.00", "k1"))  # the provider answers a key once
    assert again.details() == declined.details()
    wallet = top_up(alice, "alice", "20.00", "k2")
    assert (wallet.balance.display, wallet.prepaid) == ("20.00 EUR", True)
    assert top_up(alice, "alice", "20.00", "k2").balance.display == "20.00 EUR"  # a retry: not charged again
    assert len(stand_in.requests) == 3  # k1 twice (declined), k2 once
    _, form = stand_in.requests[-1]
    assert (form["amount"], form["customer"], form["payment_method"]) == ("2000", "cus_1", "pm_1")
    assert "metadata[top_up_id]" in form and "metadata[invoice_id]" not in form  # webhooks leave it alone
    (credit,) = [e for e in wallet.entries if e.kind == "top-up"]
    assert credit.reference == "pi_2"  # the card payment (the stand-in's second answer), on the ledger
    payments = alice.invoices.ListPayments(invoices_pb2.ListPaymentsRequest()).payments
    assert [(p.succeeded, p.reference, p.invoice_id, p.amount.display) for p in payments] == [
        (True, "pi_2", "", "20.00 EUR"),
        (False, "", "", "20.00 EUR"),
        (False, "", "", "20.00 EUR"),
    ]
    failed = admin.invoices.ListPayments(invoices_pb2.ListPaymentsRequest(failed_only=True)).payments
    assert [p.error for p in failed] == ["declined: Your card was declined."] * 2
    assert admin.wallets.CheckLedger(wallets_pb2.CheckLedgerRequest()).balanced
    alice.close()


def test_top_ups_need_a_card_and_ones_own_wallet(collector: Collector, admin: AdminClient) -> None:
    admin.renters.UpdateRenter(renters_pb2.UpdateRenterRequest(renter="bob"))
    bob = renter_client(collector, admin, "bob")
    none = refused(lambda: top_up(bob, "bob", "5.00", "k"))
    assert (
        none.code() is grpc.StatusCode.FAILED_PRECONDITION
        and "bob has no payment method on file" in none.details()
    )
    assert refused(lambda: top_up(bob, "alice", "5.00", "k")).code() is grpc.StatusCode.NOT_FOUND
    for amount, key in (("0", "k"), ("-1", "k"), ("1.001", "k"), ("5.00", "")):
        error = refused(lambda amount=amount, key=key: top_up(admin, "bob", amount, key))
        assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    bob.close()


def adjust(
    amount: str, key: str, reason: str = "goodwill", renter: str = "carol"
) -> wallets_pb2.AdjustWalletRequest:
    return wallets_pb2.AdjustWalletRequest(renter=renter, amount=amount, currency="EUR", reason=reason,
                                           idempotency_key=key)  # fmt: skip


def test_the_provider_adjusts_a_wallet_up_and_down_once_per_key(admin: AdminClient) -> None:
    admin.wallets.TopUp(
        wallets_pb2.TopUpRequest(renter="carol", amount="2.00", currency="EUR", idempotency_key="t")
    )
    assert admin.wallets.AdjustWallet(adjust("5.00", "a1")).balance.display == "7.00 EUR"
    assert admin.wallets.AdjustWallet(adjust("5.00", "a1")).balance.display == "7.00 EUR"  # once
    wallet = admin.wallets.AdjustWallet(adjust("-9.50", "a2", "double top-up reversed"))
    assert wallet.balance.display == "-2.50 EUR"  # a correction may leave it below zero
    assert [(e.kind, e.reference, e.amount.display) for e in wallet.entries if e.kind == "adjustment"] == [
        ("adjustment", "goodwill", "-5.00 EUR"),
        ("adjustment", "double top-up reversed", "9.50 EUR"),
    ]
    for request, words in (
        (adjust("0", "a3"), "must not be zero"),
        (adjust("1", "a3", reason=" "), "reason is required"),
        (adjust("-9999999999999.99", "a3"), "within ±"),  # the wallet is at -2.50 already
        (adjust("-99999999999999", "a3"), "the largest amount rentmeter handles"),
        (adjust("1.234", "a3"), "at most 2 decimals"),
        (adjust("1", ""), "idempotency_key is required"),
    ):
        error = refused(lambda request=request: admin.wallets.AdjustWallet(request))
        assert error.code() is grpc.StatusCode.INVALID_ARGUMENT and words in error.details(), error.details()
    assert refused(lambda: admin.wallets.AdjustWallet(adjust("1", "a4", renter="nobody"))).code() is (
        grpc.StatusCode.NOT_FOUND
    )
    assert admin.wallets.CheckLedger(wallets_pb2.CheckLedgerRequest()).balanced
    audited = admin.audit.ListAuditEntries(audit_pb2.ListAuditEntriesRequest(action="WalletService/Adjust"))
    assert [e.action for e in audited.entries] == ["WalletService/AdjustWallet"] * 3  # the retry too
    assert '"reason":"double top-up reversed"' in audited.entries[0].details


def test_a_charge_whose_credit_was_lost_is_credited_by_the_retry(database: Database) -> None:
    """The card was charged but the collector failed before it credited the wallet: the retry with the
    same key gets the provider's first answer again (no second charge) and is credited, once."""
    stand_in = StripeStandIn()
    providers = {"stripe": StripeProvider("sk_test_standin", stand_in.url)}
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    database.call(update_renter, "dan", now, payment_method="stripe", payment_customer="cus_9",
                  payment_source="pm_9")  # fmt: skip
    amount = billing.Money(1500, "EUR")
    charge = database.call(prepare_top_up, "dan", amount, "k")
    assert charge is not None and providers["stripe"].charge(charge.request).succeeded  # then lost
    asyncio.run(request_top_up(database, providers, "dan", amount, "k", now))
    asyncio.run(request_top_up(database, providers, "dan", amount, "k", now))  # nothing more happens
    assert database.call(wallet_state, "dan", "EUR").balance_minor == 1500
    assert [key for key, _ in stand_in.requests] == [charge.request.idempotency_key] * 2
    stand_in.shutdown()
