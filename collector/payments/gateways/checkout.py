"""Opening a gateway order: reserve the out-trade number (one transaction), ask the gateway for the QR
code or link (outside any transaction), keep it. An order whose gateway call failed is closed; one whose
answer was lost is found by the query job (the gateway does not know it, or it is paid: then credited)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from collector.core.errors import FailedPrecondition, InvalidArgument
from collector.db.database import Database
from collector.db.models import GatewayOrder
from collector.payments.gateways.base import Gateway, GatewayError
from collector.payments.gateways.orders import OrderAsk, order_request, prepare_order, store_pay_url

logger = logging.getLogger(__name__)


def gateway_of(gateways: Mapping[str, Gateway], name: str) -> Gateway:
    gateway = gateways.get(name)
    if gateway is None:
        configured = ", ".join(sorted(gateways)) or "none"
        raise FailedPrecondition(
            f"payment gateway {name!r} is not configured on this collector ({configured})"
        )
    return gateway


async def open_order(
    database: Database,
    gateways: Mapping[str, Gateway],
    ask: OrderAsk,
    now: datetime,
    ttl: timedelta,
    client_ip: str = "",
) -> GatewayOrder:
    """The order with its QR code content or payment link; FailedPrecondition with the gateway's sentence
    when it refuses."""
    gateway = gateway_of(gateways, ask.gateway)
    if ask.method not in gateway.methods:
        raise InvalidArgument(f"{ask.gateway} pays by {', '.join(gateway.methods)}, not {ask.method!r}")
    order, new = await database.run(prepare_order, ask, now, ttl)
    if not new:
        return order
    loop = asyncio.get_running_loop()
    try:
        url: str | None = await loop.run_in_executor(None, gateway.create, order_request(order, client_ip))
    except GatewayError as exc:
        await database.run(store_pay_url, order.out_trade_no, None, now)
        raise FailedPrecondition(str(exc)) from None
    return await database.run(store_pay_url, order.out_trade_no, url, now)
