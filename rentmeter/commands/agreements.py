"""`rentmeter payments agreement sign|list|cancel`: a renter's agreement for Alipay (agreement pay) or
WeChat Pay (entrusted deduction) to take its invoices; signing prints the page's link and its QR code."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from rentmeter.commands.remote import remote_options, show, with_client

if TYPE_CHECKING:
    from protos.rentmeter.v1 import payments_pb2
    from rentmeter.client import AdminClient


def add_parsers(actions: Any) -> None:
    """`agreement` and its actions under `payments`."""
    agreement = actions.add_parser("agreement", help="agreements for invoices to be taken automatically")
    verbs = agreement.add_subparsers(dest="agreement_action", required=True)
    sign = verbs.add_parser("sign", parents=[remote_options(prints=True)], help="start signing (link, QR)")
    sign.add_argument("renter")
    sign.add_argument("--gateway", choices=["alipay", "wechatpay"], required=True)
    sign.set_defaults(handler=agreement_sign)
    listed = verbs.add_parser("list", parents=[remote_options(prints=True)], help="agreements, newest first")
    listed.add_argument("--renter", default="")
    listed.set_defaults(handler=agreement_list)
    cancel = verbs.add_parser("cancel", parents=[remote_options(prints=True)], help="end an agreement")
    cancel.add_argument("id", type=int)
    cancel.set_defaults(handler=agreement_cancel)


@with_client
def agreement_sign(client: AdminClient, args: argparse.Namespace) -> int:
    from protos.rentmeter.v1 import payments_pb2
    from rentmeter.commands.payments import terminal_qr

    request = payments_pb2.StartAgreementRequest(renter=args.renter, gateway=args.gateway)
    agreement = client.payments.StartAgreement(request, timeout=60)

    def render() -> None:
        render_agreement(agreement)
        print(terminal_qr(agreement.sign_url), end="")
        print(agreement.sign_url)

    show(args, agreement, render)
    return 0


@with_client
def agreement_list(client: AdminClient, args: argparse.Namespace) -> int:
    from protos.rentmeter.v1 import payments_pb2

    answer = client.payments.ListAgreements(payments_pb2.ListAgreementsRequest(renter=args.renter))

    def render() -> None:
        for agreement in answer.agreements:
            render_agreement(agreement)

    show(args, answer, render)
    return 0


@with_client
def agreement_cancel(client: AdminClient, args: argparse.Namespace) -> int:
    from protos.rentmeter.v1 import payments_pb2

    agreement = client.payments.CancelAgreement(payments_pb2.CancelAgreementRequest(id=args.id), timeout=60)
    show(args, agreement, lambda: render_agreement(agreement))
    return 0


def render_agreement(agreement: payments_pb2.PaymentAgreement) -> None:
    number = f", {agreement.agreement_no}" if agreement.agreement_no else ""
    print(f"{agreement.id}: {agreement.renter} by {agreement.gateway} ({agreement.external_no}{number}), "
          f"{agreement.state}")  # fmt: skip
