"""Holes agents reported in their own reporting (stored by ingest): what an admin sees of a machine."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from collector.db.models import ReportGap

RECENT_GAPS = 20


def gaps_of(db: Session, agent_id: str, limit: int = RECENT_GAPS) -> tuple[int, list[ReportGap]]:
    """How many gaps the machine reported in all, and the latest `limit` of them, newest first."""
    count = db.scalar(select(func.count()).select_from(ReportGap).where(ReportGap.agent_id == agent_id))
    latest = db.scalars(
        select(ReportGap).where(ReportGap.agent_id == agent_id).order_by(ReportGap.id.desc()).limit(limit)
    )
    return int(count or 0), list(latest)


def gap_counts(db: Session) -> dict[str, int]:
    """Gaps reported per machine (machines without any are absent)."""
    query = select(ReportGap.agent_id, func.count()).group_by(ReportGap.agent_id)
    return {agent_id: int(count) for agent_id, count in db.execute(query)}
