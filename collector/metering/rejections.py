"""Reports the collector refused, kept in the database: the metrics count refusals per collector process
(and forget them at a restart), while every collector sharing the database, and the provider's alerts,
see these rows. Deleted with the raw data they are about (metering/retention.py)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.db.models import Machine, ReportRejection
from collector.metering.ingest import Ack, AckStatus

logger = logging.getLogger(__name__)

REFUSED = (AckStatus.REJECTED, AckStatus.CONFLICT, AckStatus.FORGED)
MAX_REASON = 200


def refused(acks: Sequence[Ack]) -> list[Ack]:
    """The acks that refuse their report."""
    return [ack for ack in acks if ack.status in REFUSED]


def record_rejections(db: Session, agent_id: str, acks: Sequence[Ack], now: datetime) -> int:
    """Keep the refused reports among `acks` of one agent; return how many were kept (none for an agent
    that is not enrolled: its reports are refused before they get this far, or raced its enrollment)."""
    rows = refused(acks)
    if not rows or db.scalar(select(Machine.agent_id).where(Machine.agent_id == agent_id)) is None:
        return 0
    db.add_all(
        ReportRejection(agent_id=agent_id, sequence=ack.sequence, status=ack.status.value,
                        kind=(ack.kind or "other")[:40], reason=ack.reason[:MAX_REASON], received_at=now)
        for ack in rows
    )  # fmt: skip
    return len(rows)
