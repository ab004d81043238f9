"""A gateway's notification, as the portal hands it over (raw body and headers): the signature is
verified first, then what it says is applied once; the answer is the body the gateway expects.

A forged or altered notification is refused before anything is read from it; a replayed one finds its
order paid already and changes nothing; one that cannot be applied now (the database away) raises, so the
portal answers 503 and the gateway sends it again later."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from collector.db.database import Database
from collector.payments.gateways.agreements import apply_agreement
from collector.payments.gateways.base import Gateway, NotificationRefused, Reply
from collector.payments.gateways.orders import WRONG_AMOUNT, apply_trade
from collector.payments.gateways.refunds import apply_refund

logger = logging.getLogger(__name__)

NOT_FOUND = Reply(404, "text/plain", b"no such gateway")


async def apply_notification(
    database: Database,
    gateways: Mapping[str, Gateway],
    name: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
) -> Reply:
    gateway = gateways.get(name)
    if gateway is None:
        return NOT_FOUND
    try:
        notice = gateway.verify(headers, body, now)
    except NotificationRefused as exc:
        logger.warning("refused a %s notification: %s", name, exc)
        return gateway.refused(str(exc))
    if notice.trade is not None:
        outcome = await database.run(apply_trade, name, notice.trade, now)
        logger.info("%s notification %s: order %s %s: %s", name, notice.notify_id, notice.trade.out_trade_no,
                    notice.trade.state, outcome)  # fmt: skip
        if outcome == WRONG_AMOUNT:
            return gateway.refused("the amount is not the order's")
    if notice.agreement is not None:
        outcome = await database.run(apply_agreement, name, notice.agreement, now)
        logger.info("%s notification %s: agreement %s %s: %s", name, notice.notify_id,
                    notice.agreement.external_no, notice.agreement.state, outcome)  # fmt: skip
    if notice.refund is not None:
        outcome = await database.run(apply_refund, notice.refund, now)
        logger.info("%s notification %s: refund %s %s: %s", name, notice.notify_id,
                    notice.refund.out_refund_no, notice.refund.state, outcome)  # fmt: skip
    return gateway.accepted()
