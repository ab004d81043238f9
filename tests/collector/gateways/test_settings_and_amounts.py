"""Gateway settings refused when incomplete; amounts between fen and the gateways' yuan text, exactly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.config import CollectorSettings, SettingsError
from collector.payments.gateways.base import fen, yuan
from collector.payments.gateways.orders import out_trade_no


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RENTMETER_ALIPAY_APP_ID": "2021"}, "alipay needs alipay_private_key_file, alipay_public_key_file"),
        (
            {
                "RENTMETER_ALIPAY_APP_ID": "2021",
                "RENTMETER_ALIPAY_PRIVATE_KEY_FILE": "a.pem",
                "RENTMETER_ALIPAY_PUBLIC_KEY_FILE": "b.pem",
            },
            "alipay needs portal_url",
        ),
        ({"RENTMETER_WECHATPAY_MCHID": "1900000109"}, "wechatpay needs wechatpay_appid"),
        ({"RENTMETER_GATEWAY_ORDER_TTL": "2d"}, "gateway_order_ttl"),
    ],
)
def test_incomplete_gateway_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        CollectorSettings.from_env(env)


@settings(deadline=None)  # pure arithmetic; a loaded machine must not make it flaky
@given(st.integers(min_value=0, max_value=10**15))
def test_fen_and_yuan_round_trip(amount: int) -> None:
    assert fen(yuan(amount)) == amount


@pytest.mark.parametrize("text", ["1.234", "-1.00", "1e3x", "nan", "", "1,00"])
def test_amounts_beyond_fen_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        fen(text)


def test_out_trade_numbers_fit_both_gateways_and_name_their_attempt() -> None:
    first, second = (
        out_trade_no("alipay", "top_up", "alice:k1", 1),
        out_trade_no("alipay", "top_up", "alice:k1", 2),
    )
    assert first[:-2] == second[:-2] and (first[-2:], second[-2:]) == ("01", "02")
    assert out_trade_no("alipay", "invoice", "alice:k1", 1) != first and first.startswith("RMT")
    assert out_trade_no("wechatpay", "top_up", "alice:k1", 1) != first
    assert 6 <= len(first) <= 32 and first.isalnum()
