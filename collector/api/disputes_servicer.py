"""DisputeService: renters dispute invoice lines with their evidence; the provider resolves them."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from collector.api import authorization, wire
from collector.api.disputes_wire import dispute_to_proto
from collector.api.evidence_wire import READING
from collector.api.ownership import own_invoice
from collector.api.status import Ctx, Servicer, maps_errors
from collector.core.errors import FailedPrecondition
from collector.db.database import Database
from collector.db.models import Invoice
from collector.invoicing.disputes import get_dispute, list_disputes, open_dispute, resolve_dispute
from collector.payments.gateways.base import Gateway
from collector.payments.gateways.refunds import refund_credit_note
from protos.rentmeter.v1 import disputes_pb2, disputes_pb2_grpc

logger = logging.getLogger(__name__)


class DisputeService(Servicer, disputes_pb2_grpc.DisputeServiceServicer):
    def __init__(
        self, database: Database, now: Callable[[], datetime], gateways: Mapping[str, Gateway] | None = None
    ) -> None:
        """`gateways`: a credit on an invoice paid through one of them is refunded through it."""
        super().__init__(database, now)
        self._gateways = gateways or {}

    @maps_errors
    async def OpenDispute(
        self, request: disputes_pb2.OpenDisputeRequest, context: Ctx
    ) -> disputes_pb2.Dispute:
        who = authorization.current()

        def run(db: Session) -> disputes_pb2.Dispute:
            invoice = own_invoice(db, request.invoice_id, who)
            dispute = open_dispute(
                db, invoice.id, request.line, request.reason, who.actor, self.now(), READING
            )
            db.flush()
            return dispute_to_proto(db, dispute)

        return await self.db.run(run)

    @maps_errors
    async def ListDisputes(
        self, request: disputes_pb2.ListDisputesRequest, context: Ctx
    ) -> disputes_pb2.ListDisputesResponse:
        who = authorization.current()
        renter = who.renter_scope(request.renter) if (request.renter or not who.is_admin) else ""

        def run(db: Session) -> disputes_pb2.ListDisputesResponse:
            found = list_disputes(db, renter)
            return disputes_pb2.ListDisputesResponse(disputes=[dispute_to_proto(db, d) for d in found])

        return await self.db.run(run)

    @maps_errors
    async def GetDispute(self, request: disputes_pb2.GetDisputeRequest, context: Ctx) -> disputes_pb2.Dispute:
        who = authorization.current()

        def run(db: Session) -> disputes_pb2.Dispute:
            dispute = get_dispute(db, request.dispute_id)
            authorization.hide_unless(who.may_see_renter(dispute.renter_id), "dispute", request.dispute_id)
            return dispute_to_proto(db, dispute, with_evidence=request.with_evidence)

        return await self.db.run(run)

    @maps_errors
    async def ResolveDispute(
        self, request: disputes_pb2.ResolveDisputeRequest, context: Ctx
    ) -> disputes_pb2.Dispute:
        who = authorization.current()

        def run(db: Session) -> tuple[disputes_pb2.Dispute, str]:
            dispute = get_dispute(db, request.dispute_id)
            amount = None
            if request.amount.strip():
                currency = db.get_one(Invoice, dispute.invoice_id).currency
                amount = wire.money_from_text(request.amount, currency)
            resolved = resolve_dispute(db, dispute.id, request.decision, amount, request.reason, who.actor,
                                       self.now())  # fmt: skip
            db.flush()
            return dispute_to_proto(db, resolved), resolved.credit_note_id or ""

        answer, note_id = await self.db.run(run)
        if note_id:
            try:
                await refund_credit_note(self.db, self._gateways, note_id, self.now())
            except FailedPrecondition as exc:  # the note stands; PaymentService.RefundOrder can try again
                logger.warning(
                    "dispute %s: its refund through the gateway failed: %s", answer.dispute_id, exc
                )
        return answer
