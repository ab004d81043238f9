"""Wallets on the double-entry ledger: posting transactions, balances as sums, and the ledger check."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import billing
import billing.numbers
from billing import ledger
from collector.accounts import audit
from collector.accounts.renters import get_or_create_renter
from collector.core.errors import InvalidArgument, NotFound
from collector.db.models import LedgerEntry, LedgerTransaction, Renter

logger = logging.getLogger(__name__)


def post(
    db: Session, transaction: ledger.Transaction, idempotency_key: str, now: datetime
) -> LedgerTransaction:
    """Write a balanced transaction once: a second post with the same key returns the first one."""
    existing = db.scalar(
        select(LedgerTransaction).where(LedgerTransaction.idempotency_key == idempotency_key)
    )
    if existing is not None:
        return existing
    row = LedgerTransaction(
        kind=transaction.kind,
        reference=transaction.reference,
        idempotency_key=idempotency_key,
        created_at=now,
        entries=[
            LedgerEntry(account=p.account, currency=p.amount.currency, amount_minor=p.amount.minor)
            for p in transaction.postings
        ],
    )
    db.add(row)
    db.flush()
    audit.record(db, "collector", f"ledger:{transaction.kind}", {
        "transaction": row.id, "reference": transaction.reference,
        "postings": [[p.account, p.amount.minor, p.amount.currency] for p in transaction.postings],
    }, now)  # fmt: skip
    logger.info(
        "ledger %s %s: %s", transaction.kind, transaction.reference or "-",
        ", ".join(f"{p.account} {p.amount}" for p in transaction.postings),
    )  # fmt: skip
    return row


def account_balance(db: Session, account: str, currency: str) -> int:
    """Sum of an account's entries in `currency` (debits positive), minor units."""
    query = select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0)).where(
        LedgerEntry.account == account, LedgerEntry.currency == currency
    )
    return int(db.scalar(query) or 0)


@dataclass(frozen=True)
class WalletState:
    renter: str
    currency: str
    balance_minor: int  # what the wallet holds, holds included
    held_minor: int  # set aside for running sessions

    @property
    def available_minor(self) -> int:
        return self.balance_minor - self.held_minor


def wallet_state(db: Session, renter: str, currency: str) -> WalletState:
    return WalletState(
        renter,
        currency,
        -account_balance(db, ledger.wallet(renter), currency)
        - account_balance(db, ledger.hold(renter), currency),
        -account_balance(db, ledger.hold(renter), currency),
    )


def top_up(
    db: Session,
    renter_id: str,
    amount: billing.Money,
    idempotency_key: str,
    now: datetime,
    *,
    reference: str = "",
) -> WalletState:
    """Credit a renter's wallet (creating the renter on first use) and make the renter prepaid, once per
    `idempotency_key`; `reference` (default: the key) is what the ledger shows, e.g. the card payment's id.
    A wallet holds at most the money range's largest amount (billing/numbers.py); a top-up beyond it is
    refused."""
    renter = get_or_create_renter(db, renter_id, now)
    renter_id = renter.id
    key = f"top-up:{idempotency_key}"
    check_top_up(db, renter_id, amount, retried=posted(db, key))
    renter.prepaid = True
    post(db, ledger.top_up(renter_id, amount, reference or idempotency_key), key, now)
    return wallet_state(db, renter_id, amount.currency)


def posted(db: Session, idempotency_key: str) -> bool:
    """Whether a transaction with this key is on the ledger already (a retried request)."""
    query = select(LedgerTransaction.id).where(LedgerTransaction.idempotency_key == idempotency_key)
    return db.scalar(query) is not None


def check_top_up(db: Session, renter_id: str, amount: billing.Money, *, retried: bool = False) -> None:
    """InvalidArgument unless `amount` is positive and (unless the top-up is `retried`: it is in already)
    leaves the wallet within the money range."""
    largest = billing.numbers.largest(amount.currency)
    if not 0 < amount.minor <= largest.minor:
        raise InvalidArgument(f"a top-up must be positive and at most {largest}, not {amount}")
    if retried:
        return
    balance = wallet_state(db, renter_id, amount.currency).balance_minor
    if balance + amount.minor > largest.minor:
        raise InvalidArgument(
            f"the wallet of {renter_id} holds {billing.Money(balance, amount.currency)}: a top-up of {amount}"
            f" would take it beyond {largest}, the largest amount rentmeter handles"
        )


