"""The stand-ins' agreement APIs, signed and verified like the rest of them (standins.py):

- Alipay agreement pay (商家扣款): the signing page `alipay.user.agreement.page.sign` (opened by the payer's
  browser: its signature is checked like any request's), `alipay.trade.pay` with product GENERAL_WITHHOLDING
  and `agreement_params`, `alipay.user.agreement.unsign`, and the dut_user_sign / dut_user_unsign
  notifications signed with Alipay's key.
- WeChat Pay entrusted deduction (委托代扣, papay v3): pre-entrust-sign, transactions/apply (accepted, paid
  later), terminate, and the PAPAY.SIGN / PAPAY.TERMINATE notifications (signed, resource encrypted).
"""

from __future__ import annotations

import datetime as dt
import secrets
import urllib.parse
from typing import Any
from zoneinfo import ZoneInfo

from collector.payments.gateways.base import fen
from tests.collector.gateways.standins import AlipayStandIn, WeChatPayStandIn, rsa2_sign, rsa2_verify

CHINA = ZoneInfo("Asia/Shanghai")


class AgreementAlipayStandIn(AlipayStandIn):
    def __init__(self) -> None:
        super().__init__()
        self.agreements: dict[str, dict[str, Any]] = {}  # by external_agreement_no
        self.charges: list[str] = []  # out_trade_no of every agreement payment taken
        self.declined: set[str] = set()  # agreement numbers whose payer's balance is short
        self.paid_at: dt.datetime | None = None  # the payment time agreement pay answers (default: now)

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        split = urllib.parse.urlsplit(path)
        params = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
        if params.get("method") == "alipay.user.agreement.page.sign":
            return self._signing_page(params)
        return super().handle(method, path, headers, body)

    def _signing_page(self, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """What the payer's browser gets: the page, if the request's signature verifies."""
        self.requests.append(params["method"])
        signature = params.pop("sign", "")
        unsigned = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
        if not rsa2_verify(self.app_key.public_key(), unsigned, signature):
            self.refused.append(params["method"])
            return 400, {"Content-Type": "text/plain"}, b"invalid-signature"
        import json

        biz = json.loads(params["biz_content"])
        self.agreements[biz["external_agreement_no"]] = {
            **biz, "status": "TEMP", "notify_url": params.get("notify_url", "")}  # fmt: skip
        return 200, {"Content-Type": "text/html; charset=utf-8"}, "<h1>签约 支付宝</h1>".encode()

    def sign(self, external_no: str) -> dict[str, str]:
        """The payer signs on the page: the agreement is NORMAL; the dut_user_sign form Alipay POSTs."""
        agreement = self.agreements[external_no]
        agreement["status"], agreement["agreement_no"] = "NORMAL", "2026" + secrets.token_hex(8)
        return self.agreement_notification(external_no, "dut_user_sign")

    def agreement_notification(self, external_no: str, notify_type: str) -> dict[str, str]:
        agreement = self.agreements[external_no]
        form = {"notify_type": notify_type, "notify_id": secrets.token_hex(16), "app_id": self.app_id,
                "notify_time": "2026-11-30 12:00:00", "charset": "utf-8", "version": "1.0",
                "agreement_no": agreement["agreement_no"], "external_agreement_no": external_no,
                "status": agreement["status"], "personal_product_code": agreement["personal_product_code"],
                "sign_scene": agreement["sign_scene"], "alipay_user_id": "2088000000000001"}  # fmt: skip
        form["sign"] = rsa2_sign(self.platform_key, "&".join(f"{k}={v}" for k, v in sorted(form.items())))
        form["sign_type"] = "RSA2"
        return form

    def _by_agreement_no(self, agreement_no: str) -> dict[str, Any] | None:
        return next((a for a in self.agreements.values() if a.get("agreement_no") == agreement_no), None)

    def _alipay_trade_pay(self, biz: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        no = biz["out_trade_no"]
        agreement = self._by_agreement_no(biz.get("agreement_params", {}).get("agreement_no", ""))
        if biz.get("product_code") != "GENERAL_WITHHOLDING" or agreement is None:
            return {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.AGREEMENT_NOT_EXIST",
                    "sub_msg": "协议不存在"}  # fmt: skip
        if agreement["status"] != "NORMAL":
            return {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.AGREEMENT_STATUS_NOT_NORMAL",
                    "sub_msg": "协议已解约"}  # fmt: skip
        if agreement["agreement_no"] in self.declined:
            return {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.BUYER_BALANCE_NOT_ENOUGH",
                    "sub_msg": "买家余额不足"}  # fmt: skip
        if no in self.trades:  # the same out-trade number again: Alipay takes nothing more
            return {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_HAS_SUCCESS",
                    "sub_msg": "交易已被支付"}  # fmt: skip
        paid = (self.paid_at or dt.datetime.now(CHINA)).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
        trade = {"out_trade_no": no, "total_amount": biz["total_amount"], "trade_status": "TRADE_SUCCESS",
                 "trade_no": "2026" + secrets.token_hex(10), "send_pay_date": paid}  # fmt: skip
        self.trades[no] = trade
        self.charges.append(no)
        return {"code": "10000", "msg": "Success", "out_trade_no": no, "trade_no": trade["trade_no"],
                "total_amount": biz["total_amount"], "gmt_payment": paid}  # fmt: skip

    def _alipay_user_agreement_unsign(self, biz: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        agreement = self._by_agreement_no(biz.get("agreement_no", ""))
        if agreement is None:
            return {"code": "40004", "msg": "Business Failed", "sub_code": "USER_AGREEMENT_NOT_EXIST"}
        agreement["status"] = "UNSIGN"
        return {"code": "10000", "msg": "Success"}

    def total_taken(self) -> int:
        return sum(fen(self.trades[no]["total_amount"]) for no in self.charges)


class AgreementWeChatPayStandIn(WeChatPayStandIn):
    SIGN = "/v3/papay/sign/contracts/pre-entrust-sign"
    APPLY = "/v3/papay/pay/transactions/apply"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.contracts: dict[str, dict[str, Any]] = {}  # by out_contract_code
        self.deductions: list[str] = []
        self.declined: set[str] = set()  # contract ids whose deductions are refused

    def _route(self, method: str, path: str, data: dict[str, Any], split: Any) -> tuple[int, Any]:
        if method == "POST" and path == self.SIGN:
            self.contracts[data["out_contract_code"]] = {**data, "contract_state": "UNSIGNED"}
            return 200, {"pre_entrustweb_id": secrets.token_hex(8),
                         "redirect_url": f"https://api.mch.weixin.qq.com/papay/entrustweb?code={data['out_contract_code']}"}  # fmt: skip  # noqa: E501
        if method == "POST" and path == self.APPLY:
            return self._apply(data)
        if (
            method == "POST"
            and path.startswith("/v3/papay/sign/contracts/plan-id/")
            and path.endswith("/terminate")
        ):
            code = path.split("/out-contract-code/")[1].split("/")[0]
            if code not in self.contracts:
                return 404, {"code": "RESOURCE_NOT_EXISTS", "message": "签约协议不存在"}
            self.contracts[code]["contract_state"] = "TERMINATED"
            return 204, None
        return super()._route(method, path, data, split)

    def _apply(self, data: dict[str, Any]) -> tuple[int, Any]:
        contract = next(
            (c for c in self.contracts.values() if c.get("contract_id") == data["contract_id"]), None
        )
        if contract is None or contract["contract_state"] != "SIGNED":
            return 400, {"code": "CONTRACT_NOT_EXIST", "message": "委托代扣协议不存在或已解约"}
        if data["contract_id"] in self.declined:
            return 403, {"code": "NOTENOUGH", "message": "用户账户余额不足"}
        if data["out_trade_no"] in self.trades:
            return 400, {"code": "ORDER_ACCEPTED", "message": "该订单已受理"}
        self.trades[data["out_trade_no"]] = {
            "out_trade_no": data["out_trade_no"], "mchid": self.mchid, "appid": self.appid,
            "trade_state": "ACCEPT",
            "amount": {"total": data["amount"]["total"], "currency": "CNY"}}  # fmt: skip
        self.deductions.append(data["out_trade_no"])
        return 200, {"out_trade_no": data["out_trade_no"], "amount": data["amount"]}

    def sign(self, code: str) -> tuple[dict[str, str], bytes]:
        """The payer signs the contract: PAPAY.SIGN, as WeChat Pay notifies it."""
        contract = self.contracts[code]
        contract["contract_state"], contract["contract_id"] = "SIGNED", "2026" + secrets.token_hex(8)
        return self.contract_notification(code, "PAPAY.SIGN")

    def contract_notification(self, code: str, event_type: str) -> tuple[dict[str, str], bytes]:
        contract = self.contracts[code]
        resource = {"mchid": self.mchid, "appid": self.appid, "plan_id": contract["plan_id"],
                    "out_contract_code": code, "contract_id": contract["contract_id"],
                    "contract_state": contract["contract_state"], "openid": "o-stand-in"}  # fmt: skip
        return self.notification(event_type, resource)
