"""Retention of raw measurements: samples and signed reports older than `raw_retention` are deleted once
every renter's usage up to then is invoiced; invoices, their lines, the ledger and the audit log stay.

Deleting old reports is safe for deduplication: a machine's sequence watermark refuses any report at or
below its last stored sequence, whether or not that report is still kept.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from collector.core.clock import to_us
from collector.db.models import GpuSample, Renter, Report, Sample

logger = logging.getLogger(__name__)


def purge_raw_data(db: Session, now: datetime, retention: timedelta) -> int:
    """Delete samples and reports that ended before now - retention and before every renter's invoiced
    mark (so nothing not yet invoiced is lost); return how many rows were deleted."""
    horizon = now - retention
    invoiced = db.scalar(select(func.min(Renter.invoiced_until)))
    if invoiced is not None:
        horizon = min(horizon, invoiced)
    cutoff = to_us(horizon)
    deleted = 0
    for table in (Sample, GpuSample, Report):
        deleted += db.execute(delete(table).where(table.end_us < cutoff)).rowcount or 0  # type: ignore[attr-defined]
    if deleted:
        logger.info("deleted %d raw rows that ended before %s", deleted, horizon.isoformat())
    return deleted
