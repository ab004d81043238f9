"""Password resets by e-mail: a one-time token (stored as its SHA-256 hash) valid for RESET_TTL, and the
text of the e-mail that carries its link.

A reset is asked for by name or e-mail address and always answered the same, so it reveals no account. An
account gets at most MAX_RESETS_PER_HOUR reset e-mails an hour (no mail bombing through it); a disabled
account or one without an e-mail address gets none. Using a token sets the new password, revokes the
account's sign-in tokens and spends every other open token of the account.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from collector.accounts.tokens import hash_token
from collector.core.errors import PermissionDenied
from collector.db.models import Account, PasswordReset

logger = logging.getLogger(__name__)

RESET_TTL = timedelta(hours=1)
MAX_RESETS_PER_HOUR = 3
RESET_PREFIX = "rmr_"
BAD_TOKEN = "the reset token is unknown, used or expired: ask for a new one"


def create_reset(db: Session, account: Account, now: datetime) -> str | None:
    """A new reset token for the account (shown once); None when the account may not get one now
    (disabled, no e-mail address, or MAX_RESETS_PER_HOUR reached)."""
    if account.disabled or not account.email:
        why = "the account is disabled" if account.disabled else "it has no e-mail address"
        logger.info("password reset for %s not sent: %s", account.name, why)
        return None
    recent = db.scalar(
        select(func.count()).select_from(PasswordReset)
        .where(PasswordReset.account_id == account.id, PasswordReset.created_at > now - timedelta(hours=1))
    )  # fmt: skip
    if (recent or 0) >= MAX_RESETS_PER_HOUR:
        logger.warning("password reset for %s not sent: %d already in the last hour", account.name, recent)
        return None
    token = RESET_PREFIX + secrets.token_urlsafe(32)
    db.add(PasswordReset(token_hash=hash_token(token), account_id=account.id, created_at=now,
                         expires_at=now + RESET_TTL))  # fmt: skip
    logger.info(
        "password reset token made for %s, valid until %s", account.name, (now + RESET_TTL).isoformat()
    )
    return token


def reset_account(db: Session, token: str, now: datetime) -> Account:
    """The account whose valid reset token this is (the token is not spent); PermissionDenied for a token
    unknown, used, expired or of a disabled account."""
    row = db.scalar(select(PasswordReset).where(PasswordReset.token_hash == hash_token(token.strip()))
                    .with_for_update())  # fmt: skip
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise PermissionDenied(BAD_TOKEN)
    account = db.get_one(Account, row.account_id, with_for_update=True)
    if account.disabled:
        raise PermissionDenied(BAD_TOKEN)
    return account


def consume_reset(db: Session, token: str, now: datetime) -> Account:
    """Like reset_account(), and the token is spent with every other open one of the account."""
    account = reset_account(db, token, now)
    db.execute(
        update(PasswordReset).where(PasswordReset.account_id == account.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )  # fmt: skip
    return account


def reset_email(account: Account, token: str | None, portal_url: str) -> tuple[str, str]:
    """Subject and text of the reset e-mail: the link, or (no portal address configured, so no link) where
    to turn instead."""
    greeting = f"Hello {account.display_name or account.name},\n\n"
    asked = f"Someone asked to reset the password of the rentmeter account '{account.name}'.\n\n"
    if token and portal_url:
        minutes = int(RESET_TTL.total_seconds() // 60)
        link = f"{portal_url.rstrip('/')}/reset?token={token}"
        action = f"To choose a new password, open this link within {minutes} minutes (once):\n\n{link}\n\n"
    else:
        action = ("This service has no web portal address configured, so no reset link can be sent: ask "
                  "your provider, who can set a new password for you.\n\n")  # fmt: skip
    closing = "If you did not ask for this, ignore this e-mail: your password stays as it is.\n"
    return "Reset your rentmeter password", greeting + asked + action + closing
