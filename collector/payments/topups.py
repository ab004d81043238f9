"""Wallet top-ups a renter asks for, charged to its payment method on file (a card through Stripe).

Three steps, the charge outside any transaction: check the request and build the charge; charge the
provider with an idempotency key made from the renter and the request's key; record the attempt (a
`payments` row without an invoice) and, on success, credit the wallet. The same key never charges or
credits twice: a request whose top-up is on the ledger already answers at once, and the provider answers a
repeated charge with its first outcome (so a request retried after the collector lost the credit is
credited then, and one retried after a decline is declined again: retry with a new key). A charge that does
not succeed at once (a card that needs the holder's authentication) is a failure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

import billing
from collector.accounts.renters import get_renter
from collector.accounts.wallets import check_top_up, posted, scoped_key, top_up
from collector.core.errors import FailedPrecondition
from collector.db.database import Database
from collector.db.models import Payment, Renter
from collector.payments.collection import charge_safely
from collector.payments.providers import TOP_UP, ChargeRequest, ChargeResult, PaymentProvider

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TopUpCharge:
    renter_id: str
    provider: str
    request: ChargeRequest

    @property
    def ledger_key(self) -> str:
        """top_up()'s idempotency key: one ledger transaction per charge."""
        return f"card:{self.request.reference}"


def prepare_top_up(
    db: Session, renter_id: str, amount: billing.Money, idempotency_key: str
) -> TopUpCharge | None:
    """The charge a top-up request makes; None when it was credited already (a retried request).
    NotFound for an unknown renter; FailedPrecondition without a payment method on file; InvalidArgument
    for an amount that is not positive or would take the wallet beyond the money range."""
    renter = get_renter(db, renter_id)
    reference = scoped_key(renter.id, idempotency_key)
    charge = TopUpCharge(
        renter.id,
        renter.payment_method,
        ChargeRequest(
            reference=reference,
            description=f"Wallet top-up for {renter.id}",
            amount=amount,
            customer=renter.payment_customer,
            source=renter.payment_source,
            idempotency_key=f"top-up-{reference}",
            purpose=TOP_UP,
        ),
    )
    retried = posted(db, f"top-up:{charge.ledger_key}")
    check_top_up(db, renter.id, amount, retried=retried)
    if retried:
        return None
    if not renter.payment_method:
        raise FailedPrecondition(
            f"renter {renter.id} has no payment method on file: set one (RenterService.UpdateRenter) or ask"
            " the provider for a top-up"
        )
    return charge


def settle_top_up(db: Session, charge: TopUpCharge, result: ChargeResult, now: datetime) -> None:
    """Keep the attempt; credit the wallet (once) when the money was taken. A request sent twice at once
    is charged once by the provider (the same key) and settled once: the renter's row is locked."""
    db.get(Renter, charge.renter_id, with_for_update=True)
    if posted(db, f"top-up:{charge.ledger_key}"):
        return
    amount = charge.request.amount
    db.add(
        Payment(invoice_id=None, renter_id=charge.renter_id, provider=charge.provider,
                amount_minor=amount.minor, currency=amount.currency, succeeded=result.succeeded,
                reference=result.reference, idempotency_key=charge.request.idempotency_key,
                error=result.error, created_at=now)
    )  # fmt: skip
    if result.succeeded:
        top_up(db, charge.renter_id, amount, charge.ledger_key, now, reference=result.reference)
        logger.info("renter %s topped up %s by %s (%s)", charge.renter_id, amount, charge.provider,
                    result.reference)  # fmt: skip
    else:
        logger.warning("renter %s: top-up of %s by %s failed: %s", charge.renter_id, amount, charge.provider,
                       result.error)  # fmt: skip


async def request_top_up(
    database: Database,
    providers: Mapping[str, PaymentProvider],
    renter_id: str,
    amount: billing.Money,
    idempotency_key: str,
    now: datetime,
) -> None:
    """Charge the renter's payment method and credit its wallet; FailedPrecondition with the provider's
    sentence when the charge fails (the attempt is kept either way)."""
    charge = await database.run(prepare_top_up, renter_id, amount, idempotency_key)
    if charge is None:
        return
    provider = providers.get(charge.provider)
    if provider is None:
        raise FailedPrecondition(f"payment provider {charge.provider!r} is not configured on this collector")
    loop = asyncio.get_running_loop()
    result = await loop.run_in_executor(None, charge_safely, provider, charge.request)
    await database.run(settle_top_up, charge, result, now)
    if not result.succeeded:
        raise FailedPrecondition(f"the top-up of {amount} was not charged: {result.error}")
