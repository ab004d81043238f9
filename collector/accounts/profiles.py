"""Accounts of people who sign in: their names, roles, subjects and profile (display name, e-mail address,
language, time zone), and their stored password hash.

Names are 3 to 64 ASCII letters, digits, '.', '_', '-' and '@', compared and kept in lower case, so
`Alice` and `alice` are one account. A renter account acts for the renter whose id is its subject (the
renter is created with the account if it is new); a host account for the host id its enrollment tokens
bind machines to; an admin account has no subject. The subject defaults to the name.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from collector.accounts import audit
from collector.accounts.passwords import check_policy, hasher
from collector.accounts.renters import check_time_zone, get_or_create_renter
from collector.accounts.tokens import ADMIN, RENTER, ROLES, revoke_sign_ins
from collector.core.errors import AlreadyExists, InvalidArgument, NotFound, quoted
from collector.db.models import Account, LoginThrottle, Renter

logger = logging.getLogger(__name__)

NAME_RULE = "3 to 64 letters, digits, '.', '_', '-' or '@'"
_NAME = re.compile(r"[a-z0-9._@-]{3,64}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_LOCALE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}")


def check_name(name: str, field: str = "name") -> str:
    """The sign-in name in lower case; InvalidArgument when it breaks NAME_RULE."""
    lowered = name.strip().lower()
    if not lowered.isascii() or not _NAME.fullmatch(lowered):
        raise InvalidArgument(f"{field}: {quoted(name)} is not a valid name ({NAME_RULE})")
    return lowered


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidArgument(f"role must be one of {', '.join(ROLES)}, not {quoted(role)}")
    return role


@dataclass(frozen=True)
class Profile:
    """What an account owner may change about it ("" clears a value; None leaves it)."""

    display_name: str | None = None
    email: str | None = None
    locale: str | None = None
    time_zone: str | None = None

    def checked(self) -> Profile:
        """The profile with each given value checked and normalised (e-mail in lower case)."""
        display = self.display_name.strip() if self.display_name is not None else None
        if display is not None and len(display) > 200:
            raise InvalidArgument("display_name: at most 200 characters")
        email = self.email.strip().lower() if self.email is not None else None
        if email and (len(email) > 200 or not _EMAIL.fullmatch(email)):
            raise InvalidArgument(f"email: {quoted(email)} is not an e-mail address")
        locale = self.locale.strip() if self.locale is not None else None
        if locale and (len(locale) > 20 or not _LOCALE.fullmatch(locale)):
            raise InvalidArgument(f"locale: {quoted(locale)} is not a language tag such as en or zh-CN")
        zone = check_time_zone(self.time_zone.strip()) if self.time_zone is not None else None
        return Profile(display, email, locale, zone)


def create_account(
    db: Session,
    name: str,
    role: str,
    subject: str,
    password_hash: str,
    profile: Profile,
    now: datetime,
) -> Account:
    """A new account (ALREADY_EXISTS when the name is taken); a renter account's renter is created if new."""
    name, role = check_name(name), check_role(role)
    subject = subject.strip()
    if role == ADMIN and subject:
        raise InvalidArgument("an admin account has no subject (it acts for the provider)")
    subject = subject if role == ADMIN or subject else name
    if len(subject) > 100:
        raise InvalidArgument("subject: at most 100 characters")
    if db.scalar(select(Account.id).where(Account.name == name)) is not None:
        raise AlreadyExists(f"an account named {name!r} exists already")
    if role == RENTER:
        get_or_create_renter(db, subject, now)
    profile = profile.checked()
    account = Account(
        name=name, role=role, subject=subject, display_name=profile.display_name or "",
        email=profile.email or "", locale=profile.locale or "", time_zone=profile.time_zone or "",
        password_hash=password_hash, disabled=False, created_at=now,
        password_changed_at=now if password_hash else None,
    )  # fmt: skip
    db.add(account)
    db.flush()
    logger.info("account %s created: role %s, subject %s", name, role, subject or "-")
    return account


def create_account_offline(
    db: Session, name: str, role: str, subject: str, email: str, password: str, now: datetime
) -> Account:
    """An account made on the database directly (the first admin account): the password checked and hashed
    here, the creation written to the audit log."""
    name = check_name(name)
    check_policy(password, name)
    account = create_account(db, name, role, subject, hasher().hash(password), Profile(email=email), now)
    details = {"name": account.name, "role": account.role, "subject": account.subject}
    audit.record(db, "collector", "account:created-offline", details, now)
    return account


def name_is_free_for_signup(db: Session, name: str) -> bool:
    """Whether a self sign-up may take `name`: no account has it, and no renter has it as id (else the
    newcomer would see that renter's sessions and invoices)."""
    taken_by_account = db.scalar(select(Account.id).where(Account.name == name))
    return taken_by_account is None and db.get(Renter, name) is None


def get_account(db: Session, name: str) -> Account:
    account = db.scalar(select(Account).where(Account.name == name.strip().lower()))
    if account is None:
        raise NotFound("account", name)
    return account


def list_accounts(db: Session, role: str = "") -> list[Account]:
    query = select(Account).order_by(Account.name)
    if role:
        query = query.where(Account.role == check_role(role))
    return list(db.scalars(query))


def update_account(db: Session, name: str, profile: Profile, disabled: bool | None, now: datetime) -> Account:
    """Change what is given of the account's profile; disable it (its sign-in tokens are revoked, so
    enabling it again does not bring them back) or enable it."""
    account = get_account(db, name)
    profile = profile.checked()
    for field in ("display_name", "email", "locale", "time_zone"):
        value = getattr(profile, field)
        if value is not None:
            setattr(account, field, value)
    if disabled is not None and disabled != account.disabled:
        account.disabled = disabled
        revoked = revoke_sign_ins(db, account.id, now) if disabled else 0
        logger.info("account %s %s (%d sign-in tokens revoked)", account.name,
                    "disabled" if disabled else "enabled", revoked)  # fmt: skip
    return account


def set_password_hash(db: Session, account: Account, password_hash: str, now: datetime) -> int:
    """Store a new password hash: every sign-in token of the account is revoked and the name's failed
    sign-ins are forgotten. How many tokens were revoked."""
    account.password_hash = password_hash
    account.password_changed_at = now
    db.execute(delete(LoginThrottle).where(LoginThrottle.name == account.name))
    revoked = revoke_sign_ins(db, account.id, now)
    logger.info("account %s has a new password; %d sign-in tokens revoked", account.name, revoked)
    return revoked


def accounts_named_or_at(db: Session, name_or_email: str) -> list[Account]:
    """The account with this name, or the accounts with this e-mail address (both kept in lower case)."""
    key = name_or_email.strip().lower()
    if not key or len(key) > 200:
        return []
    query = select(Account).where(or_(Account.name == key, Account.email == key))
    return list(db.scalars(query.order_by(Account.id)))
