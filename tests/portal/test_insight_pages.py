"""The insight pages against a real collector with real history (sessions reported minute by minute, rated,
then RefreshInsights): the renter's /insights shows its own profile, recommendation and offers as the API
gives them, never another renter's; the provider's /admin/insights shows the fleet and manages offer rules.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import httpx
import pytest

from collector.config import CollectorSettings
from collector.server import Collector
from portal.server import RunningPortal
from protos.rentmeter.v1 import insights_pb2, plans_pb2
from rentmeter.client import AdminClient
from tests.collector.insights_helpers import machine_of, rent
from tests.portal.conftest import SignIn, csrf_of

PLAN = """name = "{name}"
currency = "EUR"
[time.hourly]
standard = "{price}"
"""


@pytest.fixture
def collector_settings(collector_settings: CollectorSettings) -> CollectorSettings:
    """The rating job waits: history() rates its sessions itself, and two writers of one SQLite file at the
    same moment would make one of them fail ("database is locked")."""
    return replace(collector_settings, rating_interval=timedelta(hours=1))


def history(collector: Collector, admin: AdminClient) -> SimpleNamespace:
    """Host h1's machine; alice rented it three evenings (2 h, 1 h, 30 min) on plan "standard" and bob once
    (45 min); plan "cheap" costs half; rule "regulars" offers it to whoever rented 2 h; the jobs have run."""
    for name, price in (("standard", "3.60"), ("cheap", "1.80")):
        admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=PLAN.format(name=name, price=price)))
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    first = now - timedelta(days=5)
    seat = machine_of(collector.database, first - timedelta(hours=1))
    sequence = 1
    for day, renter, minutes in ((0, "alice", 120), (1, "alice", 60), (2, "alice", 30), (3, "bob", 45)):
        start = first + timedelta(days=day, hours=1)
        _, sequence = rent(collector.database, seat, renter, "standard", start, minutes, sequence=sequence,
                           rx=10**6)  # fmt: skip
    rule = insights_pb2.OfferRule(
        name="regulars", condition="rented_hours", threshold="2", plan="cheap", valid_days=7
    )
    admin.insights.CreateOfferRule(rule)
    refreshed = admin.insights.RefreshInsights(insights_pb2.RefreshInsightsRequest())
    assert refreshed.failed == 0 and refreshed.renters_profiled == 2
    return SimpleNamespace(seat=seat)


def figure(page: httpx.Response | str, name: str) -> str:
    text = page if isinstance(page, str) else page.text
    found = re.search(rf'data-figure="{name}">([^<]*)<', text)
    assert found, f"no figure {name}"
    return html.unescape(found.group(1)).strip()


def grid_cells(page: httpx.Response) -> list[tuple[int, str]]:
    """The hour-of-week grid's cells, Monday 00:00 first: (shade, text)."""
    table = page.text.split('data-grid="hours-of-week"')[1].split("</table>")[0]
    return [(int(level), text) for level, text in re.findall(r'<td class="heat-(\d)">([^<]*)</td>', table)]


def test_a_renter_sees_its_own_profile_advice_and_offers_as_the_api_gives_them(
    collector: Collector, admin: AdminClient, portal: RunningPortal, sign_in: SignIn
) -> None:
    history(collector, admin)
    alice = sign_in("renter", "alice")
    page = alice.get("/insights")
    assert page.status_code == 200
    profile = admin.insights.GetRenterProfile(insights_pb2.GetRenterProfileRequest(renter="alice"))
    advice = admin.insights.GetRecommendation(insights_pb2.GetRecommendationRequest(renter="alice"))
    assert figure(page, "sessions") == str(profile.sessions) == "3"
    assert figure(page, "rented") == "3 h 30 min" and profile.rented_seconds == 3.5 * 3600
    cells = grid_cells(page)
    assert len(cells) == 168
    hours = [round(s / 3600, 1) for s in profile.hour_of_week_seconds]
    assert [text for _, text in cells] == [f"{h:.1f}" if h else "" for h in hours]
    busiest = max(range(168), key=lambda i: profile.hour_of_week_seconds[i])
    assert cells[busiest][0] == 5 and sum(1 for level, _ in cells if level) == sum(1 for h in hours if h)
    assert (advice.plan, advice.saving.minor_units) == ("cheap", 630)  # 3.5 h at 3.60 vs 1.80
    assert figure(page, "saving") == "€6.30" and figure(page, "current") == "€12.60"
    assert figure(page, "evidence") == advice.evidence
    assert '<table class="shares" data-table="lengths">' in page.text
    (offer,) = admin.insights.ListOffers(insights_pb2.ListOffersRequest(renter="alice")).offers
    assert f'data-offer="{offer.id}"' in page.text and "applies later" in page.text  # seen before it applies
    chart = json.loads(html.unescape(re.findall(r'data-chart="([^"]+)"', page.text)[0]))
    spent = {w.week: w.spent.minor_units / 100 for w in profile.spend_per_week}
    assert chart["currency"] == "EUR" and sum(chart["ys"][0]) == pytest.approx(sum(spent.values())) == 12.60
    assert set(spent.values()) <= set(chart["ys"][0]) and len(chart["x"]) >= len(spent)

    bob = sign_in("renter", "bob")
    theirs = bob.get("/insights?renter=alice")  # the page never asks for anyone but the signed-in renter
    assert figure(theirs, "sessions") == "1" and figure(theirs, "rented") == "45 min 00 s"
    assert "data-offer=" not in theirs.text and advice.evidence not in html.unescape(theirs.text)


