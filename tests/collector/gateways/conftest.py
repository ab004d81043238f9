"""A collector configured for Alipay and WeChat Pay, both pointed at their local stand-ins (keys and the
platform certificate made by the stand-ins, written to files the settings name), the portal in front of it
with a `gateway` token for notifications."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from collector.accounts.tokens import create_api_token
from collector.config import CollectorSettings
from collector.server import Collector
from portal.server import RunningPortal, running_portal
from portal.settings import PortalSettings
from rentmeter.embedded import running_collector
from tests.collector.gateways.agreement_standins import AgreementAlipayStandIn, AgreementWeChatPayStandIn


@pytest.fixture
def alipay() -> Iterator[AgreementAlipayStandIn]:
    stand_in = AgreementAlipayStandIn()
    stand_in.start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def wechatpay(tmp_path: Path) -> Iterator[AgreementWeChatPayStandIn]:
    stand_in = AgreementWeChatPayStandIn(tmp_path / "wechatpay-platform-certs")
    stand_in.start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def collector_settings(
    collector_settings: CollectorSettings,
    tmp_path: Path,
    alipay: AgreementAlipayStandIn,
    wechatpay: AgreementWeChatPayStandIn,
) -> CollectorSettings:
    keys = tmp_path / "keys"
    keys.mkdir()
    files = {
        "alipay-app.pem": alipay.app_key_pem,
        "alipay-public.pem": alipay.platform_public_pem,
        "wechatpay-merchant.pem": wechatpay.merchant_key_pem,
        "wechatpay-apiv3.key": wechatpay.apiv3_key,
    }
    for name, text in files.items():
        (keys / name).write_text(text)
    return replace(
        collector_settings,
        portal_url="https://portal.example.net",
        alipay_app_id=alipay.app_id,
        alipay_private_key_file=str(keys / "alipay-app.pem"),
        alipay_public_key_file=str(keys / "alipay-public.pem"),
        alipay_api_base=alipay.url,
        alipay_agreement_pay=True,
        wechatpay_mchid=wechatpay.mchid,
        wechatpay_appid=wechatpay.appid,
        wechatpay_private_key_file=str(keys / "wechatpay-merchant.pem"),
        wechatpay_cert_serial=wechatpay.merchant_serial,
        wechatpay_apiv3_key_file=str(keys / "wechatpay-apiv3.key"),
        wechatpay_platform_cert_dir=str(tmp_path / "wechatpay-platform-certs"),
        wechatpay_api_base=wechatpay.base,
        wechatpay_papay_plan_id=12535,
        stripe_webhook_secret="whsec_" + secrets.token_hex(16),
    )


@pytest.fixture
def collector(collector_settings: CollectorSettings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Collector]:
    """The collector without its schedule: these tests run the query job themselves, at the times they
    choose (and make invoices on its database without the invoicing job racing them)."""
    with running_collector(collector_settings, run_jobs=False) as running:
        token = running.database.call(create_api_token, "admin", "", "tests", datetime.now(UTC))
        running.admin_token = token  # type: ignore[attr-defined]
        monkeypatch.setenv("RENTMETER_TOKEN", token)
        yield running


@pytest.fixture
def notify_portal(collector: Collector) -> Iterator[RunningPortal]:
    """The portal with its gateway token: what the gateways POST their notifications to."""
    token = collector.database.call(
        create_api_token, "gateway", "", "portal notifications", datetime.now(UTC)
    )
    settings = PortalSettings(collector=f"127.0.0.1:{collector.port}", secret_key=secrets.token_urlsafe(32),
                              listen="127.0.0.1:0", gateway_token=token)  # fmt: skip
    with running_portal(settings) as running:
        yield running


@pytest.fixture
def gateway_http(notify_portal: RunningPortal) -> Iterator[httpx.Client]:
    """An HTTP client as the gateways are: no cookies, no CSRF token."""
    with httpx.Client(base_url=notify_portal.url, timeout=20) as client:
        yield client
