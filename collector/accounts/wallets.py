"""Wallets on the double-entry ledger: posting transactions, balances as sums, and the ledger check."""

from __future__ import annotations

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
from collector.core.errors import InvalidArgument
from collector.db.models import LedgerEntry, LedgerTransaction

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
    db: Session, renter_id: str, amount: billing.Money, idempotency_key: str, now: datetime
) -> WalletState:
    """Credit a renter's wallet (creating the renter on first use) and make the renter prepaid. A wallet
    holds at most the money range's largest amount (billing/numbers.py); a top-up beyond it is refused."""
    largest = billing.numbers.largest(amount.currency)
    if not 0 < amount.minor <= largest.minor:
        raise InvalidArgument(f"a top-up must be positive and at most {largest}, not {amount}")
    renter = get_or_create_renter(db, renter_id, now)
    renter_id = renter.id
    key = f"top-up:{idempotency_key}"
    retried = db.scalar(select(LedgerTransaction.id).where(LedgerTransaction.idempotency_key == key))
    balance = wallet_state(db, renter_id, amount.currency).balance_minor
    if retried is None and balance + amount.minor > largest.minor:
        raise InvalidArgument(
            f"the wallet of {renter_id} holds {billing.Money(balance, amount.currency)}: a top-up of {amount}"
            f" would take it beyond {largest}, the largest amount rentmeter handles"
        )
    renter.prepaid = True
    post(db, ledger.top_up(renter_id, amount, idempotency_key), key, now)
    return wallet_state(db, renter_id, amount.currency)


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
