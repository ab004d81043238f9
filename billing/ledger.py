"""Double-entry ledger: every movement of money is a balanced transaction of postings.

An amount posted to an account is positive for a debit and negative for a credit; the postings of one
transaction sum to zero in every currency. Accounts:

- `cash`: money received from renters (an asset);
- `wallet:RENTER`: prepaid credit the provider owes the renter (a liability: a top-up credits it, a charge
  debits it; the renter's balance is minus its sum);
- `hold:RENTER`: part of the wallet set aside while a session runs;
- `revenue`, `tax:NAME`: what invoices earn and the tax they collect (credits);
- `receivable:RENTER`: what a renter without a wallet owes on invoices, until paid;
- `adjustments`: the provider's corrections of wallets (what it gave, positive, or took back).

Balances are never stored: they are sums of postings, which are never changed or deleted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from billing.errors import BillingError
from billing.money import Money

CASH = "cash"
REVENUE = "revenue"
ADJUSTMENTS = "adjustments"


def wallet(renter: str) -> str:
    return f"wallet:{renter}"


def hold(renter: str) -> str:
    return f"hold:{renter}"


def receivable(renter: str) -> str:
    return f"receivable:{renter}"


def tax_account(name: str) -> str:
    return f"tax:{name}"


class UnbalancedTransaction(BillingError):
    """Postings that do not sum to zero in some currency."""


@dataclass(frozen=True, slots=True)
class Posting:
    account: str
    amount: Money  # debit > 0, credit < 0


@dataclass(frozen=True, slots=True)
class Transaction:
    """A balanced set of postings: `kind` (top-up, charge, hold, release, refund, adjustment, payment) and
    what it is about (`reference`, e.g. an invoice id)."""

    kind: str
    reference: str
    postings: tuple[Posting, ...]

    def __post_init__(self) -> None:
        if not self.postings:
            raise UnbalancedTransaction(f"{self.kind} {self.reference}: a transaction needs postings")
        for currency, total in totals(self.postings).items():
            if total:
                raise UnbalancedTransaction(
                    f"{self.kind} {self.reference}: postings sum to {Money(total, currency)}, not zero"
                )


def totals(postings: Iterable[Posting]) -> dict[str, int]:
    """Sum of postings per currency, in minor units."""
    sums: dict[str, int] = defaultdict(int)
    for posting in postings:
        sums[posting.amount.currency] += posting.amount.minor
    return dict(sums)


def _pair(kind: str, reference: str, debit: str, credit: str, amount: Money) -> Transaction:
    if amount.minor <= 0:
        raise BillingError(f"{kind}: the amount must be positive, not {amount}")
    negative = Money(-amount.minor, amount.currency)
    return Transaction(kind, reference, (Posting(debit, amount), Posting(credit, negative)))


def top_up(renter: str, amount: Money, reference: str = "") -> Transaction:
    """Money received into a renter's wallet."""
    return _pair("top-up", reference, CASH, wallet(renter), amount)


def refund(renter: str, amount: Money, reference: str = "") -> Transaction:
    """Wallet credit paid back to the renter."""
    return _pair("refund", reference, wallet(renter), CASH, amount)


def payout(renter: str, amount: Money, reference: str = "") -> Transaction:
    """Money paid back to a renter without a wallet against a credit note (its receivable was credited)."""
    return _pair("payout", reference, receivable(renter), CASH, amount)


def reversal(transaction: Transaction, reference: str = "") -> Transaction:
    """The postings of `transaction` the other way round (a refund the gateway failed)."""
    postings = tuple(
        Posting(p.account, Money(-p.amount.minor, p.amount.currency)) for p in transaction.postings
    )
    return Transaction(f"{transaction.kind}-reversal", reference or transaction.reference, postings)


def adjustment(renter: str, amount: Money, reason: str) -> Transaction:
    """The provider's correction of a renter's wallet: a positive amount credits the wallet, a negative one
    debits it; the other side is the `adjustments` account."""
    if amount.minor < 0:
        return _pair("adjustment", reason, wallet(renter), ADJUSTMENTS, Money(-amount.minor, amount.currency))
    return _pair("adjustment", reason, ADJUSTMENTS, wallet(renter), amount)


def payment(renter: str, amount: Money, invoice: str) -> Transaction:
    """An invoice the renter owed, paid (card, bank transfer)."""
    return _pair("payment", invoice, CASH, receivable(renter), amount)


def pack_purchase(renter: str, amount: Money, pack: str) -> Transaction:
    """A time pack bought from the wallet: its price is earned when bought (billing/packs.py)."""
    return _pair("pack", pack, wallet(renter), REVENUE, amount)


def place_hold(renter: str, amount: Money, session: str) -> Transaction:
    return _pair("hold", session, wallet(renter), hold(renter), amount)


def release_hold(renter: str, amount: Money, session: str) -> Transaction:
    return _pair("release", session, hold(renter), wallet(renter), amount)


def invoice_charge(
    renter: str, invoice: str, net: Money, taxes: dict[str, Money], *, prepaid: bool, kind: str = "charge"
) -> Transaction:
    """An invoice's total taken from the renter's wallet (prepaid) or owed (receivable); net to revenue,
    each tax to its account. A negative net (a credit) runs the other way."""
    total = net.minor + sum(t.minor for t in taxes.values())
    payer = wallet(renter) if prepaid else receivable(renter)
    postings = [Posting(payer, Money(total, net.currency)), Posting(REVENUE, Money(-net.minor, net.currency))]
    postings += [
        Posting(tax_account(name), Money(-t.minor, t.currency)) for name, t in taxes.items() if t.minor
    ]
    return Transaction(kind, invoice, tuple(p for p in postings if p.amount.minor))
