"""Watching sessions live: many watchers share one rating per second, every one gets the same updates, the
renter may stop its own session (and the machine's agent is told), and the burn rate follows what the
session really costs."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest

import billing
from agent.identity import Identity
from collector.accounts.wallets import top_up
from collector.db.database import Database
from collector.server import Collector
from collector.sessions import live
from collector.sessions.live import BURN_WINDOW, live_cost
from collector.sessions.plans import create_plan
from collector.sessions.rentals import start_session
from protos.rentmeter.v1 import access_pb2, agent_pb2, agent_pb2_grpc, sessions_pb2
from rentmeter.client import AdminClient
from tests.collector.helpers import enrolled_machine, plan_request, sample, signed
from tests.collector.test_invoicing import report_every_second
from tests.collector.test_services import enroll

WATCHERS = 20
START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


class Watcher:
    """One WatchSession stream read on its own thread."""

    def __init__(self, client: AdminClient, session_id: str) -> None:
        self.updates: list[sessions_pb2.LiveCost] = []
        self.call = client.sessions.WatchSession(sessions_pb2.GetSessionRequest(session_id=session_id))
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for update in self.call:
                self.updates.append(update)
        except grpc.RpcError as exc:
            if exc.code() is not grpc.StatusCode.CANCELLED:
                raise

    def ats(self, after: float) -> list[float]:
        """When each update was rated, for those rated after `after` (seconds since the epoch)."""
        return [t for t in map(_seconds, self.updates) if t > after]


def _seconds(update: sessions_pb2.LiveCost) -> float:
    return update.at.seconds + update.at.nanos / 1e9


def _wait(predicate: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every rating a watch makes (the rating job rates through its own module, uncounted)."""
    calls: list[str] = []
    rate = live.rate_session

    def counting(db: Any, rental: Any, now: datetime) -> None:
        calls.append(rental.id)
        rate(db, rental, now)

    monkeypatch.setattr(live, "rate_session", counting)
    return calls


class AgentStream:
    """An agent's report stream held open: it sends one report, then listens for controls."""

    def __init__(self, channel: grpc.Channel, identity: Identity, began: float) -> None:
        self.controls: queue.Queue[agent_pb2.Control] = queue.Queue()
        self._done = threading.Event()
        report = signed(identity, 1, [sample(began, began + 1)])

        def requests() -> Iterator[agent_pb2.SignedReport]:
            yield report
            self._done.wait(30)

        self._responses = agent_pb2_grpc.AgentServiceStub(channel).StreamReports(requests())
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for message in self._responses:
                for control in message.controls:
                    self.controls.put(control)
        except grpc.RpcError:
            pass

    def close(self) -> None:
        self._done.set()
        self._responses.cancel()


def test_twenty_watchers_share_one_rating_per_second_and_see_the_same_updates(
    collector: Collector, admin: AdminClient, channel: grpc.Channel, counted: list[str]
) -> None:
    identity = enroll(channel, admin)
    admin.plans.CreatePlan(plan_request("p", {"standard": "36.00"}))
    rental = admin.sessions.StartSession(
        sessions_pb2.StartSessionRequest(agent_id=identity.agent_id, renter="alice", plan="p")
    )
    agent = AgentStream(channel, identity, time.time() - 1)
    _wait(lambda: not agent.controls.empty())  # attached: told of the open session
    assert agent.controls.get().kind == agent_pb2.Control.SESSION_STARTED
    token = admin.access.CreateApiToken(
        access_pb2.CreateApiTokenRequest(role="renter", subject="alice")
    ).token
    renter = AdminClient.connect(f"127.0.0.1:{collector.port}", token)
    watchers = [Watcher(renter if i % 2 else admin, rental.session_id) for i in range(WATCHERS)]
    try:
        _wait(lambda: all(w.updates for w in watchers))
        joined = max(_seconds(w.updates[0]) for w in watchers)
        before, began = len(counted), time.monotonic()
        time.sleep(3.2)
        ratings, elapsed = len(counted) - before, time.monotonic() - began
        # One rating per second for all twenty (not 20 per second), and each update reaches every watcher.
        assert 2 <= ratings <= elapsed + 1.5, (ratings, elapsed)
        _wait(lambda: len({len(w.ats(joined)) for w in watchers}) == 1)
        seen = [w.ats(joined) for w in watchers]
        assert all(ats == seen[0] for ats in seen) and len(seen[0]) >= 2
        assert set(counted) == {rental.session_id}
        # The renter stops its own session: every watcher gets the last update, the agent is told.
        stopped = renter.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=rental.session_id))
        assert stopped.state == sessions_pb2.RentalSession.STOPPED
        for watcher in watchers:
            watcher.thread.join(timeout=10)
            assert not watcher.thread.is_alive()
            assert watcher.updates[-1].state == sessions_pb2.RentalSession.STOPPED
        assert len({_seconds(w.updates[-1]) for w in watchers}) == 1
        control = agent.controls.get(timeout=10)
        assert (control.kind, control.session_id) == (agent_pb2.Control.SESSION_STOPPED, rental.session_id)
    finally:
        for watcher in watchers:
            watcher.call.cancel()
        agent.close()
        renter.close()


