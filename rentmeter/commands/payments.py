"""`rentmeter payments pay|order|refund|withdraw|reconcile|mismatches|resolve|agreement`: Alipay and
WeChat Pay orders (the QR code printed in the terminal), refunds and the reconciliation with the gateways'
statements."""

from __future__ import annotations

import argparse
import io
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from rentmeter.commands import agreements
from rentmeter.commands.remote import Commands, remote_options, show, with_client

if TYPE_CHECKING:
    from protos.rentmeter.v1 import payments_pb2
    from rentmeter.client import AdminClient


def register(commands: Commands) -> None:
    payments = commands.add_parser("payments", help="Alipay and WeChat Pay: orders, refunds, reconciliation")
    actions = payments.add_subparsers(dest="action", required=True)
    pay = actions.add_parser("pay", parents=[remote_options(prints=True)], help="a QR code or link to pay")
    pay.add_argument("renter")
    pay.add_argument("amount", nargs="?", default="", help="a top-up in CNY, e.g. 20.00 (or --invoice)")
    pay.add_argument("--gateway", choices=["alipay", "wechatpay"], required=True)
    pay.add_argument("--method", choices=["qr", "page", "wap", "h5"], default="qr")
    pay.add_argument("--invoice", default="", help="pay this invoice's total instead")
    pay.add_argument("--idempotency-key", default="", help="default: a new one (a new top-up)")
    pay.set_defaults(handler=payments_pay)
    order = actions.add_parser("order", parents=[remote_options(prints=True)], help="an order's state")
    order.add_argument("out_trade_no")
    order.set_defaults(handler=payments_order)
    refund = actions.add_parser("refund", parents=[remote_options(prints=True)], help="refund a paid order")
    refund.add_argument("out_trade_no")
    refund.add_argument("amount", nargs="?", default="", help="default: all that is left")
    refund.add_argument("--reason", default="refund")
    refund.set_defaults(handler=payments_refund)
    withdraw = actions.add_parser("withdraw", parents=[remote_options(prints=True)],
                                  help="pay a CNY wallet back through its top-ups")  # fmt: skip
    withdraw.add_argument("renter")
    withdraw.add_argument("amount")
    withdraw.add_argument("--reason", default="withdrawal")
    withdraw.set_defaults(handler=payments_withdraw)
    reconcile = actions.add_parser("reconcile", parents=[remote_options(prints=True)],
                                   help="match a gateway's statement of a day with the ledger")  # fmt: skip
    reconcile.add_argument("--gateway", choices=["alipay", "wechatpay"], required=True)
    reconcile.add_argument("--date", required=True, help="YYYY-MM-DD (China Standard Time)")
    reconcile.add_argument(
        "--file", type=Path, help="the statement as downloaded (offline); default: download"
    )
    reconcile.set_defaults(handler=payments_reconcile)
    mismatches = actions.add_parser("mismatches", parents=[remote_options(prints=True)], help="unresolved")
    mismatches.add_argument("--all", action="store_true", help="resolved ones too")
    mismatches.set_defaults(handler=payments_mismatches)
    resolve = actions.add_parser("resolve", parents=[remote_options(prints=True)], help="resolve a mismatch")
    resolve.add_argument("id", type=int)
    resolve.add_argument("action", choices=["credit", "accept"])
    resolve.add_argument("--note", required=True)
    resolve.set_defaults(handler=payments_resolve)
    agreements.add_parsers(actions)


def terminal_qr(data: str) -> str:
    """The QR code as text for a terminal (half blocks, light modules on a dark background)."""
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(data)
    code.make(fit=True)
    out = io.StringIO()
    code.print_ascii(out=out, invert=True)
    return out.getvalue()


