"""Where an invoice stands for the renter: paid, open, or overdue (its card was declined at every attempt
of the dunning schedule). The collector keeps no due date: an invoice is due when issued; a renter paying
by card is charged then and, after a decline, at the next attempt (`next_collection_at`)."""

from __future__ import annotations

from protos.rentmeter.v1 import invoices_pb2

PAID, OPEN, OVERDUE = "paid", "open", "overdue"


def invoice_status(invoice: invoices_pb2.Invoice) -> str:
    if invoice.HasField("paid_at"):
        return PAID
    if invoice.collection_attempts and not invoice.HasField("next_collection_at"):
        return OVERDUE  # every attempt failed and none is left
    return OPEN


def newest_first(invoices: list[invoices_pb2.Invoice]) -> list[invoices_pb2.Invoice]:
    return sorted(invoices, key=lambda i: (i.issued_at.ToNanoseconds(), i.number), reverse=True)
