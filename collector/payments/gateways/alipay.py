"""Alipay (支付宝) on `python-alipay-sdk` (extra rentmeter[alipay]), RSA2: precreate for a QR code, page and
wap pay links, trade query, close and refund, the asynchronous notification's signature check with Alipay's
public key, and the daily trade statement (`alipay.data.dataservice.bill.downloadurl.query`).

Alipay refunds answer at once (no refund notification is needed); a notification that carries a refund
(`out_biz_no`, `refund_fee`) is read as one all the same."""

from __future__ import annotations

import csv
import io
import logging
import urllib.request
import zipfile
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from collector.payments.gateways.base import (
    AGREEMENT_ENDED,
    AGREEMENT_SIGNED,
    CLOSED,
    PAGE,
    PAID,
    PENDING,
    QR,
    REFUND_FAILED,
    REFUND_SUCCEEDED,
    UNKNOWN,
    WAP,
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
    yuan,
)

logger = logging.getLogger(__name__)

SANDBOX = "https://openapi-sandbox.dl.alipaydev.com/gateway.do"
PRODUCTION = "https://openapi.alipay.com/gateway.do"
CHINA = ZoneInfo("Asia/Shanghai")
SUCCESS_CODE = "10000"
TRADE_STATES = {
    "WAIT_BUYER_PAY": PENDING,
    "TRADE_SUCCESS": PAID,
    "TRADE_FINISHED": PAID,
    "TRADE_CLOSED": CLOSED,
}
PAY_METHODS = {PAGE: "api_alipay_trade_page_pay", WAP: "api_alipay_trade_wap_pay"}
# Agreement pay (商家扣款): the payer signs GENERAL_WITHHOLDING_P1, invoices are taken as GENERAL_WITHHOLDING.
PERSONAL_PRODUCT, PRODUCT = "GENERAL_WITHHOLDING_P1", "GENERAL_WITHHOLDING"
AGREEMENT_NOTICES = {"dut_user_sign": AGREEMENT_SIGNED, "dut_user_unsign": AGREEMENT_ENDED}


