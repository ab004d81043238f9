"""`rentmeter payments`: a QR code in the terminal, the order, a refund and an offline reconciliation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from collector.server import Collector
from rentmeter.cli import main
from tests.collector.gateways.agreement_standins import AgreementAlipayStandIn
from tests.collector.gateways.helpers import balance, renter
from tests.collector.gateways.standins import AlipayStandIn


def run(collector: Collector, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["--collector", f"127.0.0.1:{collector.port}", *argv])
    return code, capsys.readouterr().out


def test_pay_by_qr_in_the_terminal_refund_and_reconcile_from_a_file(
    collector: Collector,
    alipay: AlipayStandIn,
    gateway_http: httpx.Client,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    mei = renter(collector, "mei")
    code, out = run(collector, capsys, "payments", "pay", mei, "9.90", "--gateway", "alipay")
    assert code == 0 and "▄" in out  # the QR code, in half blocks
    out_trade_no = out.split(":")[0]
    assert f"https://qr.alipay.com/{out_trade_no}" in out and "created" in out
    alipay.pay(out_trade_no)
    assert gateway_http.post("/notify/alipay", data=alipay.notification(out_trade_no)).text == "success"
    code, out = run(collector, capsys, "payments", "order", out_trade_no, "--output", "json")
    assert code == 0 and json.loads(out)["state"] == "paid"
    code, out = run(collector, capsys, "payments", "refund", out_trade_no, "0.90", "--reason", "rounding")
    assert code == 0 and "succeeded" in out and balance(collector, mei) == 900
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    trade_no = alipay.trades[out_trade_no]["trade_no"]
    statement = tmp_path / "alipay.csv"
    lines = [(trade_no, out_trade_no, "交易", "9.90", ""), (trade_no, out_trade_no, "退款", "-0.90", "R-x")]
    statement.write_bytes(alipay.statement(lines).encode("gbk"))
    code, out = run(collector, capsys, "payments", "reconcile", "--gateway", "alipay", "--date", today,
                    "--file", str(statement))  # fmt: skip
    assert code == 1 and "1 lines match; 1 mismatches" in out and "refund_not_recorded R-x" in out
    code, out = run(collector, capsys, "payments", "resolve", out.split("#")[1].split()[0], "accept",
                    "--note", "refund made by hand in Alipay's console")  # fmt: skip
    assert code == 0 and "resolved: accept" in out
    code, out = run(collector, capsys, "payments", "mismatches")
    assert "0 mismatches" in out


def test_an_agreement_signed_listed_and_cancelled_from_the_command_line(
    collector: Collector,
    alipay: AgreementAlipayStandIn,
    gateway_http: httpx.Client,
    capsys: pytest.CaptureFixture[str],
) -> None:
    renter(collector, "vic")
    code, out = run(collector, capsys, "payments", "agreement", "sign", "vic", "--gateway", "alipay")
    assert code == 0 and "vic by alipay" in out and "signing" in out
    link = out.strip().splitlines()[-1]
    assert link.startswith(alipay.url + "?") and any(block in out for block in "▀▄█")  # link and QR code
    assert httpx.get(link).status_code == 200  # the signing page: its signature verifies
    (external_no,) = alipay.agreements
    assert gateway_http.post("/notify/alipay", data=alipay.sign(external_no)).text == "success"
    code, out = run(collector, capsys, "payments", "agreement", "list", "--renter", "vic")
    assert code == 0 and "active" in out
    agreement_id = out.split(":", 1)[0]
    code, out = run(collector, capsys, "payments", "agreement", "cancel", agreement_id)
    assert code == 0 and "cancelled" in out and alipay.agreements[external_no]["status"] == "UNSIGN"
    code, _ = run(collector, capsys, "payments", "agreement", "cancel", agreement_id)
    assert code != 0  # cancelled already: one sentence, a non-zero exit