@with_client
def payments_pay(client: AdminClient, args: argparse.Namespace) -> int:
    from protos.rentmeter.v1 import payments_pb2

    key = args.idempotency_key or ("" if args.invoice else "cli-" + secrets.token_hex(8))
    order = client.payments.CreateOrder(payments_pb2.CreateOrderRequest(
        renter=args.renter, gateway=args.gateway, method=args.method, amount=args.amount, currency="CNY",
        idempotency_key=key, invoice_id=args.invoice), timeout=60)  # fmt: skip
    show(args, order, lambda: render_order(order, with_qr=args.method == "qr"))
    return 0


@with_client
def payments_order(client: AdminClient, args: argparse.Namespace) -> int:
    from protos.rentmeter.v1 import payments_pb2

    order = client.payments.GetOrder(payments_pb2.GetOrderRequest(out_trade_no=args.out_trade_no))
    show(args, order, lambda: render_order(order))
    return 0


def render_order(order: payments_pb2.GatewayOrder, with_qr: bool = False) -> None:
    what = f"{order.purpose} of {order.amount.display} by {order.gateway} ({order.method})"
    print(f"{order.out_trade_no}: {what}, {order.state}")
    if with_qr and order.state == "created":
        print(terminal_qr(order.pay_url), end="")
    if order.state == "created":
        print(order.pay_url)


@with_client
def payments_refund(client: AdminClient, args: argparse.Namespace) -> int:
    from protos.rentmeter.v1 import payments_pb2

    refund = client.payments.RefundOrder(payments_pb2.RefundOrderRequest(
        out_trade_no=args.out_trade_no, amount=args.amount, reason=args.reason), timeout=60)  # fmt: skip
    show(args, refund, lambda: print(f"{refund.out_refund_no}: {refund.amount.display} {refund.state}"))
    return 0


@with_client
def payments_withdraw(client: AdminClient, args: argparse.Namespace) -> int:
    from protos.rentmeter.v1 import payments_pb2

    done = client.payments.WithdrawWallet(payments_pb2.WithdrawWalletRequest(
        renter=args.renter, amount=args.amount, currency="CNY", reason=args.reason), timeout=120)  # fmt: skip

    def render() -> None:
        for r in done.refunds:
            print(f"{r.out_refund_no} ({r.out_trade_no}): {r.amount.display} {r.state}")

    show(args, done, render)
    return 0


@with_client
def payments_reconcile(client: AdminClient, args: argparse.Namespace) -> int:
    from protos.rentmeter.v1 import payments_pb2

    statement = args.file.read_bytes() if args.file else b""
    report = client.payments.Reconcile(payments_pb2.ReconcileRequest(
        gateway=args.gateway, date=args.date, statement=statement), timeout=300)  # fmt: skip
    show(args, report, lambda: render_report(report))
    return 1 if any(not m.resolved for m in report.mismatches) else 0


@with_client
def payments_mismatches(client: AdminClient, args: argparse.Namespace) -> int:
    from protos.rentmeter.v1 import payments_pb2

    report = client.payments.ListMismatches(payments_pb2.ListMismatchesRequest(all=args.all))
    show(args, report, lambda: render_report(report))
    return 0


@with_client
def payments_resolve(client: AdminClient, args: argparse.Namespace) -> int:
    from protos.rentmeter.v1 import payments_pb2

    row = client.payments.ResolveMismatch(payments_pb2.ResolveMismatchRequest(
        id=args.id, action=args.action, note=args.note))  # fmt: skip
    show(args, row, lambda: print(f"mismatch {row.id} resolved: {row.resolution}"))
    return 0


def render_report(report: payments_pb2.ReconcileReport) -> None:
    print(f"{report.matched} lines match; {len(report.mismatches)} mismatches")
    for m in report.mismatches:
        done = f" resolved ({m.resolution}: {m.note})" if m.resolved else ""
        print(f"  #{m.id} {m.gateway} {m.date} {m.kind} {m.reference}: gateway {m.gateway_amount.display},"
              f" ledger {m.ledger_amount.display}{done}")  # fmt: skip
