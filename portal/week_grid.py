"""The hour-of-week grid of the insight pages: 168 values (Monday 00:00-01:00 first, as InsightsService
gives them) as 7 rows of 24 cells, each cell shaded by a CSS class `heat-0` (nothing) to `heat-5` (the
busiest hour) and holding its value as text, so that the table reads the same without sight of the shades.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from babel.dates import get_day_names
from babel.numbers import format_decimal

from portal import i18n
from protos.rentmeter.v1 import insights_pb2

HOURS_PER_WEEK = 168
LEVELS = 5  # heat-1 .. heat-5 for values above nothing


@dataclass(frozen=True)
class Cell:
    text: str
    level: int  # 0: nothing; 1..LEVELS: share of the busiest hour, in fifths rounded up


@dataclass(frozen=True)
class WeekGrid:
    title: str
    hours: list[str]  # the column headings, "00" to "23"
    days: list[tuple[str, list[Cell]]]  # each weekday's name (the viewer's language) and its 24 cells
    busiest: str  # "Saturday 21:00" (the hour with the most), "" when all are nothing


def level(value: float, most: float) -> int:
    """The shade of `value` in a grid whose largest value is `most`: 0 for nothing, else 1..LEVELS."""
    if value <= 0 or most <= 0:
        return 0
    return min(LEVELS, max(1, math.ceil(LEVELS * value / most)))


def week_grid(title: str, values: Sequence[float], text: Callable[[float], str]) -> WeekGrid:
    """The grid of 168 `values` (fewer are padded with nothing), each cell's text made by `text`."""
    padded = [float(v) for v in values[:HOURS_PER_WEEK]]
    padded += [0.0] * (HOURS_PER_WEEK - len(padded))
    most = max(padded)
    names = get_day_names("wide", locale=i18n.current().formats)  # 0: Monday
    days = [
        (str(names[day]), [Cell(text(v), level(v, most)) for v in padded[day * 24 : day * 24 + 24]])
        for day in range(7)
    ]
    busiest = ""
    if most > 0:
        index = padded.index(most)
        busiest = f"{names[index // 24]} {index % 24:02d}:00"
    return WeekGrid(title, [f"{hour:02d}" for hour in range(24)], days, busiest)


def hours_text(seconds: float) -> str:
    """Seconds as hours to one decimal, "" for nothing (an empty cell reads as nothing)."""
    if seconds <= 0:
        return ""
    return str(format_decimal(seconds / 3600, "#,##0.0", locale=i18n.current().formats))


def percent_text(share: float) -> str:
    """A share 0..1 as a whole percent, "" for nothing."""
    if share <= 0:
        return ""
    return str(format_decimal(share * 100, "#,##0", locale=i18n.current().formats))


@dataclass(frozen=True)
class ClassView:
    """A machine class's profile (InsightsService.GetFleetProfile) with its occupancy as a grid."""

    profile: insights_pb2.ClassProfile
    occupancy: WeekGrid


def class_views(fleet: insights_pb2.FleetProfile) -> list[ClassView]:
    """Each class of the fleet profile, by name, with its occupancy by UTC hour of the week in percent."""
    views = []
    for profile in sorted(fleet.classes, key=lambda c: c.machine_class):
        title = i18n.gettext("Occupancy of %(class)s by hour of the week (UTC)") % {
            "class": profile.machine_class
        }
        views.append(ClassView(profile, week_grid(title, list(profile.occupancy), percent_text)))
    return views
