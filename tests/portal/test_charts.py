"""Charts from the API's usage series: percent, traffic per second, gaps where the machine was silent, one
line per GPU, values in the viewer's conventions, and the JSON static/charts.js draws."""

from __future__ import annotations

import contextvars
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel import Locale
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from portal import i18n
from portal.charts import NO_VALUE, Line, major_units, money_chart, usage_charts
from protos.rentmeter.v1 import usage_pb2

START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def point(
    minute: int, covered: bool, cpu: float = 0.0, rx: int = 0, gpus: tuple[float, ...] = ()
) -> usage_pb2.UsagePoint:
    start = Timestamp()
    start.FromDatetime(START + timedelta(minutes=minute))
    return usage_pb2.UsagePoint(
        start=start, covered_us=60_000_000 if covered else 0, cpu_utilization=cpu, net_rx_bytes=rx,
        net_tx_bytes=rx // 2,
        gpus=[usage_pb2.GpuUsage(index=i, average_utilization_percent=u) for i, u in enumerate(gpus)],
    )  # fmt: skip


def series(*points: usage_pb2.UsagePoint) -> usage_pb2.UsageSeries:
    return usage_pb2.UsageSeries(agent_id="m1", step=Duration(seconds=60), points=points)


def viewing(language: str, zone: str = "Asia/Shanghai") -> contextvars.Token[i18n.Viewer]:
    return i18n.use(i18n.Viewer(language, Locale.parse(language), ZoneInfo(zone)))


def test_usage_becomes_percent_and_bytes_per_second_with_gaps_where_silent() -> None:
    token = viewing("en")
    try:
        utilisation, traffic = usage_charts(
            series(point(0, True, 0.5, 6_000_000, (80.0,)), point(1, False), point(2, True, 0.25, 60))
        )
    finally:
        i18n.reset(token)
    assert [line.label for line in utilisation.lines] == ["CPU", "GPU 0"]
    assert utilisation.lines[0].values == [50.0, None, 25.0]
    assert utilisation.lines[1].values == [80.0, None, None]  # the third step reported no GPU
    assert [line.label for line in traffic.lines] == ["Received", "Sent"]
    assert traffic.lines[0].values == [100_000.0, None, 1.0]  # 6 MB in 60 s
    assert usage_charts(series()) == []


def test_figures_in_the_viewers_language_zone_and_money() -> None:
    token = viewing("zh_CN")
    try:
        utilisation, traffic = usage_charts(series(point(0, True, 0.123, 61_500_000)))
        assert utilisation.title == "利用率"
        when, values = utilisation.rows()[0]
        assert "20:00" in when  # 12:00 UTC in Shanghai
        assert values == ["12.3%"]
        assert traffic.rows()[0][1] == ["1 MB/s", "512.5 kB/s"]
        spec = json.loads(utilisation.data_json())
        assert spec["zone"] == "Asia/Shanghai" and spec["unit"] == "percent"
        assert spec["x"] == [int(START.timestamp())] and spec["ys"] == [[12.3]]
        earnings = money_chart("收入", "CNY", [START], [Line("m1", [major_units(123450, "CNY")])])
        assert earnings.rows()[0][1] == ["¥1,234.50"] and earnings.format(None) == NO_VALUE
    finally:
        i18n.reset(token)
