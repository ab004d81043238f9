"""Signing in with a name and password: the lockout after failures, and the sign-in token.

Failed sign-ins are counted per name in the database (every collector on it sees them), for any name,
existing or not, so that a lock reveals nothing about which names exist. The LOCK_AFTER-th failure in a
row locks the name for FIRST_LOCK, each further failure for twice as long as the one before, at most
LONGEST_LOCK; while locked, sign-ins are refused without checking the password. A success forgets the
failures; so does a day without one. Checking the password itself happens outside these transactions
(api/accounts_servicer.py), between begin_login() and finish_login() or record_failure().
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from collector.accounts import audit
from collector.accounts.passwords import Verified
from collector.accounts.tokens import issue_api_token, purge_expired_sign_ins
from collector.core.errors import PermissionDenied, ResourceExhausted, Unauthenticated
from collector.db.models import Account, ApiToken, LoginThrottle

logger = logging.getLogger(__name__)

LOCK_AFTER = 5
FIRST_LOCK = timedelta(minutes=1)
LONGEST_LOCK = timedelta(hours=1)
FORGET_FAILURES_AFTER = timedelta(days=1)
# Expired sign-in tokens are deleted this long after they expire.
KEEP_EXPIRED_TOKENS = timedelta(days=1)
WRONG = "wrong name or password"


def lock_for(failures: int) -> timedelta | None:
    """How long the name is locked after `failures` failed sign-ins in a row (None: not locked)."""
    if failures < LOCK_AFTER:
        return None
    return min(FIRST_LOCK * 2 ** min(failures - LOCK_AFTER, 12), LONGEST_LOCK)


def locked_sentence(until: datetime) -> str:
    return f"too many failed sign-ins with this name: try again after {until:%Y-%m-%dT%H:%M:%SZ}"


@dataclass(frozen=True)
class Attempt:
    """What a sign-in checks the password against: the account's id and hash (None and "" when there is
    no such account)."""

    name: str
    account_id: int | None
    password_hash: str


def begin_login(db: Session, name: str, now: datetime) -> Attempt:
    """The account to check a password against; ResourceExhausted while the name is locked."""
    throttle = db.get(LoginThrottle, name)
    if throttle is not None and throttle.locked_until is not None and throttle.locked_until > now:
        raise ResourceExhausted(locked_sentence(throttle.locked_until))
    account = db.scalar(select(Account).where(Account.name == name))
    if account is None:
        return Attempt(name, None, "")
    return Attempt(name, account.id, account.password_hash)


def record_failure(db: Session, name: str, now: datetime) -> datetime | None:
    """Count a failed sign-in for `name` (atomically, with other collectors); lock the name from the
    LOCK_AFTER-th failure in a row. When it is now locked until."""
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    fresh = LoginThrottle.last_failure_at >= now - FORGET_FAILURES_AFTER
    statement = insert(LoginThrottle).values(name=name, failures=1, last_failure_at=now)
    db.execute(statement.on_conflict_do_update(
        index_elements=[LoginThrottle.name],
        set_={"failures": case((fresh, LoginThrottle.failures + 1), else_=1), "last_failure_at": now},
    ))  # fmt: skip
    throttle = db.get_one(LoginThrottle, name, populate_existing=True, with_for_update=True)
    db.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - FORGET_FAILURES_AFTER))
    lock = lock_for(throttle.failures)
    if lock is None:
        logger.info("failed sign-in for %s (%d in a row)", name, throttle.failures)
        return None
    throttle.locked_until = now + lock
    logger.warning("sign-in locked for %s until %s after %d failures in a row",
                   name, throttle.locked_until.isoformat(), throttle.failures)  # fmt: skip
    details = {"name": name, "failures": throttle.failures, "until": throttle.locked_until.isoformat()}
    audit.record(db, "collector", "account:locked", details, now)
    return throttle.locked_until


def finish_login(
    db: Session, attempt: Attempt, verified: Verified, ttl: timedelta, now: datetime
) -> tuple[str, ApiToken, Account]:
    """After the password matched: a sign-in token valid for `ttl`, the account's failures forgotten and
    its hash upgraded if the parameters changed. PermissionDenied when the account is disabled."""
    account = db.get(Account, attempt.account_id, with_for_update=True) if attempt.account_id else None
    if account is None or account.password_hash != attempt.password_hash:
        raise Unauthenticated(WRONG)  # the password changed while it was being checked
    if account.disabled:
        raise PermissionDenied(f"the account {account.name!r} is disabled: ask the provider")
    db.execute(delete(LoginThrottle).where(LoginThrottle.name == account.name))
    if verified.new_hash:
        account.password_hash = verified.new_hash
        logger.info("account %s: password hash upgraded to the current parameters", account.name)
    account.last_login_at = now
    token, row = issue_api_token(db, account.role, account.subject, f"sign-in {account.name}", now,
                                 account_id=account.id, expires_at=now + ttl)  # fmt: skip
    purge_expired_sign_ins(db, now - KEEP_EXPIRED_TOKENS)
    details = {"name": account.name, "token_id": row.id, "expires_at": (now + ttl).isoformat()}
    audit.record(db, audit.actor(account.role, account.subject, account.name), "account:login", details, now)
    return token, row, account
