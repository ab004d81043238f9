"""WeChat Pay (微信支付) API v3 on `wechatpayv3` (extra rentmeter[wechatpay]): Native orders (a `code_url`
for a QR code) and H5 links, order query, close and refund, notifications (signature with the platform
certificate, then the resource decrypted with AES-256-GCM under the API v3 key), and the trade bill.

WeChat Pay v3 has no sandbox: `api_base` points the SDK at a local stand-in (tests). Platform
certificates are read from the configured folder (the SDK downloads them there when it is empty)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cryptography import x509

from collector.payments.gateways.base import (
    AGREEMENT_ENDED,
    AGREEMENT_SIGNED,
    CLOSED,
    H5,
    PAID,
    PENDING,
    QR,
    REFUND_FAILED,
    REFUND_PENDING,
    REFUND_SUCCEEDED,
    UNKNOWN,
    AgreementNotice,
    AgreementSign,
    GatewayError,
    GatewayUnreachable,
    Notice,
    NotificationRefused,
    OrderRequest,
    Refund,
    RefundRequest,
    Reply,
    StatementLine,
    Trade,
    fen,
)

logger = logging.getLogger(__name__)

CHINA = ZoneInfo("Asia/Shanghai")
# A notification older or newer than this (Wechatpay-Timestamp) is refused: a replay from long ago.
MAX_SKEW_S = 300
TRADE_STATES = {"SUCCESS": PAID, "REFUND": PAID, "NOTPAY": PENDING, "USERPAYING": PENDING,
                "CLOSED": CLOSED, "REVOKED": CLOSED, "PAYERROR": CLOSED}  # fmt: skip
REFUND_STATES = {"SUCCESS": REFUND_SUCCEEDED, "PROCESSING": REFUND_PENDING, "ABNORMAL": REFUND_FAILED,
                 "CLOSED": REFUND_FAILED}  # fmt: skip
# Entrusted deduction (委托代扣, papay) v3: the payer signs a contract of the merchant's plan (a QR code
# page), invoices are taken by "apply" (accepted, then notified like a payment).
PRE_SIGN = "/v3/papay/sign/contracts/pre-entrust-sign"
APPLY = "/v3/papay/pay/transactions/apply"
TERMINATE = "/v3/papay/sign/contracts/plan-id/{plan}/out-contract-code/{code}/terminate"
CONTRACT_STATES = {"SIGNED": AGREEMENT_SIGNED, "TERMINATED": AGREEMENT_ENDED, "UNSIGNED": AGREEMENT_ENDED}


class WeChatPayGateway:
    """One merchant (直连商户) of WeChat Pay API v3."""

    name = "wechatpay"
    methods: tuple[str, ...] = (QR, H5)

    def __init__(
        self,
        mchid: str,
        appid: str,
        private_key_pem: str,
        cert_serial: str,
        apiv3_key: str,
        platform_cert_dir: str,
        notify_url: str,
        *,
        api_base: str = "",
        papay_plan_id: int = 0,
    ) -> None:
        from wechatpayv3 import WeChatPay, WeChatPayType

        self._types = WeChatPayType
        self._mchid, self._appid, self._notify_url = mchid, appid, notify_url
        self._plan_id = papay_plan_id
        self.agreements = papay_plan_id > 0
        self._cert_dir = Path(platform_cert_dir)
        self._sdk = WeChatPay(
            wechatpay_type=WeChatPayType.NATIVE,
            mchid=mchid,
            private_key=private_key_pem,
            cert_serial_no=cert_serial,
            appid=appid,
            apiv3_key=apiv3_key,
            notify_url=notify_url,
            cert_dir=platform_cert_dir,
            logger=None,  # the SDK's debug log would print requests, headers and decrypted notifications
            timeout=(10, 30),
        )
        if api_base:
            # The SDK has no option for its address.
            self._sdk._core._gate_way = api_base.rstrip("/")

    def _call(self, what: str, call: Any) -> tuple[int, Any]:
        try:
            code, message = call()
        except Exception as exc:  # the SDK raises plain Exceptions (a bad answer signature included)
            raise GatewayUnreachable(f"WeChat Pay {what}: no answer: {exc}") from None
        if isinstance(message, str) and message:
            try:
                return int(code), json.loads(message)
            except ValueError:
                return int(code), {}
        return int(code), message

    def create(self, order: OrderRequest) -> str:
        if order.method not in self.methods:
            raise GatewayError(
                f"WeChat Pay has no {order.method!r} payment; use one of {', '.join(self.methods)}"
            )
        h5 = order.method == H5
        code, answer = self._call("order", lambda: self._sdk.pay(
            description=order.subject, out_trade_no=order.out_trade_no,
            amount={"total": order.amount_fen, "currency": "CNY"},
            time_expire=order.expires_at.astimezone(CHINA).isoformat(timespec="seconds"),
            scene_info={"payer_client_ip": order.client_ip, "h5_info": {"type": "Wap"}} if h5 else None,
            pay_type=self._types.H5 if h5 else self._types.NATIVE))  # fmt: skip
        url = answer.get("h5_url" if h5 else "code_url") if isinstance(answer, dict) else None
        if code != 200 or not url:
            raise GatewayError(f"WeChat Pay refused the order: {_sentence(answer)}")
        return str(url)

    def query(self, out_trade_no: str) -> Trade:
        code, answer = self._call("order query", lambda: self._sdk.query(out_trade_no=out_trade_no))
        if code == 404:
            return Trade(out_trade_no, UNKNOWN)
        if code != 200:
            raise GatewayError(f"WeChat Pay order query: {_sentence(answer)}")
        return _trade(answer)

    def close(self, out_trade_no: str) -> None:
        code, answer = self._call("order close", lambda: self._sdk.close(out_trade_no=out_trade_no))
        if code not in (200, 204, 404):
            raise GatewayError(f"WeChat Pay order close: {_sentence(answer)}")

    def refund(self, request: RefundRequest) -> Refund:
        code, answer = self._call("refund", lambda: self._sdk.refund(
            out_refund_no=request.out_refund_no, out_trade_no=request.out_trade_no,
            amount={"refund": request.amount_fen, "total": request.total_fen, "currency": "CNY"},
            reason=request.reason or None))  # fmt: skip
        if code != 200:
            raise GatewayError(f"WeChat Pay refused the refund: {_sentence(answer)}")
        return _refund(answer)

    def query_refund(self, out_trade_no: str, out_refund_no: str) -> Refund:
        code, answer = self._call("refund query", lambda: self._sdk.query_refund(out_refund_no=out_refund_no))
        if code == 404:
            return Refund(out_refund_no, REFUND_FAILED, "", 0, out_trade_no)
        if code != 200:
            raise GatewayError(f"WeChat Pay refund query: {_sentence(answer)}")
        return _refund(answer)

    def _papay(self, what: str, path: str, data: dict[str, Any]) -> tuple[int, Any]:
        """A papay call: wechatpayv3 has none, so through its signed request (the same Authorization, the
        answer's signature verified with the platform certificate)."""
        from wechatpayv3.type import RequestType

        return self._call(what, lambda: self._sdk._core.request(path, method=RequestType.POST, data=data))

    def sign_url(self, request: AgreementSign) -> str:
        device = {"device_type": "DEVICE_TYPE_UNKNOW", "device_os": "", "device_id": "",
                  "device_running_as_root": False, "device_ip": request.client_ip,
                  "weixin_installed": False, "weixin_version": "",
                  "days_since_first_login": "DAYS_SINCE_FIRST_LOGIN_UNKNOW"}  # fmt: skip
        code, answer = self._papay("contract signing", PRE_SIGN, {
            "sign_scene": "SIGN_SCENE_QRCODE", "appid": self._appid, "plan_id": self._plan_id,
            "out_contract_code": request.external_no, "contract_display_account": request.renter_id,
            "contract_notify_url": self._notify_url, "out_user_code": request.renter_id,
            "device_info": device})  # fmt: skip
        url = answer.get("redirect_url") if isinstance(answer, dict) else None
        if code != 200 or not url:
            raise GatewayError(f"WeChat Pay refused the contract: {_sentence(answer)}")
        return str(url)

    def deduct(self, order: OrderRequest, agreement_no: str) -> Trade:
        """Apply for the deduction: WeChat Pay accepts it and takes the money later (a TRANSACTION.SUCCESS
        notification, or the query job)."""
        code, answer = self._papay("deduction", APPLY, {
            "appid": self._appid, "out_trade_no": order.out_trade_no, "description": order.subject,
            "transaction_notify_url": self._notify_url, "contract_id": agreement_no,
            "amount": {"total": order.amount_fen, "currency": "CNY"}})  # fmt: skip
        if code not in (200, 204):
            raise GatewayError(f"WeChat Pay refused the deduction: {_sentence(answer)}")
        return Trade(order.out_trade_no, PENDING, order.amount_fen)

    def unsign(self, external_no: str, agreement_no: str) -> None:
        path = TERMINATE.format(plan=self._plan_id, code=external_no)
        code, answer = self._papay("contract termination", path, {
            "appid": self._appid, "contract_termination_remark": "cancelled by the renter"})  # fmt: skip
        if code not in (200, 204):
            raise GatewayError(f"WeChat Pay contract termination: {_sentence(answer)}")

    def verify(self, headers: Mapping[str, str], body: bytes, now: datetime) -> Notice:
        """Wechatpay-Timestamp within MAX_SKEW_S of now, the signature over timestamp, nonce and body with
        the platform certificate Wechatpay-Serial names, then the resource decrypted (AES-256-GCM, the
        API v3 key); then it must be for this merchant."""
        lowered = {key.lower(): value for key, value in headers.items()}
        try:
            stamp = int(lowered.get("wechatpay-timestamp", ""))
        except ValueError:
            raise NotificationRefused("no Wechatpay-Timestamp") from None
        if abs(now.timestamp() - stamp) > MAX_SKEW_S:
            raise NotificationRefused(f"Wechatpay-Timestamp {stamp} is more than 5 minutes away")
        if not lowered.get("wechatpay-signature"):
            raise NotificationRefused("no Wechatpay-Signature")
        self._check_serial(lowered.get("wechatpay-serial", ""))
        try:
            data = self._sdk.callback(lowered, body.decode("utf-8"))
        except Exception:  # the SDK raises plain Exceptions for unknown algorithms
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("resource"), dict):
            raise NotificationRefused("the signature or the encrypted resource does not verify")
        resource = data["resource"]
        if str(resource.get("mchid", self._mchid)) != self._mchid:
            raise NotificationRefused(f"for another merchant: {resource.get('mchid')!r}")
        event = str(data.get("event_type", ""))
        if event.startswith("PAPAY."):
            state = CONTRACT_STATES.get(str(resource.get("contract_state")), AGREEMENT_ENDED)
            agreement = AgreementNotice(str(resource.get("out_contract_code", "")),
                                        str(resource.get("contract_id", "")), state)  # fmt: skip
            return Notice(str(data.get("id", "")), agreement=agreement)
        if event.startswith("REFUND."):
            return Notice(str(data.get("id", "")), refund=_refund(resource))
        return Notice(str(data.get("id", "")), trade=_trade(resource))

    def _check_serial(self, serial: str) -> None:
        """The platform certificate must be one we hold. An unknown serial re-reads the certificate folder
        (a new certificate put there) but never makes the SDK download certificates: its download empties
        the certificates it holds first, so a forged serial could otherwise make it forget the real ones."""
        try:
            number = int(serial, 16)
        except ValueError:
            raise NotificationRefused(f"Wechatpay-Serial {serial[:64]!r} is not a serial number") from None
        core = self._sdk._core
        if number in {cert.serial_number for cert in core._certificates}:
            return
        found = _platform_certificates(self._cert_dir)
        if found:
            core._certificates[:] = found
        if number not in {cert.serial_number for cert in found}:
            raise NotificationRefused(f"no platform certificate with serial {serial[:64]} in the folder")

    def accepted(self) -> Reply:
        return Reply(200, "application/json", b'{"code":"SUCCESS","message":"OK"}')

    def refused(self, reason: str) -> Reply:
        body = json.dumps({"code": "FAIL", "message": reason[:200]}, ensure_ascii=False).encode()
        return Reply(400, "application/json", body)

    def statement(self, day: date) -> bytes:
        code, answer = self._call("trade bill", lambda: self._sdk.trade_bill(bill_date=day.isoformat()))
        if code != 200 or not isinstance(answer, dict):
            raise GatewayError(f"WeChat Pay trade bill of {day}: {_sentence(answer)}")
        code, content = self._call("bill download", lambda: self._sdk.download_bill(answer["download_url"]))
        if code != 200:
            raise GatewayError(f"WeChat Pay bill download of {day}: HTTP {code}")
        return content if isinstance(content, bytes) else json.dumps(content).encode()

    def parse_statement(self, data: bytes) -> list[StatementLine]:
        return parse_statement(data)


