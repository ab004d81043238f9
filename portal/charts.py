"""Charts: time series that a page draws with uPlot (static/charts.js) and lists as a table for readers
without JavaScript or sight of the plot.

A page builds `Chart`s here and shows each with the `chart` macro of templates/_charts.html:

    {% from "_charts.html" import chart %}
    {% for c in charts %}{{ chart(c) }}{% endfor %}

The plot's data travels in the element's `data-chart` attribute as JSON (no inline script: the CSP forbids
them): `{"unit", "currency", "zone", "time_label", "labels", "x", "ys"}`; static/charts.js formats the axes
in the page's language and the viewer's time zone. Values the table shows are formatted here, exactly (money
from minor units).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from babel.numbers import format_currency, format_decimal, format_percent

from billing.money import exponent
from portal import i18n
from protos.rentmeter.v1 import usage_pb2

Unit = Literal["percent", "bytes_per_second", "money"]
BYTE_UNITS = ("B/s", "kB/s", "MB/s", "GB/s", "TB/s")
NO_VALUE = "\u2013"  # an en dash: no data for that step


@dataclass(frozen=True)
class Line:
    label: str
    values: Sequence[float | None]  # None: no data for that step (a gap in the plot)


@dataclass(frozen=True)
class Chart:
    title: str
    unit: Unit
    times: Sequence[datetime]  # the start of each step
    lines: Sequence[Line]
    currency: str = ""  # for unit "money": values are in the currency's major units

    def data_json(self) -> str:
        """The plot's data for static/charts.js."""
        zone = getattr(i18n.current().time_zone, "key", "UTC")
        return json.dumps(
            {
                "unit": self.unit,
                "currency": self.currency,
                "zone": zone,
                "time_label": i18n.gettext("Time"),
                "labels": [line.label for line in self.lines],
                "x": [int(moment.timestamp()) for moment in self.times],
                "ys": [list(line.values) for line in self.lines],
            },
            separators=(",", ":"),
        )

    def rows(self) -> list[tuple[str, list[str]]]:
        """The table: each step's time, and each line's value as text (NO_VALUE where there is none)."""
        return [
            (i18n.format_datetime(moment), [self.format(line.values[index]) for line in self.lines])
            for index, moment in enumerate(self.times)
        ]

    def format(self, value: float | None) -> str:
        if value is None:
            return NO_VALUE
        formats = i18n.current().formats
        if self.unit == "percent":
            return str(format_percent(value / 100, "#,##0.0%", locale=formats))
        if self.unit == "money":
            return format_major_units(value, self.currency)
        return format_bytes_per_second(value)


def format_major_units(value: float, currency: str) -> str:
    """A money value a chart holds in major units, as the viewer writes money."""
    return str(format_currency(Decimal(str(value)), currency, locale=i18n.current().formats))


def format_bytes_per_second(value: float) -> str:
    """`1.2 MB/s` (decimal units, as network speeds are given)."""
    scaled, unit = float(value), BYTE_UNITS[0]
    for unit in BYTE_UNITS:
        if abs(scaled) < 1000 or unit == BYTE_UNITS[-1]:
            break
        scaled /= 1000
    number = format_decimal(scaled, "#,##0.#", locale=i18n.current().formats)
    return f"{number} {unit}"


def usage_charts(series: usage_pb2.UsageSeries) -> list[Chart]:
    """A machine's or a session's use (UsageService.GetUsageSeries): utilisation of the CPU and of each GPU
    in percent, and network traffic in bytes per second. Steps the machine did not report are gaps."""
    points = list(series.points)
    if not points:
        return []
    step_s = max(series.step.ToTimedelta().total_seconds(), 1.0)
    times = [point.start.ToDatetime(tzinfo=UTC) for point in points]

    def reported(point: usage_pb2.UsagePoint, value: float) -> float | None:
        return value if point.covered_us else None

    utilisation = [
        Line(i18n.gettext("CPU"), [reported(p, round(p.cpu_utilization * 100, 1)) for p in points])
    ]
    gpu_count = max(len(point.gpus) for point in points)
    for index in range(gpu_count):
        label = i18n.gettext("GPU %(number)d") % {"number": index}
        values = [
            reported(p, round(p.gpus[index].average_utilization_percent, 1)) if index < len(p.gpus) else None
            for p in points
        ]
        utilisation.append(Line(label, values))
    traffic = [
        Line(i18n.gettext("Received"), [reported(p, round(p.net_rx_bytes / step_s, 1)) for p in points]),
        Line(i18n.gettext("Sent"), [reported(p, round(p.net_tx_bytes / step_s, 1)) for p in points]),
    ]
    return [
        Chart(i18n.gettext("Utilisation"), "percent", times, utilisation),
        Chart(i18n.gettext("Network traffic"), "bytes_per_second", times, traffic),
    ]


def money_chart(title: str, currency: str, times: Sequence[datetime], lines: Sequence[Line]) -> Chart:
    """Money over time (e.g. earnings per day); `lines` hold major units (minor units scaled by the
    currency's digits, e.g. with `major_units`)."""
    return Chart(title, "money", times, lines, currency=currency)


def major_units(minor_units: int, currency: str) -> float:
    return float(Decimal(minor_units).scaleb(-exponent(currency)))
