"""The renter's insights (/insights): its behaviour profile (InsightsService.GetRenterProfile: when it rents,
session lengths, classes, utilisation, traffic, spend per week, top-ups), its plan recommendation
(GetRecommendation: the cheaper plan with the saving and the evidence) and the offers made to it
(ListOffers, shown from when they are made, before they apply).

Every call names no renter, so the collector answers for the signed-in renter only; before the first profile
or recommendation (NOT_FOUND) the page says so instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.auth import User, requires, user_api
from portal.charts import Chart, Line, major_units, money_chart
from portal.errors import PageNotFound
from portal.i18n import N_
from portal.web import render
from portal.week_grid import WeekGrid, hours_text, week_grid
from protos.rentmeter.v1 import insights_pb2

Answer = TypeVar("Answer")
MAX_WEEKS = 26  # the profile keeps spend for the last 26 weeks

# InsightsService's session length buckets, as the page names them.
LENGTH_LABELS = {
    "<15m": N_("under 15 minutes"),
    "15m-1h": N_("15 minutes to 1 hour"),
    "1h-3h": N_("1 to 3 hours"),
    "3h-8h": N_("3 to 8 hours"),
    "8h-24h": N_("8 to 24 hours"),
    ">=24h": N_("a day or more"),
}


@dataclass(frozen=True)
class Share:
    """One row of a table of parts: its label, its figure as text, and its share of the whole (0..1)."""

    label: str
    figure: str
    share: float


async def absent_as_none(call: Awaitable[Answer]) -> Answer | None:
    """The answer, or None where the collector has none yet (NOT_FOUND: no profile or advice so far)."""
    try:
        return await call
    except PageNotFound:
        return None


def session_lengths(profile: insights_pb2.RenterProfile) -> list[Share]:
    total = sum(bucket.sessions for bucket in profile.session_lengths) or 1
    return [
        Share(i18n.gettext(LENGTH_LABELS.get(b.label, b.label)), str(b.sessions), b.sessions / total)
        for b in profile.session_lengths
    ]


def classes_used(profile: insights_pb2.RenterProfile) -> list[Share]:
    total = sum(c.rented_seconds for c in profile.classes) or 1.0
    ordered = sorted(profile.classes, key=lambda c: (-c.rented_seconds, c.machine_class))
    return [
        Share(c.machine_class, i18n.format_duration(_seconds(c.rented_seconds)), c.rented_seconds / total)
        for c in ordered
    ]


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def spend_charts(profile: insights_pb2.RenterProfile) -> list[Chart]:
    """Per currency: the rated cost of the sessions started in each local week (Monday at midnight in the
    renter's zone), every week from the first with spend to the one the profile is folded up to (0 where
    nothing was spent, at most MAX_WEEKS)."""
    zone = i18n.zone(profile.time_zone) or UTC
    spent: dict[str, dict[date, int]] = defaultdict(dict)
    for week in profile.spend_per_week:
        spent[week.spent.currency][date.fromisoformat(week.week)] = week.spent.minor_units
    if not spent:
        return []
    last = profile.folded_until.ToDatetime(tzinfo=UTC).astimezone(zone).date()
    last -= timedelta(days=last.weekday())
    first = min(min(weeks) for weeks in spent.values())
    mondays = [first + timedelta(weeks=n) for n in range(MAX_WEEKS) if first + timedelta(weeks=n) <= last]
    mondays = mondays or [first]
    times = [datetime(d.year, d.month, d.day, tzinfo=zone) for d in mondays]
    charts = []
    for currency, weeks in sorted(spent.items()):
        line = Line(i18n.gettext("Spent"), [major_units(weeks.get(d, 0), currency) for d in mondays])
        title = i18n.gettext("Spent per week in %(currency)s") % {"currency": currency}
        charts.append(money_chart(title, currency, times, [line]))
    return charts


def rent_hours(profile: insights_pb2.RenterProfile) -> WeekGrid:
    title = i18n.gettext("Hours rented by hour of the week (%(zone)s)") % {"zone": profile.time_zone}
    return week_grid(title, list(profile.hour_of_week_seconds), hours_text)


def offer_states(offers: list[insights_pb2.Offer], now: datetime) -> list[tuple[insights_pb2.Offer, bool]]:
    """Each offer with whether it applies now (else it applies from its valid_from on)."""
    return [(offer, offer.valid_from.ToDatetime(tzinfo=UTC) <= now) for offer in offers]


@requires("renter")
async def insights_page(request: Request, user: User) -> Response:
    api = user_api(request)
    profile = await absent_as_none(api.insights.GetRenterProfile(insights_pb2.GetRenterProfileRequest()))
    advice = await absent_as_none(api.insights.GetRecommendation(insights_pb2.GetRecommendationRequest()))
    offers = list((await api.insights.ListOffers(insights_pb2.ListOffersRequest())).offers)
    context: dict[str, object] = {
        "profile": profile,
        "advice": advice,
        "offers": offer_states(offers, datetime.now(UTC)),
    }
    if profile is not None and profile.sessions:
        context.update(
            grid=rent_hours(profile),
            lengths=session_lengths(profile),
            classes=classes_used(profile),
            charts=spend_charts(profile),
            rented=_seconds(profile.rented_seconds),
            night=_seconds(profile.night_seconds),
        )
    return render(request, "renter/insights.html", context)


ROUTES = [Route("/insights", insights_page, methods=["GET"])]