def _platform_certificates(folder: Path) -> list[x509.Certificate]:
    """The valid certificates among the folder's PEM files."""
    now = datetime.now(UTC)
    found = []
    for path in sorted(folder.glob("*.pem")):
        try:
            cert = x509.load_pem_x509_certificate(path.read_bytes())
        except (OSError, ValueError):
            continue
        if cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            found.append(cert)
    return found


def _trade(data: Mapping[str, Any]) -> Trade:
    amount = data.get("amount") or {}
    return Trade(str(data.get("out_trade_no", "")), TRADE_STATES.get(str(data.get("trade_state")), PENDING),
                 int(amount.get("total", 0)), str(data.get("transaction_id", "")),
                 _time(str(data.get("success_time", ""))))  # fmt: skip


def _time(text: str) -> datetime | None:
    """WeChat Pay's RFC 3339 time ("2026-11-30T23:59:59+08:00"), or None."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


def _refund(data: Mapping[str, Any]) -> Refund:
    amount = data.get("amount") or {}
    status = str(data.get("refund_status") or data.get("status") or "")  # a notification's, or an answer's
    return Refund(str(data.get("out_refund_no", "")), REFUND_STATES.get(status, REFUND_PENDING),
                  str(data.get("refund_id", "")), int(amount.get("refund", 0)),
                  str(data.get("out_trade_no", "")))  # fmt: skip


def _sentence(answer: Any) -> str:
    if isinstance(answer, dict):
        return f"{answer.get('message')} ({answer.get('code')})"
    return str(answer)[:200]


def parse_statement(data: bytes) -> list[StatementLine]:
    """WeChat Pay's trade bill (ALL): CSV, gzip or not, every value prefixed with a backquote; payments
    are SUCCESS lines, refunds REFUND lines (amounts in yuan, returned as fen); the totals at the end are
    skipped."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    if not rows:
        return []
    header = [cell.strip() for cell in rows[0]]
    lines: list[StatementLine] = []
    for row in rows[1:]:
        cells = [cell.strip().lstrip("`") for cell in row]
        if len(cells) < len(header):
            break  # the totals section
        field = dict(zip(header, cells, strict=False))
        status = field.get("交易状态", "")
        if status == "SUCCESS":
            lines.append(StatementLine("payment", field["商户订单号"], field["微信订单号"],
                                       fen(field.get("订单金额") or field["应结订单金额"])))  # fmt: skip
        elif status == "REFUND":
            lines.append(StatementLine("refund", field["商户订单号"], field["微信订单号"],
                                       fen(field.get("申请退款金额") or field["退款金额"]),
                                       field.get("商户退款单号", "")))  # fmt: skip
    return lines
