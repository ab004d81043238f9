"""Collector settings: one frozen object per process, built once from environment and overrides."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import platformdirs

from billing import durations


class SettingsError(ValueError):
    """A setting that cannot be used; the message names it."""


def parse_duration(text: str, name: str = "duration") -> timedelta:
    """Parse "90", "90s", "15m", "1h", "1d" or "1w" (no unit: seconds)."""
    try:
        return durations.parse_duration(text)
    except ValueError as exc:
        raise SettingsError(f"{name}: {exc}") from None


def default_db_url() -> str:
    data = Path(platformdirs.user_data_dir("rentmeter", appauthor=False))
    return f"sqlite:///{data / 'collector.db'}"


@dataclass(frozen=True)
class CollectorSettings:
    """Every collector setting, with its environment variable in the docstring of from_env()."""

    listen: str = "127.0.0.1:50051"
    db_url: str = ""
    rating_interval: timedelta = timedelta(seconds=5)
    invoice_period: timedelta = timedelta(days=1)
    invoice_grace: timedelta = timedelta(minutes=5)
    online_window: timedelta = timedelta(seconds=30)
    # Prometheus metrics over HTTP (HOST:PORT; empty: off).
    metrics_listen: str = ""
    # Rate limits (per second, bursts of 10x): admin API calls per token, reports per agent (0: none).
    api_rate_limit: float = 20.0
    agent_report_rate_limit: float = 200.0
    # Agent report streams held at once (0: no limit) and new ones taken on per second (0: no limit); a
    # stream over either is refused with RESOURCE_EXHAUSTED and a retry hint of 1-5 s (spread at random).
    max_agent_streams: int = 20_000
    stream_open_rate: float = 2_000.0
    # Raw samples and signed reports are deleted this long after they end (once invoiced).
    raw_retention: timedelta = timedelta(days=180)
    # Prepaid renters: balances (in the wallet's currency) that send a low-balance alert, how long a
    # session may run on an exhausted balance before it is stopped, and how much of the expected cost is
    # held when a session starts.
    low_balance_alerts: str = "5,1"
    balance_grace: timedelta = timedelta(seconds=60)
    hold_for: timedelta = timedelta(minutes=15)
    # Invoice numbers are PREFIX-000001, PREFIX-000002, ... without gaps.
    invoice_prefix: str = "RM"
    # Notifications: signed webhooks to the provider, e-mail to renters (unset: not sent).
    webhook_url: str = ""
    webhook_secret: str = ""
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "rentmeter@localhost"
    # Card payments of invoices through Stripe (extra rentmeter[stripe]); api base only for a stand-in.
    stripe_api_key: str = ""
    stripe_api_base: str = ""
    # Stripe's webhook signing secret (whsec_...): events reach the portal's /webhooks/stripe, which hands
    # them to PaymentService.ApplyNotification.
    stripe_webhook_secret: str = ""
    # Alipay (extra rentmeter[alipay]): the app id, the app's RSA2 private key and Alipay's public key (PEM
    # files, read at start-up, never stored or logged), the sandbox gateway instead of production, and an
    # address for a local stand-in (tests).
    alipay_app_id: str = ""
    alipay_private_key_file: str = ""
    alipay_public_key_file: str = ""
    alipay_sandbox: bool = False
    alipay_api_base: str = ""
    # Alipay agreement pay (商家扣款, signed by the renter; Alipay must have granted the app the product):
    # invoices of renters with a signed agreement are taken by the collection job; the agreement's scene.
    alipay_agreement_pay: bool = False
    alipay_sign_scene: str = "INDUSTRY|DIGITAL_MEDIA"
    # WeChat Pay API v3 (extra rentmeter[wechatpay]): merchant id, app id, the merchant's API private key
    # (PEM file) and its certificate's serial number, a file holding the API v3 key (32 characters), the
    # folder of WeChat Pay platform certificates (PEM), and an address for a local stand-in (tests).
    wechatpay_mchid: str = ""
    wechatpay_appid: str = ""
    wechatpay_private_key_file: str = ""
    wechatpay_cert_serial: str = ""
    wechatpay_apiv3_key_file: str = ""
    wechatpay_platform_cert_dir: str = ""
    wechatpay_api_base: str = ""
    # WeChat Pay entrusted deduction (委托代扣): the merchant's deduction plan (template) id; 0: off.
    wechatpay_papay_plan_id: int = 0
    # How long a QR code or payment link may be paid; the query job closes an order unpaid after this.
    gateway_order_ttl: timedelta = timedelta(minutes=15)
    tls_cert: str = ""
    tls_key: str = ""
    tls_client_ca: str = ""
    # Serve without TLS on a non-loopback address (behind a TLS-terminating proxy only).
    allow_plaintext: bool = False
    # Accounts: how long a sign-in token is valid; sign-in calls (Login, SignUp, password resets and
    # changes) per second on this collector, in bursts of 10x (0: no limit); the web portal's address for
    # password reset links (empty: the e-mail tells the user to ask the provider); self sign-up of renters.
    login_token_ttl: timedelta = timedelta(hours=12)
    login_rate_limit: float = 5.0
    portal_url: str = ""
    self_signup: bool = False
    # Usage insights (README: Usage insights and offers): how often profiles, recommendations and offers
    # are brought up to date; how long after a session ends it is folded into profiles (late reports);
    # how many days of usage a recommendation re-rates; the saving (in the recommendation's currency,
    # e.g. 5.00) from which the renter is told once ("": never); how long before it applies an offer is
    # shown.
    insights_interval: timedelta = timedelta(hours=1)
    insights_grace: timedelta = timedelta(hours=1)
    recommendation_days: int = 30
    recommendation_notify_saving: str = ""
    offer_notice: timedelta = timedelta(days=1)
    # Several collectors on one PostgreSQL (README: Several collectors): this collector's name in job leases
    # and logs (empty: HOST:PID), and how long a job's lease holds when its collector stops renewing it
    # (killed mid-run: another collector takes the job over after this).
    collector_name: str = ""
    job_lease: timedelta = timedelta(seconds=30)
    # Log lines as JSON objects, one per line ("json"), or as text ("text").
    log_format: str = "text"

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: Any) -> CollectorSettings:
        """Settings from the environment, one variable per field: RENTMETER_ and the field's name in capitals
        (RENTMETER_LISTEN, RENTMETER_DB_URL, ...; all listed in README, Configuration), then `overrides`
        (None values ignored). Durations accept 30s, 15m, 1h, 1d; booleans true/false, 1/0, yes/no."""
        values: dict[str, Any] = {}
        for field in fields(cls):
            raw = env.get(f"RENTMETER_{field.name.upper()}")
            if raw is not None and raw != "":
                values[field.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        for field in fields(cls):
            if field.type == "timedelta" and isinstance(values.get(field.name), str):
                values[field.name] = parse_duration(values[field.name], field.name)
            if field.type == "bool" and isinstance(values.get(field.name), str):
                text = values[field.name].strip().lower()
                if text not in ("1", "true", "yes", "0", "false", "no"):
                    raise SettingsError(f"{field.name}: {values[field.name]!r} is not true or false")
                values[field.name] = text in ("1", "true", "yes")
            if field.type == "float" and isinstance(values.get(field.name), str):
                try:
                    values[field.name] = float(values[field.name])
                except ValueError:
                    raise SettingsError(f"{field.name}: {values[field.name]!r} is not a number") from None
            if field.type == "int" and isinstance(values.get(field.name), str):
                if not values[field.name].isdigit():
                    raise SettingsError(f"{field.name}: {values[field.name]!r} is not a whole number")
                values[field.name] = int(values[field.name])
        settings = cls(**values)
        if bool(settings.tls_cert) != bool(settings.tls_key):
            raise SettingsError("tls_cert and tls_key go together")
        if settings.tls_client_ca and not settings.tls_cert:
            raise SettingsError("tls_client_ca (mutual TLS) needs tls_cert and tls_key")
        if not settings.db_url:
            settings = replace(settings, db_url=default_db_url())
        if not settings.collector_name:
            settings = replace(settings, collector_name=f"{socket.gethostname()}:{os.getpid()}")
        if settings.log_format not in ("text", "json"):
            raise SettingsError(f"log_format: {settings.log_format!r} is not text or json")
        if not timedelta(seconds=1) <= settings.job_lease <= timedelta(hours=1):
            raise SettingsError("job_lease: from 1s to 1h, e.g. 30s")
        settings.alert_levels()
        secret = settings.webhook_secret
        if settings.webhook_url and (len(secret) < 16 or "change" in secret.lower()):
            raise SettingsError("webhook_secret: webhook_url needs a random secret of at least 16 characters")
        check_gateways(settings)
        if not re.fullmatch(r"[A-Za-z0-9]{1,20}", settings.invoice_prefix):
            raise SettingsError("invoice_prefix: 1 to 20 letters or digits, e.g. RM")
        if not timedelta(minutes=1) <= settings.login_token_ttl <= timedelta(days=30):
            raise SettingsError("login_token_ttl: from 1m to 30d, e.g. 12h")
        if settings.portal_url and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", settings.portal_url):
            raise SettingsError(
                f"portal_url: {settings.portal_url!r} is not a web address such as https://portal.example.net"
            )
        if not 1 <= settings.recommendation_days <= 366:
            raise SettingsError("recommendation_days: from 1 to 366")
        settings.notify_saving()
        return settings

    def notify_saving(self) -> Decimal | None:
        """The saving from which a recommendation is announced (None: never)."""
        text = self.recommendation_notify_saving.strip()
        if not text:
            return None
        try:
            amount = Decimal(text)
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite() or amount < 0:
            raise SettingsError(
                f"recommendation_notify_saving: {text!r} is not an amount such as 5.00 (or empty: never)"
            )
        return amount

    @property
    def alipay_enabled(self) -> bool:
        return bool(self.alipay_app_id)

    @property
    def wechatpay_enabled(self) -> bool:
        return bool(self.wechatpay_mchid)

    def alert_levels(self) -> tuple[Decimal, ...]:
        """The low-balance alert levels, highest first."""
        try:
            levels = sorted((Decimal(part) for part in self.low_balance_alerts.split(",") if part.strip()),
                            reverse=True)  # fmt: skip
        except InvalidOperation:
            raise SettingsError(
                f"low_balance_alerts: {self.low_balance_alerts!r} is not a list of amounts such as 5,1"
            ) from None
        if any(not level.is_finite() or level <= 0 for level in levels):
            raise SettingsError("low_balance_alerts: amounts must be positive")
        return tuple(levels)

    def ensure_db_dir(self) -> None:
        """Create the folder of an SQLite database file if needed."""
        if self.db_url.startswith("sqlite:///") and self.db_url != "sqlite:///:memory:":
            Path(self.db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def check_gateways(settings: CollectorSettings) -> None:
    """Each configured gateway has all its files and the portal's address its notifications go to."""
    required = {
        "alipay": ("alipay_private_key_file", "alipay_public_key_file"),
        "wechatpay": ("wechatpay_appid", "wechatpay_private_key_file", "wechatpay_cert_serial",
                      "wechatpay_apiv3_key_file", "wechatpay_platform_cert_dir"),
    }  # fmt: skip
    enabled = {"alipay": settings.alipay_enabled, "wechatpay": settings.wechatpay_enabled}
    for gateway, names in required.items():
        if not enabled[gateway]:
            continue
        missing = [name for name in names if not getattr(settings, name)]
        if missing:
            raise SettingsError(f"{gateway} needs {', '.join(missing)}")
        if not settings.portal_url:
            raise SettingsError(f"{gateway} needs portal_url: notifications go to PORTAL/notify/{gateway}")
    if not timedelta(minutes=1) <= settings.gateway_order_ttl <= timedelta(days=1):
        raise SettingsError("gateway_order_ttl: from 1m to 1d, e.g. 15m")
