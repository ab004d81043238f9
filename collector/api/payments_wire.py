"""Conversions of PaymentService: gateway orders, refunds and reconciliation mismatches to protobuf (the
rest of the collector's conversions are in collector/api/wire.py)."""

from __future__ import annotations

from collector.api.wire import money, timestamp
from collector.db import models
from protos.rentmeter.v1 import payments_pb2


def gateway_order_to_proto(order: models.GatewayOrder) -> payments_pb2.GatewayOrder:
    return payments_pb2.GatewayOrder(
        out_trade_no=order.out_trade_no, gateway=order.gateway, method=order.method, purpose=order.purpose,
        renter=order.renter_id, invoice_id=order.invoice_id or "",
        amount=money(order.amount_minor, order.currency),
        state=order.state, pay_url=order.pay_url, trade_no=order.trade_no,
        refunded=money(order.refunded_minor, order.currency), created_at=timestamp(order.created_at),
        expires_at=timestamp(order.expires_at), paid_at=timestamp(order.paid_at),
    )  # fmt: skip


def gateway_refund_to_proto(
    refund: models.GatewayRefund, order: models.GatewayOrder
) -> payments_pb2.GatewayRefund:
    return payments_pb2.GatewayRefund(
        out_refund_no=refund.out_refund_no, out_trade_no=order.out_trade_no,
        amount=money(refund.amount_minor, order.currency), state=refund.state,
        credit_note_id=refund.credit_note_id or "",
    )  # fmt: skip


def mismatch_to_proto(row: models.PaymentMismatch) -> payments_pb2.Mismatch:
    return payments_pb2.Mismatch(
        id=row.id, gateway=row.gateway, date=row.statement_date, kind=row.kind, reference=row.reference,
        trade_no=row.trade_no, gateway_amount=money(row.gateway_minor, row.currency),
        ledger_amount=money(row.ledger_minor, row.currency), resolved=row.resolved_at is not None,
        resolution=row.resolution, note=row.note, resolved_by=row.resolved_by,
    )  # fmt: skip


def agreement_to_proto(row: models.PaymentAgreement) -> payments_pb2.PaymentAgreement:
    return payments_pb2.PaymentAgreement(
        id=row.id, gateway=row.gateway, renter=row.renter_id, external_no=row.external_no,
        agreement_no=row.agreement_no, state=row.state,
        sign_url=row.sign_url if row.state == "signing" else "",
        created_at=timestamp(row.created_at), signed_at=timestamp(row.signed_at),
        cancelled_at=timestamp(row.cancelled_at),
    )  # fmt: skip


def reconciliation_to_proto(row: models.ReconciliationRun) -> payments_pb2.Reconciliation:
    return payments_pb2.Reconciliation(gateway=row.gateway, date=row.statement_date, matched=row.matched,
                                       mismatches=row.mismatches, ran_at=timestamp(row.ran_at))  # fmt: skip
