"""Payment agreements: a renter's standing authority for Alipay (agreement pay, 商家扣款) or WeChat Pay
(entrusted deduction, 委托代扣) to take its invoices.

Signing: the renter asks (portal or CLI), we reserve our agreement number (`external_no`) and ask the
gateway for its signing page (a link, also shown as a QR code); the payer signs in the app and the gateway
notifies us (verified like a payment's notification): the agreement becomes active with the gateway's
number (`agreement_no`, WeChat Pay's `contract_id`). An agreement ended in the app is notified too; one
cancelled here is ended at the gateway first. States: signing → active → cancelled.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.accounts.renters import get_renter
from collector.core.errors import FailedPrecondition, NotFound
from collector.db.database import Database
from collector.db.models import PaymentAgreement
from collector.payments.gateways.base import (
    AGREEMENT_SIGNED,
    AgreementGateway,
    AgreementNotice,
    AgreementSign,
    Gateway,
    GatewayError,
)
from collector.payments.gateways.checkout import gateway_of

logger = logging.getLogger(__name__)

SIGNING, ACTIVE, CANCELLED = "signing", "active", "cancelled"
# A signing page not used within this is replaced by a new one when the renter asks again.
SIGNING_VALID = timedelta(hours=1)
# What applying an agreement notification did.
APPLIED, ALREADY, NOT_OURS = "applied", "already", "not ours"


def agreement_gateway(gateways: Mapping[str, Gateway], name: str) -> AgreementGateway:
    """The gateway, where agreements are switched on in the settings; FailedPrecondition otherwise."""
    gateway = gateway_of(gateways, name)
    if not getattr(gateway, "agreements", False):
        raise FailedPrecondition(f"{name} agreements are not switched on in this collector's settings")
    return gateway  # type: ignore[return-value]


def agreement_gateways(gateways: Mapping[str, Gateway]) -> list[str]:
    return sorted(name for name, gateway in gateways.items() if getattr(gateway, "agreements", False))


def external_no(gateway: str, renter_id: str, serial: int) -> str:
    """RMA + 24 hex digits of the gateway and renter + the renter's n-th agreement there: 29 characters."""
    digest = hashlib.sha256(f"{gateway}|{renter_id}".encode()).hexdigest()[:24]
    return f"RMA{digest}{serial:02d}"


def prepare_agreement(db: Session, gateway: str, renter_id: str, now: datetime
                      ) -> tuple[PaymentAgreement, bool]:  # fmt: skip
    """(the agreement being signed, whether it needs its signing page from the gateway)."""
    renter = get_renter(db, renter_id)
    mine = list(db.scalars(select(PaymentAgreement).where(
        PaymentAgreement.gateway == gateway, PaymentAgreement.renter_id == renter.id
    ).order_by(PaymentAgreement.id.desc()).with_for_update()))  # fmt: skip
    for agreement in mine:
        if agreement.state == ACTIVE:
            raise FailedPrecondition(f"{renter.id} has signed a {gateway} agreement already; cancel it first")
        if agreement.state == SIGNING and agreement.sign_url and agreement.created_at > now - SIGNING_VALID:
            return agreement, False
    for agreement in mine:
        if agreement.state == SIGNING:  # an old page: never signed
            agreement.state, agreement.cancelled_at = CANCELLED, now
    agreement = PaymentAgreement(gateway=gateway, renter_id=renter.id,
                                 external_no=external_no(gateway, renter.id, len(mine) + 1), state=SIGNING,
                                 sign_url="", created_at=now)  # fmt: skip
    db.add(agreement)
    db.flush()
    return agreement, True


def _store_sign_url(db: Session, agreement_id: int, url: str | None, now: datetime) -> PaymentAgreement:
    agreement = _get(db, agreement_id)
    if url is None:
        agreement.state, agreement.cancelled_at = CANCELLED, now
    else:
        agreement.sign_url = url
    return agreement


