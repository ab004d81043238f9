"""InsightsService over real gRPC: a renter reads its own profile and offers only (another's profile is
NOT_FOUND), a host its own machines' classes, and StartSession takes an applying offer's terms when the
caller gives none."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace

import grpc
import pytest

from agent.identity import Identity, public_key_bytes
from collector.config import CollectorSettings
from collector.server import Collector
from protos.rentmeter.v1 import (
    access_pb2,
    agent_pb2,
    agent_pb2_grpc,
    insights_pb2,
    machines_pb2,
    plans_pb2,
    sessions_pb2,
)
from rentmeter.client import AdminClient
from tests.collector.helpers import new_identity, sample, signed

PLAN = """name = "n"
currency = "EUR"
[time.hourly]
standard = "3.60"
[member_discounts]
gold = "10"
[coupons.C10]
percent = "10"
"""


@pytest.fixture
def collector_settings(collector_settings: CollectorSettings) -> CollectorSettings:
    """Sessions are profiled as soon as they end, offers apply as soon as they are made."""
    return replace(collector_settings, insights_grace=timedelta(0), offer_notice=timedelta(0))


@pytest.fixture
def world(collector: Collector, admin: AdminClient) -> Iterator[SimpleNamespace]:
    """Host h1's machine; r1 rented it for a moment under plan n; a rule offers coupon C10 to everyone
    who rented at all; the insight jobs have run."""
    target = f"127.0.0.1:{collector.port}"
    clients = {}
    for who, role in (("h1", "host"), ("h2", "host"), ("r1", "renter"), ("r2", "renter")):
        token = admin.access.CreateApiToken(access_pb2.CreateApiTokenRequest(role=role, subject=who)).token
        clients[who] = AdminClient.connect(target, token)
    enrollment = clients["h1"].machines.CreateEnrollmentToken(machines_pb2.CreateEnrollmentTokenRequest())
    channel = grpc.insecure_channel(target)
    owner = new_identity()
    agents = agent_pb2_grpc.AgentServiceStub(channel)
    request = agent_pb2.EnrollRequest(token=enrollment.token, public_key=public_key_bytes(owner.key))
    agent_id = agents.Enroll(request).agent_id
    admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=PLAN))
    started = clients["h1"].sessions.StartSession(
        sessions_pb2.StartSessionRequest(agent_id=agent_id, renter="r1", plan="n")
    )
    begun = started.started_at.seconds + started.started_at.nanos / 1e9
    list(
        agents.StreamReports(
            iter([signed(Identity(agent_id, "standard", owner.key), 1, [sample(begun, begun + 0.5)])])
        )
    )
    time.sleep(0.6)
    clients["h1"].sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=started.session_id))
    rule = insights_pb2.OfferRule(
        name="everyone", condition="rented_hours", threshold="0", plan="n", coupon="C10", valid_days=7
    )
    admin.insights.CreateOfferRule(rule)
    refreshed = admin.insights.RefreshInsights(insights_pb2.RefreshInsightsRequest())
    assert (refreshed.renters_profiled, refreshed.renters_advised, refreshed.failed) == (1, 1, 0)
    yield SimpleNamespace(clients=clients, agent=agent_id, admin=admin)
    for client in clients.values():
        client.close()
    channel.close()


def test_a_renter_reads_its_own_profile_and_not_anothers(world: SimpleNamespace) -> None:
    r1, r2 = world.clients["r1"], world.clients["r2"]
    own = r1.insights.GetRenterProfile(insights_pb2.GetRenterProfileRequest())
    assert own.renter == "r1" and own.sessions == 1 and len(own.hour_of_week_seconds) == 168
    assert own.time_zone == "UTC" and sum(own.hour_of_week_seconds) == pytest.approx(own.rented_seconds)
    for call in (
        lambda: r2.insights.GetRenterProfile(insights_pb2.GetRenterProfileRequest(renter="r1")),
        lambda: r2.insights.GetRecommendation(insights_pb2.GetRecommendationRequest(renter="r1")),
        lambda: r2.insights.ListOffers(insights_pb2.ListOffersRequest(renter="r1")),
    ):
        with pytest.raises(grpc.RpcError) as refused:
            call()
        assert refused.value.code() is grpc.StatusCode.NOT_FOUND
    assert list(r2.insights.ListOffers(insights_pb2.ListOffersRequest()).offers) == []
    offers = r1.insights.ListOffers(insights_pb2.ListOffersRequest()).offers
    assert [(o.rule, o.plan, o.coupon) for o in offers] == [("everyone", "n", "C10")]
    recommendation = r1.insights.GetRecommendation(insights_pb2.GetRecommendationRequest())
    assert recommendation.sessions == 1 and recommendation.saving.minor_units >= 0


def test_hosts_see_their_own_machines_classes(world: SimpleNamespace) -> None:
    mine = world.clients["h1"].insights.GetFleetProfile(insights_pb2.GetFleetProfileRequest(host="h2"))
    assert [(c.machine_class, c.machines, c.sessions) for c in mine.classes] == [("standard", 1, 1)]
    theirs = world.clients["h2"].insights.GetFleetProfile(insights_pb2.GetFleetProfileRequest(host="h1"))
    assert list(theirs.classes) == []  # a host's scope is its own, whatever it asks
    everyone = world.admin.insights.GetFleetProfile(insights_pb2.GetFleetProfileRequest())
    assert [c.sessions for c in everyone.classes] == [1]


def test_a_session_started_without_terms_takes_the_applying_offer(world: SimpleNamespace) -> None:
    host = world.clients["h1"]
    start = sessions_pb2.StartSessionRequest(agent_id=world.agent, renter="r1", plan="n")
    offered = host.sessions.StartSession(start)
    assert (offered.terms.member_tier, offered.terms.coupon) == ("", "C10")
    host.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=offered.session_id))
    own_terms = replace_terms(start, member_tier="gold")
    chosen = host.sessions.StartSession(own_terms)  # the caller's terms win
    assert (chosen.terms.member_tier, chosen.terms.coupon) == ("gold", "")
    host.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=chosen.session_id))
    other = host.sessions.StartSession(
        sessions_pb2.StartSessionRequest(agent_id=world.agent, renter="r2", plan="n")
    )
    assert other.terms.coupon == ""  # r2 has no offer


def replace_terms(
    request: sessions_pb2.StartSessionRequest, **terms: str
) -> sessions_pb2.StartSessionRequest:
    changed = sessions_pb2.StartSessionRequest()
    changed.CopyFrom(request)
    for name, value in terms.items():
        setattr(changed.terms, name, value)
    return changed
