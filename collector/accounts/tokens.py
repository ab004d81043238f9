"""API tokens: bearer tokens with a role (admin, host, renter), shown once and stored as SHA-256 hashes.

They are 256-bit random, so a plain hash is enough (no slow password hash is needed).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.core.errors import InvalidArgument, NotFound
from collector.db.models import ApiToken

logger = logging.getLogger(__name__)

ADMIN, HOST, RENTER = "admin", "host", "renter"
ROLES = (ADMIN, HOST, RENTER)
TOKEN_PREFIX = "rmk_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(db: Session, role: str, subject: str, label: str, now: datetime) -> str:
    """A new bearer token (returned once; only its hash is kept)."""
    return issue_api_token(db, role, subject, label, now)[0]


def issue_api_token(db: Session, role: str, subject: str, label: str, now: datetime) -> tuple[str, ApiToken]:
    """A new bearer token and the row just stored for it (never another caller's newer row)."""
    if role not in ROLES:
        raise InvalidArgument(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    subject = subject.strip()
    if role != ADMIN and not subject:
        raise InvalidArgument(f"a {role} token names its {role} account (subject)")
    if len(subject) > 100 or len(label) > 200:
        raise InvalidArgument("subject is at most 100 characters, label 200")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(token_hash=hash_token(token), role=role, subject=subject if role != ADMIN else "",
                   label=label, created_at=now)  # fmt: skip
    db.add(row)
    db.flush()
    logger.info("API token %d created: role %s, subject %s, label %r", row.id, role, subject or "-", label)
    return token, row


def revoke_api_token(db: Session, token_id: int, now: datetime) -> ApiToken:
    row = db.get(ApiToken, token_id)
    if row is None:
        raise NotFound("API token", str(token_id))
    row.revoked_at = row.revoked_at or now
    return row


def list_api_tokens(db: Session) -> list[ApiToken]:
    return list(db.scalars(select(ApiToken).order_by(ApiToken.id)))


def token_holder(db: Session, token_hash: str) -> tuple[str, str] | None:
    """(role, subject) of a valid token with this hash; None when unknown or revoked."""
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))
    if row is None or row.revoked_at is not None:
        return None
    return row.role, row.subject
