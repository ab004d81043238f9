"""Shared steps of the gateway tests: a renter, its CNY wallet, an order paid at a stand-in."""

from __future__ import annotations

from datetime import UTC, datetime

from collector.accounts.renters import get_or_create_renter
from collector.accounts.wallets import check_ledger, wallet_state
from collector.server import Collector
from protos.rentmeter.v1 import payments_pb2
from rentmeter.client import AdminClient


def renter(collector: Collector, name: str) -> str:
    collector.database.call(get_or_create_renter, name, datetime.now(UTC))
    return name


def balance(collector: Collector, name: str) -> int:
    """The renter's CNY wallet in fen; the ledger is checked balanced on every look."""
    assert collector.database.call(check_ledger).balanced
    return collector.database.call(wallet_state, name, "CNY").balance_minor


def top_up_order(admin: AdminClient, name: str, gateway: str, amount: str = "20.00", key: str = "k1",
                 method: str = "qr") -> payments_pb2.GatewayOrder:  # fmt: skip
    request = payments_pb2.CreateOrderRequest(
        renter=name, gateway=gateway, method=method, amount=amount, currency="CNY", idempotency_key=key
    )
    return admin.payments.CreateOrder(request)


def state(admin: AdminClient, out_trade_no: str) -> str:
    return admin.payments.GetOrder(payments_pb2.GetOrderRequest(out_trade_no=out_trade_no)).state
