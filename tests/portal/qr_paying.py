"""What the QR payment tests share: the collector configured with the Alipay and WeChat Pay stand-ins and
run without its schedule (tests/collector/gateways/conftest.py's fixtures), the portal with a `gateway`
token so the stand-ins' notifications POSTed to its /notify endpoints reach the collector, and a stand-in
paying an order.

    from tests.portal import qr_paying
    alipay, wechatpay, collector_settings, collector, portal_settings = qr_paying.FIXTURES
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest

from collector.accounts.tokens import create_api_token
from collector.server import Collector
from portal.server import RunningPortal
from portal.settings import PortalSettings
from tests.collector.gateways import conftest as gateways
from tests.collector.gateways.standins import AlipayStandIn, WeChatPayStandIn


@pytest.fixture
def portal_settings(portal_settings: PortalSettings, collector: Collector) -> PortalSettings:
    token = collector.database.call(
        create_api_token, "gateway", "", "portal notifications", datetime.now(UTC)
    )
    return replace(portal_settings, gateway_token=token)


# The collector runs without its schedule: no invoicing job racing the tests' invoices on SQLite.
FIXTURES = (
    gateways.alipay,
    gateways.wechatpay,
    gateways.collector_settings,
    gateways.collector,
    portal_settings,
)


def pay_and_notify(
    portal: RunningPortal, stand_in: AlipayStandIn | WeChatPayStandIn, out_trade_no: str
) -> None:
    """The stand-in marks the order paid and POSTs its signed notification to the portal, as the gateway
    would (no cookie, no CSRF token); the portal hands it to the collector."""
    stand_in.pay(out_trade_no)
    with httpx.Client(base_url=portal.url, timeout=20) as gateway:
        if isinstance(stand_in, AlipayStandIn):
            answer = gateway.post("/notify/alipay", data=stand_in.notification(out_trade_no))
            assert (answer.status_code, answer.text) == (200, "success")
        else:
            headers, body = stand_in.paid_notification(out_trade_no)
            answer = gateway.post("/notify/wechatpay", content=body, headers=headers)
            assert answer.status_code == 200 and answer.json()["code"] == "SUCCESS"
