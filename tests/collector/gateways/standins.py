# ruff: noqa: E501, RUF001  (the gateways' own column names and full-width brackets, kept as they are)
"""Local stand-ins for Alipay's and WeChat Pay's HTTP APIs that sign and verify as the real ones do, with
keys and a platform certificate made here: requests must carry the merchant's valid signature (else the
stand-in refuses them), answers and notifications are signed with the platform's key.

    alipay = AlipayStandIn(); alipay.start()        # alipay.url for the SDK, alipay.app_key_pem, ...
    alipay.pay("RMT...01")                          # the payer scans and pays
    body = alipay.notification("RMT...01")          # the form Alipay would POST
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import gzip
import io
import json
import secrets
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

from collector.payments.gateways.base import fen, yuan


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()  # fmt: skip


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()  # fmt: skip


def rsa2_sign(key: rsa.RSAPrivateKey, text: str) -> str:
    return base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa2_verify(public: Any, text: str, signature: str) -> bool:
    try:
        public.verify(base64.b64decode(signature), text.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


class StandIn(ThreadingHTTPServer):
    """An HTTP server on a loopback port, on its own thread; subclasses answer `handle(method, path,
    headers, body) -> (status, headers, body)`."""

    def __init__(self) -> None:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, answer = stand_in.handle(self.command, self.path, dict(self.headers), body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = _any

            def log_message(self, format: str, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server_address[1]}"
        self.requests: list[str] = []
        self.refused: list[str] = []

    def start(self) -> None:
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError


class AlipayStandIn(StandIn):
    """Alipay's openapi gateway.do: precreate, page/wap pay, query, close, refund, statement address; every
    request's RSA2 signature is checked with the app's public key, every answer signed with Alipay's key."""

    def __init__(self, app_id: str = "2021000000000001") -> None:
        super().__init__()
        self.app_id = app_id
        self.app_key, self.platform_key = new_key(), new_key()
        self.app_key_pem, self.app_public_pem = private_pem(self.app_key), public_pem(self.app_key)
        self.platform_public_pem = public_pem(self.platform_key)
        self.url = self.base + "/gateway.do"
        self.trades: dict[str, dict[str, Any]] = {}
        self.refunds: list[dict[str, Any]] = []
        self.statement_csv = ""
        self.garbled: set[str] = set()  # methods whose next answer is signed with a wrong key (lost)

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        split = urllib.parse.urlsplit(path)
        if split.path == "/bill":
            return 200, {"Content-Type": "application/octet-stream"}, self.statement_csv.encode("gbk")
        params = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
        signature = params.pop("sign", "")
        unsigned = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
        api = params.get("method", "")
        self.requests.append(api)
        if (
            not rsa2_verify(self.app_key.public_key(), unsigned, signature)
            or params.get("app_id") != self.app_id
        ):
            self.refused.append(api)
            answer = {"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature"}
            return 200, {"Content-Type": "application/json"}, json.dumps({"error_response": answer}).encode()
        biz = json.loads(params.get("biz_content") or "{}")
        result = getattr(self, "_" + api.replace(".", "_"))(biz, params)
        rt = api.replace(".", "_") + "_response"
        inner = json.dumps(result, ensure_ascii=False, separators=(",", ":"))
        key = new_key() if api in self.garbled else self.platform_key
        self.garbled.discard(api)
        raw = f'{{"{rt}":{inner},"sign":"{rsa2_sign(key, inner)}"}}'
        return 200, {"Content-Type": "application/json;charset=utf-8"}, raw.encode()

    def _alipay_trade_precreate(self, biz: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        no = biz["out_trade_no"]
        self.trades.setdefault(
            no,
            {
                "out_trade_no": no,
                "total_amount": biz["total_amount"],
                "trade_status": "WAIT_BUYER_PAY",
                "notify_url": params.get("notify_url"),
            },
        )
        return {
            "code": "10000",
            "msg": "Success",
            "out_trade_no": no,
            "qr_code": f"https://qr.alipay.com/{no}",
        }

    def _alipay_trade_query(self, biz: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        trade = self.trades.get(biz.get("out_trade_no", ""))
        if trade is None:
            return {
                "code": "40004",
                "msg": "Business Failed",
                "sub_code": "ACQ.TRADE_NOT_EXIST",
                "sub_msg": "交易不存在",
            }
        return {"code": "10000", "msg": "Success", **{k: v for k, v in trade.items() if k != "notify_url"}}

    def _alipay_trade_close(self, biz: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        trade = self.trades.get(biz.get("out_trade_no", ""))
        if trade is None:
            return {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST"}
        trade["trade_status"] = "TRADE_CLOSED"
        return {"code": "10000", "msg": "Success", "out_trade_no": trade["out_trade_no"]}

    def _alipay_trade_refund(self, biz: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        trade = self.trades[biz["out_trade_no"]]
        done = sum(
            fen(r["refund_amount"]) for r in self.refunds if r["out_trade_no"] == trade["out_trade_no"]
        )
        if done + fen(biz["refund_amount"]) > fen(trade["total_amount"]):
            return {
                "code": "40004",
                "msg": "Business Failed",
                "sub_code": "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
                "sub_msg": "退款金额超限",
            }
        self.refunds.append(
            {
                "out_trade_no": trade["out_trade_no"],
                "refund_amount": biz["refund_amount"],
                "out_request_no": biz.get("out_request_no", ""),
            }
        )
        return {
            "code": "10000",
            "msg": "Success",
            "trade_no": trade.get("trade_no", ""),
            "fund_change": "Y",
            "refund_fee": yuan(done + fen(biz["refund_amount"])),
        }

    def _alipay_trade_fastpay_refund_query(
        self, biz: dict[str, Any], params: dict[str, str]
    ) -> dict[str, Any]:
        for refund in self.refunds:
            if refund["out_request_no"] == biz["out_request_no"]:
                return {
                    "code": "10000",
                    "msg": "Success",
                    "out_request_no": refund["out_request_no"],
                    "refund_amount": refund["refund_amount"],
                    "refund_status": "REFUND_SUCCESS",
                }
        return {"code": "10000", "msg": "Success"}

    def _alipay_data_dataservice_bill_downloadurl_query(
        self, biz: dict[str, Any], params: dict[str, str]
    ) -> dict[str, Any]:
        return {
            "code": "10000",
            "msg": "Success",
            "bill_download_url": f"{self.base}/bill?date={biz['bill_date']}",
        }

    def pay(self, out_trade_no: str) -> str:
        """The payer pays: the trade succeeds; its trade number."""
        trade = self.trades[out_trade_no]
        trade["trade_status"] = "TRADE_SUCCESS"
        trade["trade_no"] = "2026" + secrets.token_hex(10)
        return str(trade["trade_no"])

    def notification(self, out_trade_no: str, **overrides: str) -> dict[str, str]:
        """The form Alipay POSTs for a paid trade, signed (then `overrides` applied, unsigned: altered)."""
        trade = self.trades[out_trade_no]
        form = {"notify_time": "2026-11-30 12:00:00", "notify_type": "trade_status_sync",
                "notify_id": secrets.token_hex(16), "app_id": self.app_id, "charset": "utf-8", "version": "1.0",
                "trade_no": trade["trade_no"], "out_trade_no": out_trade_no,
                "trade_status": trade["trade_status"], "total_amount": trade["total_amount"],
                "receipt_amount": trade["total_amount"], "subject": "Wallet top-up"}  # fmt: skip
        if "gmt_payment" in trade:  # when the payer paid (China time)
            form["gmt_payment"] = trade["gmt_payment"]
        form["sign"] = rsa2_sign(self.platform_key, "&".join(f"{k}={v}" for k, v in sorted(form.items())))
        form["sign_type"] = "RSA2"
        form.update(overrides)
        return form

    def statement(self, lines: list[tuple[str, str, str, str, str]]) -> str:
        """An Alipay 业务明细 CSV: lines of (支付宝交易号, 商户订单号, 业务类型, 订单金额, 退款请求号)."""
        out = io.StringIO()
        out.write("#支付宝业务明细查询\n#账号：[20880000000000000156]\n")
        writer = csv.writer(out)
        writer.writerow(["支付宝交易号", "商户订单号", "业务类型", "商品名称", "创建时间", "完成时间", "门店编号",
                         "门店名称", "操作员", "终端号", "对方账户", "订单金额（元）", "商家实收（元）",
                         "支付宝红包（元）", "集分宝（元）", "支付宝优惠（元）", "商家优惠（元）", "券核销金额（元）",
                         "券名称", "商家红包消费金额（元）", "卡消费金额（元）", "退款批次号/请求号", "服务费（元）",
                         "分润（元）", "备注"])  # fmt: skip
        for trade_no, out_no, kind, amount, request_no in lines:
            writer.writerow([trade_no, out_no, kind, "top-up", "", "", "", "", "", "", "", amount, amount,
                             "0.00", "0.00", "0.00", "0.00", "0.00", "", "0.00", "0.00", request_no, "0.00",
                             "0.00", ""])  # fmt: skip
        out.write(
            "#-----------------------------------------业务明细列表结束------------------------------------\n"
        )
        return out.getvalue()


class WeChatPayStandIn(StandIn):
    """WeChat Pay API v3: Native and H5 orders, query, close, refund, trade bill; requests must carry the
    merchant's WECHATPAY2-SHA256-RSA2048 Authorization, answers and notifications are signed with the
    platform certificate's key, notification resources encrypted with AES-256-GCM under the API v3 key."""

    def __init__(self, cert_dir: Path, mchid: str = "1900000109", appid: str = "wxd678efh567hg6787") -> None:
        super().__init__()
        self.mchid, self.appid = mchid, appid
        self.merchant_key, self.platform_key = new_key(), new_key()
        self.merchant_key_pem = private_pem(self.merchant_key)
        self.merchant_serial = secrets.token_hex(20).upper()
        self.apiv3_key = secrets.token_hex(16)  # 32 characters
        self.certificate = self._certificate()
        self.platform_serial = format(self.certificate.serial_number, "X")
        cert_dir.mkdir(parents=True, exist_ok=True)
        (cert_dir / f"{self.platform_serial}.pem").write_bytes(
            self.certificate.public_bytes(serialization.Encoding.PEM)
        )
        self.trades: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.refund_status = "PROCESSING"
        self.bill_csv = ""

    def _certificate(self) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA stand-in")])
        now = dt.datetime.now(dt.UTC)
        return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self.platform_key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=365))
                .sign(self.platform_key, hashes.SHA256()))  # fmt: skip

    def signed_headers(self, body: str, timestamp: int | None = None) -> dict[str, str]:
        stamp, nonce = str(timestamp or int(dt.datetime.now(dt.UTC).timestamp())), secrets.token_hex(16)
        return {"Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": nonce, "Wechatpay-Serial": self.platform_serial,
                "Wechatpay-Signature": rsa2_sign(self.platform_key, f"{stamp}\n{nonce}\n{body}\n"),
                "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048"}  # fmt: skip

    def _authorized(self, method: str, path: str, headers: dict[str, str], body: bytes) -> bool:
        value = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        scheme, _, rest = value.partition(" ")
        fields = dict(part.split("=", 1) for part in rest.split(","))
        fields = {k: v.strip('"') for k, v in fields.items()}
        text = f"{method}\n{path}\n{fields.get('timestamp')}\n{fields.get('nonce_str')}\n{body.decode()}\n"
        return (scheme == "WECHATPAY2-SHA256-RSA2048" and fields.get("mchid") == self.mchid
                and fields.get("serial_no") == self.merchant_serial
                and rsa2_verify(self.merchant_key.public_key(), text, fields.get("signature", "")))  # fmt: skip

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        self.requests.append(f"{method} {path}")
        if not self._authorized(method, path, headers, body):
            self.refused.append(path)
            return (
                401,
                {"Content-Type": "application/json"},
                b'{"code":"SIGN_ERROR","message":"bad signature"}',
            )
        split = urllib.parse.urlsplit(path)
        if split.path == "/v3/billdownload/file":
            return 200, {"Content-Type": "application/octet-stream"}, gzip.compress(self.bill_csv.encode())
        status, answer = self._route(method, split.path, json.loads(body or b"{}"), split)
        text = json.dumps(answer, ensure_ascii=False) if answer is not None else ""
        return status, {"Content-Type": "application/json", **self.signed_headers(text)}, text.encode()

    def _route(self, method: str, path: str, data: dict[str, Any], split: Any) -> tuple[int, Any]:
        prefix = "/v3/pay/transactions/out-trade-no/"
        if method == "POST" and path in ("/v3/pay/transactions/native", "/v3/pay/transactions/h5"):
            no = data["out_trade_no"]
            self.trades.setdefault(no, {"out_trade_no": no, "mchid": self.mchid, "appid": self.appid,
                                        "trade_state": "NOTPAY", "amount": {"total": data["amount"]["total"],
                                                                            "currency": "CNY"}})  # fmt: skip
            if path.endswith("h5"):
                return 200, {"h5_url": f"https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id={no}"}
            return 200, {"code_url": f"weixin://wxpay/bizpayurl?pr={no}"}
        if path.startswith(prefix) and path.endswith("/close"):
            trade = self.trades.get(path[len(prefix) : -len("/close")])
            if trade is not None:
                trade["trade_state"] = "CLOSED"
            return 204, None
        if method == "GET" and path.startswith(prefix):
            trade = self.trades.get(path[len(prefix) :])
            if trade is None:
                return 404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"}
            return 200, trade
        if path == "/v3/refund/domestic/refunds":
            return self._refund(data)
        if method == "GET" and path.startswith("/v3/refund/domestic/refunds/"):
            refund = self.refunds.get(path.rsplit("/", 1)[1])
            return (
                (200, refund) if refund else (404, {"code": "RESOURCE_NOT_EXISTS", "message": "退款单不存在"})
            )
        if path == "/v3/bill/tradebill":
            return 200, {
                "download_url": f"{self.base}/v3/billdownload/file?token={secrets.token_hex(4)}",
                "hash_type": "SHA1",
                "hash_value": "",
            }
        return 404, {"code": "NOT_FOUND", "message": path}

    def _refund(self, data: dict[str, Any]) -> tuple[int, Any]:
        trade = self.trades[data["out_trade_no"]]
        done = sum(
            r["amount"]["refund"] for r in self.refunds.values() if r["out_trade_no"] == trade["out_trade_no"]
        )
        if done + data["amount"]["refund"] > trade["amount"]["total"]:
            return 400, {"code": "INVALID_REQUEST", "message": "退款金额超过订单金额"}
        refund = {"refund_id": "50" + secrets.token_hex(8), "out_refund_no": data["out_refund_no"],
                  "out_trade_no": trade["out_trade_no"], "transaction_id": trade.get("transaction_id", ""),
                  "status": self.refund_status, "amount": {"refund": data["amount"]["refund"],
                                                           "total": trade["amount"]["total"], "currency": "CNY"}}  # fmt: skip
        self.refunds[data["out_refund_no"]] = refund
        return 200, refund

    def pay(self, out_trade_no: str) -> str:
        trade = self.trades[out_trade_no]
        trade["trade_state"] = "SUCCESS"
        trade["transaction_id"] = "4200" + secrets.token_hex(10)
        return str(trade["transaction_id"])

    def notification(
        self, event_type: str, resource: dict[str, Any], timestamp: int | None = None
    ) -> tuple[dict[str, str], bytes]:
        """(headers, body) of a notification: the resource encrypted, the body signed."""
        nonce, associated = (
            secrets.token_hex(6),
            "transaction" if event_type.startswith("TRANSACTION") else "refund",
        )
        ciphertext = AESGCM(self.apiv3_key.encode()).encrypt(
            nonce.encode(), json.dumps(resource).encode(), associated.encode()
        )
        body = json.dumps({"id": secrets.token_hex(16), "create_time": "2026-11-30T12:00:00+08:00",
                           "resource_type": "encrypt-resource", "event_type": event_type, "summary": "支付成功",
                           "resource": {"original_type": associated, "algorithm": "AEAD_AES_256_GCM",
                                        "ciphertext": base64.b64encode(ciphertext).decode(),
                                        "associated_data": associated, "nonce": nonce}})  # fmt: skip
        return self.signed_headers(body, timestamp), body.encode()

    def paid_notification(
        self, out_trade_no: str, timestamp: int | None = None
    ) -> tuple[dict[str, str], bytes]:
        return self.notification("TRANSACTION.SUCCESS", self.trades[out_trade_no], timestamp)

    def bill(self, lines: list[tuple[str, str, str, str, str, str]]) -> str:
        """A trade bill: lines of (微信订单号, 商户订单号, 交易状态, 订单金额, 商户退款单号, 退款金额)."""
        header = ["交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识",
                  "交易类型", "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "微信退款单号",
                  "商户退款单号", "退款金额", "充值券退款金额", "退款类型", "退款状态", "商品名称", "商户数据包",
                  "手续费", "费率", "订单金额", "申请退款金额", "费率备注"]  # fmt: skip
        rows = [",".join(header)]
        for trade_no, out_no, status, amount, refund_no, refund in lines:
            cells = ["2026-11-30 12:00:00", self.appid, self.mchid, "0", "", trade_no, out_no, "o", "NATIVE",
                     status, "OTHERS", "CNY", amount, "0.00", "", refund_no, refund, "0.00", "", "", "top-up",
                     "", "0.00", "0.60%", amount, refund, ""]  # fmt: skip
            rows.append(",".join("`" + c for c in cells))
        rows += ["总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额",
                 f"`{len(lines)},`0.00,`0.00,`0.00,`0.00,`0.00,`0.00"]  # fmt: skip
        return "\n".join(rows) + "\n"
