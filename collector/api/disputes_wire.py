"""DisputeService's conversions between the database's disputes and protobuf."""

from __future__ import annotations

from sqlalchemy.orm import Session

from collector.api.wire import money, timestamp
from collector.db.models import CreditNote, Dispute, Invoice, InvoiceLine
from protos.rentmeter.v1 import disputes_pb2


def dispute_to_proto(db: Session, dispute: Dispute, *, with_evidence: bool = False) -> disputes_pb2.Dispute:
    invoice = db.get_one(Invoice, dispute.invoice_id)
    line = db.get_one(InvoiceLine, dispute.line_id)
    note = db.get(CreditNote, dispute.credit_note_id) if dispute.credit_note_id else None
    return disputes_pb2.Dispute(
        dispute_id=dispute.id,
        invoice_id=invoice.id,
        invoice_number=invoice.number,
        line=line.position,
        renter=dispute.renter_id,
        reason=dispute.reason,
        status=dispute.status,
        opened_at=timestamp(dispute.opened_at),
        line_description=line.description,
        line_amount=money(line.amount_minor, invoice.currency),
        rerated=money(dispute.rerated_minor, invoice.currency),
        report_count=dispute.report_count,
        resolved_at=timestamp(dispute.resolved_at),
        resolution=dispute.resolution,
        credit_note_number=note.number if note else "",
        evidence=dispute.evidence.encode() if with_evidence else b"",
        evidence_filename=f"{dispute.id}-evidence.json",
    )
