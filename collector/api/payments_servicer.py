"""PaymentService: gateway orders (QR codes, payment links), the gateways' notifications handed over by
the portal, refunds, withdrawals and reconciliation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from collector.api import authorization, payments_wire, wire
from collector.api.status import Ctx, Servicer, maps_errors
from collector.core.errors import InvalidArgument
from collector.db.database import Database
from collector.db.models import GatewayOrder, GatewayRefund
from collector.payments.gateways import agreements, orders, reconcile, refunds
from collector.payments.gateways.base import Gateway, Reply
from collector.payments.gateways.checkout import open_order
from collector.payments.gateways.notifications import apply_notification
from collector.payments.webhooks import handle_stripe_event
from protos.rentmeter.v1 import payments_pb2, payments_pb2_grpc

MAX_NOTIFICATION_BYTES = 64 * 1024


def _order_visible(
    db: Session, out_trade_no: str, caller: authorization.Principal
) -> payments_pb2.GatewayOrder:
    order = orders.get_order(db, out_trade_no)
    authorization.hide_unless(caller.may_see_renter(order.renter_id), "gateway order", out_trade_no)
    return payments_wire.gateway_order_to_proto(order)


def _refund_proto(db: Session, refund: GatewayRefund) -> payments_pb2.GatewayRefund:
    order = db.get(GatewayOrder, refund.order_id)
    assert order is not None
    return payments_wire.gateway_refund_to_proto(refund, order)


class PaymentService(Servicer, payments_pb2_grpc.PaymentServiceServicer):
    def __init__(
        self,
        database: Database,
        now: Callable[[], datetime],
        gateways: Mapping[str, Gateway],
        *,
        order_ttl: timedelta = timedelta(minutes=15),
        stripe_webhook_secret: str = "",
    ) -> None:
        super().__init__(database, now)
        self._gateways = gateways
        self._ttl = order_ttl
        self._stripe_secret = stripe_webhook_secret

    @maps_errors
    async def CreateOrder(
        self, request: payments_pb2.CreateOrderRequest, context: Ctx
    ) -> payments_pb2.GatewayOrder:
        caller = authorization.current()
        renter = request.renter.strip()
        authorization.hide_unless(caller.may_see_renter(renter) or (caller.is_admin and not renter), "renter",
                                  renter)  # fmt: skip
        amount = (
            None if request.invoice_id else wire.money_from_text(request.amount, request.currency or "CNY")
        )
        ask = orders.OrderAsk(request.gateway, request.method, renter, amount, request.idempotency_key,
                              request.invoice_id)  # fmt: skip
        order = await open_order(self.db, self._gateways, ask, self.now(), self._ttl, request.client_ip)
        return payments_wire.gateway_order_to_proto(order)

    @maps_errors
    async def GetOrder(
        self, request: payments_pb2.GetOrderRequest, context: Ctx
    ) -> payments_pb2.GatewayOrder:
        return await self.db.run(_order_visible, request.out_trade_no, authorization.current())

    @maps_errors
    async def ListOrders(
        self, request: payments_pb2.ListOrdersRequest, context: Ctx
    ) -> payments_pb2.ListOrdersResponse:
        caller = authorization.current()
        renter = request.renter if caller.is_admin else caller.subject

        def run(db: Session) -> payments_pb2.ListOrdersResponse:
            found = orders.list_orders(db, renter_id=renter, state=request.state)
            return payments_pb2.ListOrdersResponse(
                orders=[payments_wire.gateway_order_to_proto(o) for o in found]
            )

        return await self.db.run(run)

    @maps_errors
    async def ApplyNotification(
        self, request: payments_pb2.Notification, context: Ctx
    ) -> payments_pb2.NotificationReply:
        if len(request.body) > MAX_NOTIFICATION_BYTES:
            raise InvalidArgument(f"a notification is at most {MAX_NOTIFICATION_BYTES} bytes")
        headers = {header.name.lower(): header.value for header in request.headers}
        if request.gateway == "stripe" and not self._stripe_secret:
            reply = Reply(404, "text/plain", b"stripe webhooks are not configured")  # never verify with ""
        elif request.gateway == "stripe":
            signature, loop = headers.get("stripe-signature", ""), asyncio.get_running_loop()
            status = await loop.run_in_executor(None, handle_stripe_event, self.db, request.body, signature,
                                                self._stripe_secret, self.now())  # fmt: skip
            reply = Reply(status, "text/plain", b"")
        else:
            reply = await apply_notification(self.db, self._gateways, request.gateway, headers, request.body,
                                             self.now())  # fmt: skip
        return payments_pb2.NotificationReply(http_status=reply.status, content_type=reply.content_type,
                                              body=reply.body)  # fmt: skip

    @maps_errors
    async def RefundOrder(
        self, request: payments_pb2.RefundOrderRequest, context: Ctx
    ) -> payments_pb2.GatewayRefund:
        minor = wire.money_from_text(request.amount, "CNY").minor if request.amount else None
        refund = await refunds.refund_order(self.db, self._gateways, request.out_trade_no, minor,
                                            request.reason or "refund", self.now())  # fmt: skip
        return await self.db.run(_refund_proto, refund)

    @maps_errors
    async def WithdrawWallet(
        self, request: payments_pb2.WithdrawWalletRequest, context: Ctx
    ) -> payments_pb2.WithdrawWalletResponse:
        amount = wire.money_from_text(request.amount, request.currency or "CNY")
        if amount.currency != "CNY":
            raise InvalidArgument("withdrawals through Alipay and WeChat Pay are in CNY")
        done = await refunds.withdraw(self.db, self._gateways, request.renter, amount.minor,
                                      request.reason or "withdrawal", self.now())  # fmt: skip

        def run(db: Session) -> payments_pb2.WithdrawWalletResponse:
            return payments_pb2.WithdrawWalletResponse(refunds=[_refund_proto(db, r) for r in done])

        return await self.db.run(run)

    @maps_errors
    async def Reconcile(
        self, request: payments_pb2.ReconcileRequest, context: Ctx
    ) -> payments_pb2.ReconcileReport:
        try:
            day = date.fromisoformat(request.date)
        except ValueError:
            raise InvalidArgument(f"date: {request.date!r} is not YYYY-MM-DD") from None
        matched, found = await reconcile.reconcile(self.db, self._gateways, request.gateway, day,
                                                   request.statement or None, self.now())  # fmt: skip
        return payments_pb2.ReconcileReport(
            matched=matched, mismatches=[payments_wire.mismatch_to_proto(m) for m in found]
        )

    @maps_errors
    async def ListMismatches(
        self, request: payments_pb2.ListMismatchesRequest, context: Ctx
    ) -> payments_pb2.ReconcileReport:
        def run(db: Session) -> payments_pb2.ReconcileReport:
            found = reconcile.list_mismatches(db, unresolved_only=not request.all)
            return payments_pb2.ReconcileReport(
                mismatches=[payments_wire.mismatch_to_proto(m) for m in found]
            )

        return await self.db.run(run)

    @maps_errors
    async def ResolveMismatch(
        self, request: payments_pb2.ResolveMismatchRequest, context: Ctx
    ) -> payments_pb2.Mismatch:
        actor = authorization.current().actor

        def run(db: Session) -> payments_pb2.Mismatch:
            row = reconcile.resolve(db, request.id, request.action, request.note, actor, self.now())
            return payments_wire.mismatch_to_proto(row)

        return await self.db.run(run)

    @maps_errors
    async def ListGateways(
        self, request: payments_pb2.ListGatewaysRequest, context: Ctx
    ) -> payments_pb2.ListGatewaysResponse:
        signed = agreements.agreement_gateways(self._gateways)
        return payments_pb2.ListGatewaysResponse(gateways=sorted(self._gateways), agreement_gateways=signed)

    @maps_errors
    async def StartAgreement(
        self, request: payments_pb2.StartAgreementRequest, context: Ctx
    ) -> payments_pb2.PaymentAgreement:
        caller = authorization.current()
        renter = request.renter.strip() or caller.subject
        authorization.hide_unless(caller.may_see_renter(renter), "renter", renter)
        row = await agreements.start_signing(self.db, self._gateways, request.gateway, renter, self.now(),
                                             request.client_ip)  # fmt: skip
        return payments_wire.agreement_to_proto(row)

    @maps_errors
    async def ListAgreements(
        self, request: payments_pb2.ListAgreementsRequest, context: Ctx
    ) -> payments_pb2.ListAgreementsResponse:
        caller = authorization.current()
        renter = request.renter if caller.is_admin else caller.subject

        def run(db: Session) -> payments_pb2.ListAgreementsResponse:
            found = agreements.list_agreements(db, renter)
            return payments_pb2.ListAgreementsResponse(
                agreements=[payments_wire.agreement_to_proto(a) for a in found]
            )

        return await self.db.run(run)

    @maps_errors
    async def CancelAgreement(
        self, request: payments_pb2.CancelAgreementRequest, context: Ctx
    ) -> payments_pb2.PaymentAgreement:
        caller = authorization.current()
        own = "" if caller.is_admin else caller.subject
        row = await agreements.cancel(self.db, self._gateways, request.id, own, self.now())
        return payments_wire.agreement_to_proto(row)

    @maps_errors
    async def ListReconciliations(
        self, request: payments_pb2.ListReconciliationsRequest, context: Ctx
    ) -> payments_pb2.ListReconciliationsResponse:
        def run(db: Session) -> payments_pb2.ListReconciliationsResponse:
            found = reconcile.list_runs(db)
            return payments_pb2.ListReconciliationsResponse(
                runs=[payments_wire.reconciliation_to_proto(r) for r in found]
            )

        return await self.db.run(run)