async def start_signing(database: Database, gateways: Mapping[str, Gateway], name: str, renter_id: str,
                        now: datetime, client_ip: str = "") -> PaymentAgreement:  # fmt: skip
    """The agreement with its signing page; FailedPrecondition with the gateway's sentence if refused."""
    gateway = agreement_gateway(gateways, name)
    agreement, new = await database.run(prepare_agreement, name, renter_id, now)
    if not new:
        return agreement
    ask = AgreementSign(agreement.external_no, agreement.renter_id, client_ip or "127.0.0.1")
    try:
        url: str | None = await asyncio.get_running_loop().run_in_executor(None, gateway.sign_url, ask)
    except GatewayError as exc:
        await database.run(_store_sign_url, agreement.id, None, now)
        raise FailedPrecondition(str(exc)) from None
    return await database.run(_store_sign_url, agreement.id, url, now)


def apply_agreement(db: Session, gateway: str, notice: AgreementNotice, now: datetime) -> str:
    """A verified agreement notification, applied once: signed makes it active, ended cancels it."""
    agreement = db.scalar(select(PaymentAgreement).where(
        PaymentAgreement.gateway == gateway, PaymentAgreement.external_no == notice.external_no
    ).with_for_update())  # fmt: skip
    if agreement is None:
        logger.warning(
            "%s says agreement %s is %s; it is not ours", gateway, notice.external_no, notice.state
        )
        return NOT_OURS
    if notice.state == AGREEMENT_SIGNED:
        if agreement.state != SIGNING:
            return ALREADY
        agreement.state, agreement.agreement_no, agreement.signed_at = ACTIVE, notice.agreement_no, now
    else:
        if agreement.state == CANCELLED:
            return ALREADY
        agreement.state, agreement.cancelled_at = CANCELLED, now
    logger.info(
        "%s agreement %s of %s: %s", gateway, agreement.external_no, agreement.renter_id, agreement.state
    )
    return APPLIED


async def cancel(database: Database, gateways: Mapping[str, Gateway], agreement_id: int, renter_id: str,
                 now: datetime) -> PaymentAgreement:  # fmt: skip
    """End the agreement at the gateway (when signed), then here. `renter_id`: the caller's own only
    ("" for an admin)."""
    agreement = await database.run(_get, agreement_id, renter_id)
    if agreement.state == CANCELLED:
        raise FailedPrecondition(f"agreement {agreement_id} was cancelled at {agreement.cancelled_at}")
    if agreement.state == ACTIVE:
        gateway = agreement_gateway(gateways, agreement.gateway)
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, gateway.unsign, agreement.external_no, agreement.agreement_no)
        except GatewayError as exc:
            raise FailedPrecondition(str(exc)) from None
    return await database.run(_cancelled, agreement_id, now)


def _cancelled(db: Session, agreement_id: int, now: datetime) -> PaymentAgreement:
    agreement = _get(db, agreement_id)
    if agreement.state != CANCELLED:
        agreement.state, agreement.cancelled_at = CANCELLED, now
    return agreement


def _get(db: Session, agreement_id: int, renter_id: str = "") -> PaymentAgreement:
    agreement = db.get(PaymentAgreement, agreement_id, with_for_update=True)
    if agreement is None or (renter_id and agreement.renter_id != renter_id):
        raise NotFound("payment agreement", str(agreement_id))
    return agreement


def list_agreements(db: Session, renter_id: str = "") -> list[PaymentAgreement]:
    query = select(PaymentAgreement).order_by(PaymentAgreement.created_at.desc(), PaymentAgreement.id.desc())
    if renter_id:
        query = query.where(PaymentAgreement.renter_id == renter_id)
    return list(db.scalars(query.limit(200)))


def active_agreement(db: Session, renter_id: str, gateways: list[str]) -> PaymentAgreement | None:
    """The renter's newest signed agreement among these gateways'."""
    return db.scalar(select(PaymentAgreement).where(
        PaymentAgreement.renter_id == renter_id, PaymentAgreement.state == ACTIVE,
        PaymentAgreement.gateway.in_(gateways)
    ).order_by(PaymentAgreement.signed_at.desc()).limit(1))  # fmt: skip
