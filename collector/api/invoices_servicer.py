"""InvoiceService: invoices, their documents, payments (and their lists), credit notes (and their lists)
and closing periods."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from collector.api import authorization, wire
from collector.api.ownership import own_invoice
from collector.api.status import Ctx, Servicer, maps_errors
from collector.core.errors import FailedPrecondition, InvalidArgument, NotFound
from collector.db.database import Database
from collector.db.isolation import JobRun, current_failures
from collector.db.models import Invoice
from collector.delivery.documents import render_invoice
from collector.invoicing.credit_notes import credit_invoice, list_credit_notes
from collector.invoicing.invoices import INVOICING_JOB, close_invoices, get_invoice, list_invoices
from collector.payments.attempts import list_payments
from collector.payments.collection import mark_paid
from collector.payments.gateways.base import Gateway
from collector.payments.gateways.refunds import refund_credit_note
from protos.rentmeter.v1 import (
    invoices_pb2,
    invoices_pb2_grpc,
)

logger = logging.getLogger(__name__)


class InvoiceService(Servicer, invoices_pb2_grpc.InvoiceServiceServicer):
    def __init__(
        self,
        database: Database,
        now: Callable[[], datetime],
        *,
        period: timedelta,
        grace: timedelta,
        prefix: str,
        gateways: Mapping[str, Gateway] | None = None,
    ) -> None:
        """`gateways`: a credit note on an invoice paid through one of them is refunded through it."""
        super().__init__(database, now)
        self._period, self._grace, self._prefix = period, grace, prefix
        self._gateways = gateways or {}

    @maps_errors
    async def PayInvoice(self, request: invoices_pb2.PayInvoiceRequest, context: Ctx) -> invoices_pb2.Invoice:
        def run(db: Session) -> invoices_pb2.Invoice:
            invoice_id = _known(db, request.invoice_id).id  # the id or the number
            return wire.invoice_to_proto(mark_paid(db, invoice_id, request.reference, self.now()))

        return await self.db.run(run)

    @maps_errors
    async def CreditInvoice(
        self, request: invoices_pb2.CreditInvoiceRequest, context: Ctx
    ) -> invoices_pb2.CreditNote:
        def run(db: Session) -> invoices_pb2.CreditNote:
            amount = None
            invoice = _known(db, request.invoice_id)  # the id or the number
            if request.amount.strip():
                amount = wire.money_from_text(request.amount, invoice.currency)
            note = credit_invoice(db, invoice.id, amount, request.reason, self.now())
            return wire.credit_note_to_proto(note)

        note = await self.db.run(run)
        try:
            await refund_credit_note(self.db, self._gateways, note.credit_note_id, self.now())
        except FailedPrecondition as exc:  # the note stands; PaymentService.RefundOrder can try again
            logger.warning("credit note %s: its refund through the gateway failed: %s", note.number, exc)
        return note

    @maps_errors
    async def ListCreditNotes(
        self, request: invoices_pb2.ListCreditNotesRequest, context: Ctx
    ) -> invoices_pb2.ListCreditNotesResponse:
        who = authorization.current()

        def run(db: Session) -> invoices_pb2.ListCreditNotesResponse:
            invoice, renter = _scope(db, who, request.invoice_id, request.renter)
            notes = list_credit_notes(db, invoice_id=invoice, renter_id=renter)
            return invoices_pb2.ListCreditNotesResponse(
                credit_notes=[wire.credit_note_to_proto(n) for n in notes]
            )

        return await self.db.run(run)

    @maps_errors
    async def ListPayments(
        self, request: invoices_pb2.ListPaymentsRequest, context: Ctx
    ) -> invoices_pb2.ListPaymentsResponse:
        who = authorization.current()

        def run(db: Session) -> invoices_pb2.ListPaymentsResponse:
            invoice, renter = _scope(db, who, request.invoice_id, request.renter)
            found = list_payments(db, invoice_id=invoice, renter_id=renter, failed_only=request.failed_only)
            return invoices_pb2.ListPaymentsResponse(payments=[wire.payment_to_proto(p, n) for p, n in found])

        return await self.db.run(run)

    @maps_errors
    async def RenderInvoice(
        self, request: invoices_pb2.RenderInvoiceRequest, context: Ctx
    ) -> invoices_pb2.InvoiceDocument:
        who = authorization.current()

        def run(db: Session) -> invoices_pb2.InvoiceDocument:
            invoice = own_invoice(db, request.invoice_id, who)
            document = render_invoice(invoice, request.format.lower() or "pdf")
            return invoices_pb2.InvoiceDocument(
                filename=document.filename, content_type=document.content_type, content=document.content
            )

        return await self.db.run(run)

    @maps_errors
    async def ListInvoices(
        self, request: invoices_pb2.ListInvoicesRequest, context: Ctx
    ) -> invoices_pb2.ListInvoicesResponse:
        who = authorization.current()
        renter = who.subject if who.role == authorization.RENTER else request.renter
        return await self.db.run(
            lambda db: invoices_pb2.ListInvoicesResponse(
                invoices=[wire.invoice_to_proto(i) for i in list_invoices(db, renter)]
            )
        )

    @maps_errors
    async def GetInvoice(self, request: invoices_pb2.GetInvoiceRequest, context: Ctx) -> invoices_pb2.Invoice:
        who = authorization.current()

        def run(db: Session) -> invoices_pb2.Invoice:
            return wire.invoice_to_proto(own_invoice(db, request.invoice_id, who))

        return await self.db.run(run)

    @maps_errors
    async def CloseInvoices(
        self, request: invoices_pb2.CloseInvoicesRequest, context: Ctx
    ) -> invoices_pb2.CloseInvoicesResponse:
        now = self.now()
        until = wire.moment(request.until) if request.HasField("until") else now
        if until > now:
            raise InvalidArgument("until must not be in the future")

        def run(db: Session) -> invoices_pb2.CloseInvoicesResponse:
            job = JobRun(db, INVOICING_JOB, now, retry_now=True)  # an admin asks: retry failed renters too
            invoices = close_invoices(
                db,
                now,
                period=self._period,
                grace=self._grace,
                renter_id=request.renter,
                invoice_now=request.invoice_now,
                until=until,
                prefix=self._prefix,
                run=job,
            )
            failed = set(job.outcome.failed)
            return invoices_pb2.CloseInvoicesResponse(
                invoices=[wire.invoice_to_proto(i) for i in invoices],
                failures=[wire.job_failure_to_proto(f) for f in current_failures(db, INVOICING_JOB)
                          if f.subject in failed],
            )  # fmt: skip

        return await self.db.run(run)


def _scope(db: Session, who: authorization.Principal, invoice_ref: str, renter: str) -> tuple[str, str]:
    """(invoice id, renter) a list is filtered by: a renter's own only, whatever it asks for; an invoice
    given by its id or number, NotFound when the caller may not see it."""
    if who.role == authorization.RENTER:
        renter = who.subject
    invoice_id = own_invoice(db, invoice_ref, who).id if invoice_ref else ""
    return invoice_id, renter


def _known(db: Session, reference: str) -> Invoice:
    """The invoice with this id or number; NotFound otherwise."""
    invoice = get_invoice(db, reference)
    if invoice is None:
        raise NotFound("invoice", reference)
    return invoice
