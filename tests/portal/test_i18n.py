"""Languages, formats and time zones of the viewer (portal/i18n.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from portal import i18n
from protos.rentmeter.v1 import common_pb2


@pytest.fixture
def as_viewer() -> Iterator[object]:
    tokens = []

    def use(**kwargs: object) -> i18n.Viewer:
        viewer = i18n.viewer_for(**kwargs)  # type: ignore[arg-type]
        tokens.append(i18n.use(viewer))
        return viewer

    yield use
    for token in reversed(tokens):
        i18n.reset(token)


@pytest.mark.parametrize(
    ("kwargs", "language", "formats"),
    [
        ({}, "en", "en"),
        ({"accept_language": "zh-CN,zh;q=0.9,en;q=0.8"}, "zh_CN", "zh_Hans_CN"),
        ({"accept_language": "de-DE,de;q=0.9,en;q=0.5"}, "en", "de_DE"),
        ({"accept_language": "en;q=0.2, zh-TW"}, "zh_CN", "zh_Hant_TW"),
        ({"accept_language": "fr;q=0, en-GB"}, "en", "en_GB"),
        ({"accept_language": "zh-CN", "chosen": "en"}, "en", "en"),
        ({"accept_language": "en", "account_locale": "zh-CN"}, "zh_CN", "zh_Hans_CN"),
        ({"accept_language": "en", "account_locale": "zh-CN", "chosen": "en"}, "en", "en"),
        ({"accept_language": "x-klingon;q=abc, !!"}, "en", "en"),
    ],
)
def test_language_and_formats(kwargs: dict[str, str], language: str, formats: str) -> None:
    viewer = i18n.viewer_for(**kwargs)
    assert (viewer.language, str(viewer.formats)) == (language, formats)


def test_time_zone_account_first_then_browser_then_utc() -> None:
    assert str(i18n.viewer_for(time_zones=("Asia/Shanghai", "Europe/Berlin")).time_zone) == "Asia/Shanghai"
    assert str(i18n.viewer_for(time_zones=("", "Europe/Berlin")).time_zone) == "Europe/Berlin"
    assert i18n.viewer_for(time_zones=("../../etc/passwd", "Not/AZone")).time_zone is UTC


@pytest.mark.parametrize(
    ("accept", "minor", "currency", "shown"),
    [
        ("zh-CN", 123450, "CNY", "¥1,234.50"),
        ("de-DE", 123450, "EUR", "1.234,50\xa0€"),  # CLDR's German: the sign after the amount
        ("en", 123450, "EUR", "€1,234.50"),
        ("en", 1234, "JPY", "¥1,234"),
        ("en", -5, "EUR", "-€0.05"),
    ],
)
def test_money_per_locale(as_viewer, accept: str, minor: int, currency: str, shown: str) -> None:  # type: ignore[no-untyped-def]
    as_viewer(accept_language=accept)
    assert i18n.format_money(common_pb2.Money(minor_units=minor, currency=currency)) == shown


def test_rates_durations_and_times_in_chinese(as_viewer) -> None:  # type: ignore[no-untyped-def]
    as_viewer(accept_language="zh-CN", time_zones=("Asia/Shanghai",))
    assert i18n.format_rate(common_pb2.Money(minor_units=3600, currency="CNY")) == "¥36.00/小时"
    assert i18n.format_duration(timedelta(hours=2, minutes=5, seconds=9)) == "2 小时 05 分"
    assert i18n.format_duration(timedelta(seconds=-3)) == "0 分 00 秒"
    assert i18n.format_time(datetime(2026, 11, 30, 12, 0, 7, tzinfo=UTC)) == "20:00:07"
    assert i18n.gettext("My rental") == "我的租用"


def test_english_durations(as_viewer) -> None:  # type: ignore[no-untyped-def]
    as_viewer()
    assert i18n.format_duration(timedelta(minutes=4, seconds=9)) == "4 min 09 s"
    assert i18n.format_duration(i18n.microseconds(3_723_000_000)) == "1 h 02 min"


@pytest.mark.parametrize(
    ("accept", "shown"),
    [
        ("en-US", "Nov 30, 2026, 10:54\u202fPM"),
        ("zh-CN", "2026年11月30日 22:54"),
        ("de-DE", "30.11.2026, 22:54"),
    ],
)
def test_moments_in_the_viewers_zone_and_words(as_viewer, accept: str, shown: str) -> None:  # type: ignore[no-untyped-def]
    as_viewer(accept_language=accept, time_zones=("Europe/Berlin",))
    assert i18n.format_datetime(datetime(2026, 11, 30, 21, 54, 59, tzinfo=UTC)) == shown