def test_a_renter_cannot_stop_or_watch_another_renters_session(
    collector: Collector, admin: AdminClient, channel: grpc.Channel
) -> None:
    identity = enroll(channel, admin)
    admin.plans.CreatePlan(plan_request("p", {"standard": "36.00"}))
    rental = admin.sessions.StartSession(
        sessions_pb2.StartSessionRequest(agent_id=identity.agent_id, renter="alice", plan="p")
    )
    token = admin.access.CreateApiToken(access_pb2.CreateApiTokenRequest(role="renter", subject="bob")).token
    bob = AdminClient.connect(f"127.0.0.1:{collector.port}", token)
    request = sessions_pb2.GetSessionRequest(session_id=rental.session_id)
    for call in (
        lambda: bob.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=rental.session_id)),
        lambda: list(bob.sessions.WatchSession(request)),
    ):
        with pytest.raises(grpc.RpcError) as refused:
            call()
        assert refused.value.code() is grpc.StatusCode.NOT_FOUND
    bob.close()
    assert (
        admin.sessions.GetSession(sessions_pb2.GetSessionRequest(session_id=rental.session_id)).state
        == sessions_pb2.RentalSession.OPEN
    )


TRAFFIC_PLAN = billing.simple_document("t", "EUR", {"standard": "36.00"}, "1.00", "")  # 1 ct/s, 1 EUR/GB in


def test_the_burn_rate_is_the_cost_of_the_last_ten_minutes(database: Database) -> None:
    machine = enrolled_machine(database, START - timedelta(hours=1))
    database.call(create_plan, TRAFFIC_PLAN, START - timedelta(hours=1))
    database.call(top_up, "ann", billing.Money(10_000, "EUR"), "pay-1", START - timedelta(hours=1))
    rental = database.call(
        start_session, agent_id=machine.agent_id, renter_id="ann", plan_name="t", now=START
    )
    report_every_second(database, machine, START, 600)  # ten quiet minutes
    report_every_second(database, machine, START + BURN_WINDOW, 600, rx=10**6, sequence=61)  # 1 MB/s
    now = START + 2 * BURN_WINDOW
    first = database.call(live_cost, rental.id, now)
    # The last ten minutes: 6.00 EUR of time and 0.60 EUR of traffic (600 MB): 39.60 EUR an hour.
    assert (first.burn_rate_minor, first.rate_per_hour_minor) == (3960, 3600)
    assert first.burn is not None and first.burn.until_us == machine_end(database, machine)
    spendable = first.spendable_minor  # 100.00 - 12.60
    assert spendable == 10_000 - 1260
    assert first.runs_out_at == now + timedelta(seconds=spendable * 3600 / 3960)
    again = database.call(live_cost, rental.id, now + timedelta(seconds=1), first.burn)
    assert again.burn is first.burn  # no new report: not measured again


def test_a_young_session_burns_over_its_own_reported_time(database: Database) -> None:
    machine = enrolled_machine(database, START - timedelta(hours=1))
    database.call(create_plan, TRAFFIC_PLAN, START - timedelta(hours=1))
    rental = database.call(start_session, agent_id=machine.agent_id, renter_id="bo", plan_name="t", now=START)
    assert database.call(live_cost, rental.id, START + timedelta(seconds=5)).burn is None  # nothing reported
    report_every_second(database, machine, START, 60, rx=10**6)
    live_now = database.call(live_cost, rental.id, START + timedelta(seconds=61))
    assert live_now.burn_rate_minor == 3600 + 360  # 60 MB a minute: 3.60 EUR an hour of traffic
    assert not live_now.prepaid and live_now.runs_out_at is None


def machine_end(database: Database, machine: Identity) -> int:
    from collector.db.models import Machine

    return database.call(lambda db: db.get(Machine, machine.agent_id).last_report_end_us)