class AlipayGateway:
    """One Alipay app. `api_base` points the SDK at another gateway address (a local stand-in)."""

    name = "alipay"
    methods: tuple[str, ...] = (QR, PAGE, WAP)

    def __init__(
        self,
        app_id: str,
        private_key_pem: str,
        alipay_public_key_pem: str,
        notify_url: str,
        *,
        sandbox: bool = False,
        api_base: str = "",
        agreements: bool = False,
        sign_scene: str = "INDUSTRY|DIGITAL_MEDIA",
    ) -> None:
        from alipay import AliPay
        from alipay.utils import AliPayConfig

        self._app_id = app_id
        self._notify_url = notify_url
        self.agreements = agreements
        self._sign_scene = sign_scene
        self._sdk = AliPay(
            appid=app_id,
            app_notify_url=notify_url,
            app_private_key_string=private_key_pem,
            alipay_public_key_string=alipay_public_key_pem,
            sign_type="RSA2",
            debug=sandbox,
            config=AliPayConfig(timeout=15),
        )
        # The SDK has no option for its address; its own sandbox switch sets this attribute too.
        self.gateway_url = api_base or (SANDBOX if sandbox else PRODUCTION)
        self._sdk._gateway = self.gateway_url

    def _call(self, what: str, call: Any) -> dict[str, Any]:
        from alipay.exceptions import AliPayException, AliPayValidationError

        try:
            answer: dict[str, Any] = call()
        except AliPayValidationError:
            raise GatewayUnreachable(
                f"Alipay's answer to {what} did not verify with its public key"
            ) from None
        except AliPayException as exc:
            raise GatewayError(f"Alipay {what} failed: {exc}") from None
        except (OSError, ValueError) as exc:
            raise GatewayUnreachable(f"Alipay {what}: no answer: {exc}") from None
        return answer

    def create(self, order: OrderRequest) -> str:
        extra = {"time_expire": order.expires_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")}
        if order.method == QR:
            answer = self._call("precreate", lambda: self._sdk.api_alipay_trade_precreate(
                order.subject, order.out_trade_no, yuan(order.amount_fen), **extra))  # fmt: skip
            if answer.get("code") != SUCCESS_CODE:
                raise GatewayError(f"Alipay refused the order: {_sentence(answer)}")
            return str(answer["qr_code"])
        if order.method not in PAY_METHODS:
            raise GatewayError(
                f"Alipay has no {order.method!r} payment; use one of {', '.join(self.methods)}"
            )
        signed = getattr(self._sdk, PAY_METHODS[order.method])(
            order.subject, order.out_trade_no, yuan(order.amount_fen), **extra
        )
        return f"{self.gateway_url}?{signed}"

    def query(self, out_trade_no: str) -> Trade:
        answer = self._call(
            "trade query", lambda: self._sdk.api_alipay_trade_query(out_trade_no=out_trade_no)
        )
        if answer.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
            return Trade(out_trade_no, UNKNOWN)
        if answer.get("code") != SUCCESS_CODE:
            raise GatewayError(f"Alipay trade query: {_sentence(answer)}")
        return Trade(out_trade_no, TRADE_STATES.get(str(answer.get("trade_status")), PENDING),
                     fen(str(answer.get("total_amount", "0"))), str(answer.get("trade_no", "")),
                     china_time(str(answer.get("send_pay_date", ""))))  # fmt: skip

    def close(self, out_trade_no: str) -> None:
        answer = self._call(
            "trade close", lambda: self._sdk.api_alipay_trade_close(out_trade_no=out_trade_no)
        )
        if answer.get("code") != SUCCESS_CODE and answer.get("sub_code") != "ACQ.TRADE_NOT_EXIST":
            raise GatewayError(f"Alipay trade close: {_sentence(answer)}")

    def refund(self, request: RefundRequest) -> Refund:
        answer = self._call("refund", lambda: self._sdk.api_alipay_trade_refund(
            yuan(request.amount_fen), out_trade_no=request.out_trade_no, out_request_no=request.out_refund_no,
            refund_reason=request.reason or "refund"))  # fmt: skip
        if answer.get("code") != SUCCESS_CODE:
            raise GatewayError(f"Alipay refused the refund: {_sentence(answer)}")
        return Refund(request.out_refund_no, REFUND_SUCCEEDED, str(answer.get("trade_no", "")),
                      request.amount_fen, request.out_trade_no)  # fmt: skip

    def query_refund(self, out_trade_no: str, out_refund_no: str) -> Refund:
        answer = self._call("refund query", lambda: self._sdk.api_alipay_trade_fastpay_refund_query(
            out_refund_no, out_trade_no=out_trade_no))  # fmt: skip
        if answer.get("code") != SUCCESS_CODE:
            raise GatewayError(f"Alipay refund query: {_sentence(answer)}")
        if not answer.get("refund_amount"):  # Alipay does not know it: it never happened
            return Refund(out_refund_no, REFUND_FAILED, "", 0, out_trade_no)
        return Refund(out_refund_no, REFUND_SUCCEEDED, str(answer.get("trade_no", "")),
                      fen(str(answer["refund_amount"])), out_trade_no)  # fmt: skip

    def sign_url(self, request: AgreementSign) -> str:
        """The agreement's signing page (alipay.user.agreement.page.sign), its link also the QR code the
        payer scans; the outcome comes as a dut_user_sign notification."""
        biz = {"personal_product_code": PERSONAL_PRODUCT, "product_code": PRODUCT,
               "sign_scene": self._sign_scene, "external_agreement_no": request.external_no,
               "external_logon_id": request.renter_id, "access_params": {"channel": "QRCODE"}}  # fmt: skip
        signed = self._sdk.client_api("alipay.user.agreement.page.sign", biz, notify_url=self._notify_url)
        return f"{self.gateway_url}?{signed}"

    def deduct(self, order: OrderRequest, agreement_no: str) -> Trade:
        """alipay.trade.pay under the agreement (product GENERAL_WITHHOLDING, agreement_params): Alipay
        answers at once (10000 paid; 10003 waiting, then notified)."""
        biz = {"out_trade_no": order.out_trade_no, "total_amount": yuan(order.amount_fen),
               "subject": order.subject, "product_code": PRODUCT,
               "agreement_params": {"agreement_no": agreement_no}}  # fmt: skip
        answer = self._call("agreement pay", lambda: self._sdk.server_api(
            "alipay.trade.pay", biz, notify_url=self._notify_url))  # fmt: skip
        if answer.get("code") == "10003":
            return Trade(order.out_trade_no, PENDING, order.amount_fen)
        if answer.get("code") != SUCCESS_CODE:
            raise GatewayError(f"Alipay refused the agreement payment: {_sentence(answer)}")
        return Trade(order.out_trade_no, PAID, fen(str(answer.get("total_amount", "0"))),
                     str(answer.get("trade_no", "")),
                     china_time(str(answer.get("gmt_payment", ""))))  # fmt: skip

    def unsign(self, external_no: str, agreement_no: str) -> None:
        biz = {"agreement_no": agreement_no, "personal_product_code": PERSONAL_PRODUCT,
               "sign_scene": self._sign_scene}  # fmt: skip
        answer = self._call(
            "agreement unsign", lambda: self._sdk.server_api("alipay.user.agreement.unsign", biz)
        )
        if answer.get("code") != SUCCESS_CODE:
            raise GatewayError(f"Alipay agreement unsign: {_sentence(answer)}")

    def verify(self, headers: Mapping[str, str], body: bytes, now: datetime) -> Notice:
        """Alipay's POSTed form: RSA2 over the sorted parameters but sign and sign_type, with Alipay's public
        key; then it must be for this app."""
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            raise NotificationRefused("not a form") from None
        data = dict(pairs)
        if len(data) != len(pairs):
            raise NotificationRefused("a parameter is repeated")
        signature = data.pop("sign", "")
        if not signature or data.get("sign_type", "RSA2") != "RSA2":
            raise NotificationRefused("no RSA2 signature")
        try:
            verified = self._sdk.verify(dict(data), signature)
        except Exception:  # the SDK raises plain errors for malformed signatures
            verified = False
        if not verified:
            raise NotificationRefused("the signature does not verify with Alipay's public key")
        if data.get("app_id") != self._app_id:
            raise NotificationRefused(f"for another app: {data.get('app_id')!r}")
        return _notice(data)

    def accepted(self) -> Reply:
        return Reply(200, "text/plain", b"success")

    def refused(self, reason: str) -> Reply:
        return Reply(400, "text/plain", b"failure")

    def statement(self, day: date) -> bytes:
        answer = self._call("statement address", lambda: self._sdk.server_api(
            "alipay.data.dataservice.bill.downloadurl.query",
            {"bill_type": "trade", "bill_date": day.isoformat()}))  # fmt: skip
        if answer.get("code") != SUCCESS_CODE:
            raise GatewayError(f"Alipay statement of {day}: {_sentence(answer)}")
        with urllib.request.urlopen(str(answer["bill_download_url"]), timeout=60) as response:
            return bytes(response.read())

    def parse_statement(self, data: bytes) -> list[StatementLine]:
        return parse_statement(data)


def china_time(text: str) -> datetime | None:
    """Alipay's "2026-11-30 23:59:59" (China Standard Time), or None."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
    except ValueError:
        return None


def _notice(data: Mapping[str, str]) -> Notice:
    out_trade_no = data.get("out_trade_no", "")
    if data.get("notify_type") in AGREEMENT_NOTICES:
        agreement = AgreementNotice(data.get("external_agreement_no", ""), data.get("agreement_no", ""),
                                    AGREEMENT_NOTICES[data["notify_type"]])  # fmt: skip
        return Notice(data.get("notify_id", ""), agreement=agreement)
    try:
        if data.get("out_biz_no") and data.get("refund_fee"):
            refund = Refund(data["out_biz_no"], REFUND_SUCCEEDED, data.get("trade_no", ""),
                            fen(data["refund_fee"]), out_trade_no)  # fmt: skip
            return Notice(data.get("notify_id", ""), refund=refund)
        state = TRADE_STATES.get(data.get("trade_status", ""), PENDING)
        trade = Trade(
            out_trade_no,
            state,
            fen(data.get("total_amount", "0")),
            data.get("trade_no", ""),
            china_time(data.get("gmt_payment", "")),
        )
    except ValueError as exc:
        raise NotificationRefused(str(exc)) from None
    return Notice(data.get("notify_id", ""), trade=trade)


def _sentence(answer: Mapping[str, Any]) -> str:
    return f"{answer.get('sub_msg') or answer.get('msg')} ({answer.get('sub_code') or answer.get('code')})"


def parse_statement(data: bytes) -> list[StatementLine]:
    """The 业务明细 (details) of Alipay's trade statement: a zip of GBK CSV files, or one such CSV (a
    file kept for offline use). Payments are 交易 lines, refunds 退款 lines (amounts as positive fen)."""
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n for n in archive.namelist() if "汇总" not in n and n.lower().endswith(".csv")]
            data = b"".join(archive.read(name) for name in names)
    text = _decode(data)
    lines: list[StatementLine] = []
    header: list[str] | None = None
    for row in csv.reader(io.StringIO(text)):
        cells = [cell.strip() for cell in row]
        if not cells or cells[0].startswith("#"):
            continue
        if cells[0] == "支付宝交易号":
            header = cells
            continue
        if header is None or len(cells) < len(header):
            continue
        field = dict(zip(header, cells, strict=False))
        kind = {"交易": "payment", "退款": "refund"}.get(field.get("业务类型", ""))
        if kind is None:
            continue
        amount = fen(field.get("订单金额（元）", "0").lstrip("-"))  # noqa: RUF001  (Alipay's column name)
        request_no = field.get("退款批次号/请求号", "") if kind == "refund" else ""
        lines.append(
            StatementLine(kind, field.get("商户订单号", ""), field["支付宝交易号"], amount, request_no)
        )
    return lines


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gbk")