MAX_REASON = 100


def adjust_wallet(
    db: Session, renter_id: str, amount: billing.Money, reason: str, idempotency_key: str, now: datetime
) -> WalletState:
    """The provider's correction of an existing renter's wallet, once per (renter, idempotency_key): a
    positive amount credits it, a negative one debits it (the balance may go below zero, never beyond
    the money range either way). The reason (1 to 100 characters) is the ledger transaction's reference,
    so the renter sees it with the entry."""
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise InvalidArgument(f"reason is required (1 to {MAX_REASON} characters): the renter sees it")
    renter = db.get(Renter, renter_id, with_for_update=True)  # one adjustment of a renter at a time
    if renter is None:
        raise NotFound("renter", renter_id)
    key = "adjustment:" + scoped_key(renter.id, idempotency_key)
    if posted(db, key):
        return wallet_state(db, renter.id, amount.currency)
    largest = billing.numbers.largest(amount.currency)
    balance = wallet_state(db, renter.id, amount.currency).balance_minor
    if not amount.minor or not -largest.minor <= balance + amount.minor <= largest.minor:
        raise InvalidArgument(
            f"an adjustment must not be zero and must leave the wallet of {renter.id} (now "
            f"{billing.Money(balance, amount.currency)}) within ±{largest}, not change it by {amount}"
        )
    post(db, ledger.adjustment(renter.id, amount, reason), key, now)
    return wallet_state(db, renter.id, amount.currency)


def scoped_key(renter_id: str, idempotency_key: str) -> str:
    """A ledger idempotency key of one renter's request: keys chosen by different renters never meet
    (SHA-256 of both, 64 hex digits, so any renter id and key fit the column)."""
    return hashlib.sha256(f"{renter_id}\0{idempotency_key}".encode()).hexdigest()


def entries_of(db: Session, renter: str) -> list[tuple[LedgerTransaction, LedgerEntry]]:
    """The renter's wallet and hold entries, oldest first."""
    query = (
        select(LedgerTransaction, LedgerEntry)
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .where(
            LedgerEntry.account.in_([ledger.wallet(renter), ledger.hold(renter), ledger.receivable(renter)])
        )
        .order_by(LedgerEntry.id)
    )
    return [(t, e) for t, e in db.execute(query)]


@dataclass(frozen=True)
class LedgerCheck:
    transactions: int
    entries: int
    debits_minor: dict[str, int]  # per currency
    credits_minor: dict[str, int]
    unbalanced: list[int]  # ids of transactions whose entries do not sum to zero

    @property
    def balanced(self) -> bool:
        return not self.unbalanced and self.debits_minor == self.credits_minor


def check_ledger(db: Session) -> LedgerCheck:
    """Prove that debits equal credits, in total per currency and within every transaction."""
    debits: dict[str, int] = {}
    credits: dict[str, int] = {}
    rows = db.execute(
        select(LedgerEntry.currency, func.sum(LedgerEntry.amount_minor).filter(LedgerEntry.amount_minor > 0),
               -func.sum(LedgerEntry.amount_minor).filter(LedgerEntry.amount_minor < 0))
        .group_by(LedgerEntry.currency)
    )  # fmt: skip
    for currency, debit, credit in rows:
        debits[currency], credits[currency] = int(debit or 0), int(credit or 0)
    unbalanced = list(
        db.scalars(
            select(LedgerEntry.transaction_id)
            .group_by(LedgerEntry.transaction_id, LedgerEntry.currency)
            .having(func.sum(LedgerEntry.amount_minor) != 0)
        )
    )
    return LedgerCheck(
        transactions=int(db.scalar(select(func.count()).select_from(LedgerTransaction)) or 0),
        entries=int(db.scalar(select(func.count()).select_from(LedgerEntry)) or 0),
        debits_minor=debits,
        credits_minor=credits,
        unbalanced=unbalanced,
    )