def test_before_the_first_rental_the_page_says_so(
    collector: Collector, portal: RunningPortal, sign_in: SignIn
) -> None:
    page = sign_in("renter", "carol", "zh").get("/insights")
    assert page.status_code == 200 and 'data-figure="no-profile"' in page.text
    assert 'data-figure="saving"' not in page.text


def test_the_provider_sees_the_fleet_and_manages_offer_rules(
    collector: Collector, admin: AdminClient, portal: RunningPortal, sign_in: SignIn
) -> None:
    history(collector, admin)
    for role, subject in (("renter", "alice"), ("host", "h1")):
        assert sign_in(role, subject).get("/admin/insights").status_code == 404
    provider = sign_in("admin")
    page = provider.get("/admin/insights")
    assert page.status_code == 200
    (standard,) = admin.insights.GetFleetProfile(insights_pb2.GetFleetProfileRequest()).classes
    section = page.text.split('data-class="standard"')[1]
    assert figure(section, "machines") == str(standard.machines) == "1"
    assert figure(section, "sessions") == "4"
    assert figure(section, "revenue") == "€15.30"  # 4.25 h at 3.60
    assert [t for _, t in grid_cells(page)] == [
        f"{round(share * 100):d}" if round(share * 100) else "" for share in standard.occupancy
    ]
    assert 'data-rule="regulars"' in page.text and 'data-offer-renter="alice"' in page.text

    form = {"csrf_token": csrf_of(page), "name": "night-owls", "condition": "night_share",
            "threshold": "abc", "window_days": "30", "plan": "cheap", "member_tier": "", "coupon": "",
            "valid_days": "14"}  # fmt: skip
    refused = provider.post("/admin/insights/rules", data=form)
    assert refused.status_code == 400 and "The request was refused:" in refused.text
    assert 'value="night-owls"' in refused.text  # the form keeps what was typed
    made = provider.post("/admin/insights/rules", data={**form, "threshold": "60"})
    assert made.status_code == 303
    rules = admin.insights.ListOfferRules(insights_pb2.ListOfferRulesRequest()).rules
    night = next(rule for rule in rules if rule.name == "night-owls")
    assert (night.condition, night.threshold, night.plan, night.valid_days) == (
        "night_share",
        "60",
        "cheap",
        14,
    )
    again = provider.post("/admin/insights/rules", data={**form, "threshold": "60"})
    assert again.status_code == 400  # ALREADY_EXISTS, as a sentence

    token = csrf_of(provider.get("/admin/insights"))
    gone = provider.post("/admin/insights/rules/night-owls/delete", data={"csrf_token": token})
    assert gone.status_code == 303
    names = [r.name for r in admin.insights.ListOfferRules(insights_pb2.ListOfferRulesRequest()).rules]
    assert names == ["regulars"]
    missing = provider.post("/admin/insights/rules/night-owls/delete", data={"csrf_token": token})
    assert missing.status_code == 404

    refreshed = provider.post("/admin/insights/refresh", data={"csrf_token": token})
    assert refreshed.status_code == 303
    assert "Insights refreshed" in provider.get(refreshed.headers["location"]).text


def test_a_host_sees_its_own_classes_occupancy_on_its_earnings_page(
    collector: Collector, admin: AdminClient, portal: RunningPortal, sign_in: SignIn
) -> None:
    history(collector, admin)  # the machine is host h1's
    page = sign_in("host", "h1").get("/host/earnings")
    assert page.status_code == 200 and 'data-class="standard"' in page.text
    (standard,) = admin.insights.GetFleetProfile(insights_pb2.GetFleetProfileRequest(host="h1")).classes
    shown = [text for _, text in grid_cells(page)]
    assert shown == [f"{round(share * 100):d}" if round(share * 100) else "" for share in standard.occupancy]
    assert any(shown)
    other = sign_in("host", "h2").get("/host/earnings")
    assert other.status_code == 200 and 'data-grid="hours-of-week"' not in other.text
