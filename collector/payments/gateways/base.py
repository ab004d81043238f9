"""What every asynchronous gateway offers, in gateway-neutral types: amounts are integer fen (CNY minor
units), never floats; out-trade numbers are ours, trade numbers the gateway's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Protocol

from collector.core.errors import CollectorError

CURRENCY = "CNY"
# Trade states as the query job and notifications see them.
PENDING, PAID, CLOSED, UNKNOWN = "pending", "paid", "closed", "unknown"
# Refund states.
REFUND_PENDING, REFUND_SUCCEEDED, REFUND_FAILED = "pending", "succeeded", "failed"
# How an order is paid: a QR code scanned by the payer's app, or a link opened in a browser; AGREEMENT:
# taken by the gateway under the renter's signed agreement (no payer present).
QR, PAGE, WAP, H5, AGREEMENT = "qr", "page", "wap", "h5", "agreement"
# What a gateway says of an agreement: signed (active), or ended (by the payer in the app, or by us).
AGREEMENT_SIGNED, AGREEMENT_ENDED = "signed", "ended"


class GatewayError(CollectorError):
    """The gateway refused or could not be reached; the message is its sentence."""


class GatewayUnreachable(GatewayError):
    """No answer (network, timeout, an answer that does not verify): what was asked may have happened."""


class NotificationRefused(CollectorError):
    """A notification whose signature, certificate or content does not verify: nothing is applied."""


def yuan(fen: int) -> str:
    """12345 -> "123.45", the gateways' decimal text."""
    if fen < 0:
        raise ValueError(f"an amount in fen is not negative: {fen}")
    return f"{fen // 100}.{fen % 100:02d}"


def fen(text: str) -> int:
    """ "123.45" -> 12345, exactly; ValueError for anything else (more than 2 decimals included)."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"not an amount: {text!r}") from None
    minor = value * 100
    if not value.is_finite() or minor != minor.to_integral_value() or value < 0:
        raise ValueError(f"not an amount in yuan with at most 2 decimals: {text!r}")
    return int(minor)


@dataclass(frozen=True)
class OrderRequest:
    out_trade_no: str
    subject: str
    amount_fen: int
    method: str
    expires_at: datetime
    client_ip: str = "127.0.0.1"  # WeChat Pay H5 wants the payer's address


@dataclass(frozen=True)
class Trade:
    """What the gateway says of an order (a query's answer or a verified notification)."""

    out_trade_no: str
    state: str  # PENDING, PAID, CLOSED, UNKNOWN (the gateway does not know it)
    amount_fen: int = 0
    trade_no: str = ""
    paid_at: datetime | None = None  # when the gateway says it was paid (its statement's day)


@dataclass(frozen=True)
class AgreementSign:
    """A request to sign an agreement: our number for it, the renter (shown to the payer) and where the
    gateway notifies the outcome."""

    external_no: str
    renter_id: str
    client_ip: str = "127.0.0.1"


@dataclass(frozen=True)
class AgreementNotice:
    """A verified agreement notification: `external_no` is ours, `agreement_no` the gateway's."""

    external_no: str
    agreement_no: str
    state: str  # AGREEMENT_SIGNED or AGREEMENT_ENDED


@dataclass(frozen=True)
class RefundRequest:
    out_trade_no: str
    out_refund_no: str
    amount_fen: int
    total_fen: int  # the order's amount (WeChat Pay wants it)
    reason: str = ""


@dataclass(frozen=True)
class Refund:
    out_refund_no: str
    state: str  # REFUND_PENDING, REFUND_SUCCEEDED, REFUND_FAILED
    refund_id: str = ""
    amount_fen: int = 0
    out_trade_no: str = ""


@dataclass(frozen=True)
class Notice:
    """A verified notification: of a payment (trade) or of a refund."""

    notify_id: str
    trade: Trade | None = None
    refund: Refund | None = None
    agreement: AgreementNotice | None = None


@dataclass(frozen=True)
class Reply:
    """What the HTTP endpoint answers the gateway."""

    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True)
class StatementLine:
    """One line of a gateway's daily statement: a payment or a refund, in fen."""

    kind: str  # "payment" or "refund"
    out_trade_no: str
    trade_no: str
    amount_fen: int
    out_refund_no: str = ""


class Gateway(Protocol):
    name: str
    methods: tuple[str, ...]

    def create(self, order: OrderRequest) -> str:
        """The QR code's content or the payment link; GatewayError when refused."""
        ...

    def query(self, out_trade_no: str) -> Trade: ...

    def close(self, out_trade_no: str) -> None: ...

    def refund(self, request: RefundRequest) -> Refund: ...

    def query_refund(self, out_trade_no: str, out_refund_no: str) -> Refund:
        """A refund's state; REFUND_FAILED when the gateway does not know it."""
        ...

    def verify(self, headers: Mapping[str, str], body: bytes, now: datetime) -> Notice:
        """The notification, once its signature verifies; NotificationRefused otherwise."""
        ...

    def accepted(self) -> Reply: ...

    def refused(self, reason: str) -> Reply: ...

    def statement(self, day: date) -> bytes:
        """The day's statement as the gateway serves it (download address from the SDK)."""
        ...

    def parse_statement(self, data: bytes) -> list[StatementLine]: ...


class AgreementGateway(Gateway, Protocol):
    """A gateway that takes payments under a signed agreement (Alipay agreement pay, WeChat Pay entrusted
    deduction), where the settings switch it on (`agreements`)."""

    agreements: bool

    def sign_url(self, request: AgreementSign) -> str:
        """The page (or QR code content) where the payer signs; GatewayError when refused."""
        ...

    def deduct(self, order: OrderRequest, agreement_no: str) -> Trade:
        """Take the order's amount under the agreement: PAID at once, PENDING (the outcome comes by
        notification or query), or GatewayError when refused (balance, agreement ended, ...)."""
        ...

    def unsign(self, external_no: str, agreement_no: str) -> None: ...
