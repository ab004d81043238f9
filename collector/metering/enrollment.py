"""Enrollment tokens (one-time, expiring, stored hashed) and agent registration."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.core.errors import InvalidArgument, PermissionDenied
from collector.db.models import EnrollmentToken, Machine

logger = logging.getLogger(__name__)

DEFAULT_TOKEN_TTL = timedelta(hours=24)
MAX_TOKEN_TTL = timedelta(days=30)
TOKEN_PREFIX = "rmt_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    db: Session, *, machine_class: str, ttl: timedelta, label: str, now: datetime, host_id: str = ""
) -> tuple[str, datetime]:
    """Create a one-time token for enrolling one machine of `machine_class` for the host account
    `host_id` ("" = the provider's own); return it and its expiry."""
    machine_class = machine_class.strip()
    if not machine_class or len(machine_class) > 64:
        raise InvalidArgument("machine_class must be 1 to 64 characters")
    if ttl <= timedelta(0) or ttl > MAX_TOKEN_TTL:
        raise InvalidArgument(f"ttl must be positive and at most {MAX_TOKEN_TTL.days} days")
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    expires_at = now + ttl
    db.add(
        EnrollmentToken(
            token_hash=hash_token(token),
            machine_class=machine_class,
            label=label[:200],
            created_at=now,
            expires_at=expires_at,
            host_id=host_id,
        )
    )
    logger.info("enrollment token created for class %s, expires %s", machine_class, expires_at)
    return token, expires_at


def enroll(db: Session, *, token: str, public_key: bytes, facts: dict[str, Any], now: datetime) -> Machine:
    """Register a machine's agent key, consuming `token`. Raises PermissionDenied for a bad token."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key)
    except ValueError:
        raise InvalidArgument("public_key must be a raw 32-byte Ed25519 public key") from None
    row = db.scalars(
        select(EnrollmentToken).where(EnrollmentToken.token_hash == hash_token(token)).with_for_update()
    ).one_or_none()
    if row is None:
        raise PermissionDenied("enrollment token is not valid")
    if row.used_at is not None:
        raise PermissionDenied("enrollment token was already used")
    if row.expires_at <= now:
        raise PermissionDenied("enrollment token has expired")
    machine = Machine(
        agent_id="m-" + secrets.token_hex(8),
        public_key=public_key,
        machine_class=row.machine_class,
        label=row.label,
        facts=facts,
        enrolled_at=now,
        last_sequence=0,
        host_id=row.host_id,
    )
    row.used_at = now
    row.agent_id = machine.agent_id
    db.add(machine)
    logger.info(
        "agent %s enrolled as class %s (%s)", machine.agent_id, machine.machine_class, facts.get("hostname")
    )
    return machine
