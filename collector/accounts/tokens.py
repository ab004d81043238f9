"""API tokens: bearer tokens with a role (admin, host, renter), shown once and stored as SHA-256 hashes.

They are 256-bit random, so a plain hash is enough (no slow password hash is needed). A sign-in token
(made by AccountService.Login) is an API token that names its account and expires; it is refused once
expired, revoked (sign-out, a new password) or when its account is disabled.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from collector.core.errors import InvalidArgument, NotFound, Unauthenticated
from collector.db.models import Account, ApiToken

logger = logging.getLogger(__name__)

ADMIN, HOST, RENTER = "admin", "host", "renter"
ROLES = (ADMIN, HOST, RENTER)
# API tokens only (no accounts): the portal's token for handing over payment gateways' notifications, which
# may call PaymentService.ApplyNotification and nothing else.
GATEWAY = "gateway"
TOKEN_ROLES = (*ROLES, GATEWAY)
TOKEN_PREFIX = "rmk_"
UNKNOWN_TOKEN = "a valid API token is required: authorization: Bearer rmk_..."
ENDED = "this sign-in has ended (signed out, or the password was changed): sign in again"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(db: Session, role: str, subject: str, label: str, now: datetime) -> str:
    """A new bearer token (returned once; only its hash is kept)."""
    return issue_api_token(db, role, subject, label, now)[0]


def issue_api_token(
    db: Session,
    role: str,
    subject: str,
    label: str,
    now: datetime,
    *,
    account_id: int | None = None,
    expires_at: datetime | None = None,
) -> tuple[str, ApiToken]:
    """A new bearer token and the row just stored for it (never another caller's newer row); a sign-in
    token names its account and when it expires."""
    if role not in TOKEN_ROLES or (role == GATEWAY and account_id is not None):
        raise InvalidArgument(f"role must be one of {', '.join(TOKEN_ROLES)}, not {role!r}")
    subject = subject.strip()
    if role not in (ADMIN, GATEWAY) and not subject:
        raise InvalidArgument(f"a {role} token names its {role} account (subject)")
    if len(subject) > 100 or len(label) > 200:
        raise InvalidArgument("subject is at most 100 characters, label 200")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    subject = "" if role in (ADMIN, GATEWAY) else subject
    row = ApiToken(token_hash=hash_token(token), role=role, subject=subject,
                   label=label, created_at=now, account_id=account_id, expires_at=expires_at)  # fmt: skip
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
    """The API tokens made by an admin (sign-in tokens are not listed: they come and go with sign-ins)."""
    return list(db.scalars(select(ApiToken).where(ApiToken.account_id.is_(None)).order_by(ApiToken.id)))


@dataclass(frozen=True)
class Holder:
    """Who a valid token speaks for: its role and subject; for a sign-in token its account's name and
    when it expires."""

    token_id: int
    role: str
    subject: str
    account: str = ""
    expires_at: datetime | None = None


def token_holder(db: Session, token_hash: str, now: datetime) -> Holder:
    """The holder of the token with this hash; Unauthenticated, with the reason, when it is unknown,
    revoked or expired, or its account is disabled."""
    found = db.execute(
        select(ApiToken, Account).outerjoin(Account, ApiToken.account_id == Account.id)
        .where(ApiToken.token_hash == token_hash)
    ).first()  # fmt: skip
    if found is None:
        raise Unauthenticated(UNKNOWN_TOKEN)
    row, account = found
    if account is not None and account.disabled:
        raise Unauthenticated(f"the account {account.name!r} is disabled")
    if row.revoked_at is not None:
        raise Unauthenticated(ENDED if account is not None else UNKNOWN_TOKEN)
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthenticated(f"the sign-in expired at {row.expires_at.isoformat()}: sign in again")
    return Holder(row.id, row.role, row.subject, account.name if account else "", row.expires_at)


def revoke_sign_ins(db: Session, account_id: int, now: datetime) -> int:
    """Revoke every sign-in token of the account (a new password, a reset); how many were valid."""
    result = db.execute(
        update(ApiToken).where(ApiToken.account_id == account_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )  # fmt: skip
    return int(result.rowcount)  # type: ignore[attr-defined]  # a CursorResult for an UPDATE


def purge_expired_sign_ins(db: Session, before: datetime) -> int:
    """Delete sign-in tokens that expired before `before` (each sign-in adds one)."""
    result = db.execute(
        delete(ApiToken).where(ApiToken.account_id.is_not(None), ApiToken.expires_at < before)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]  # a CursorResult for a DELETE
