"""Live ticks against a real collector on loopback: a tick moves the watched cost within 2 s, the signed
report takes over from it, and a tick never reaches a bill, a wallet or the stop at zero, however absurd
or misdirected it is."""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from agent.config import AgentSettings
from agent.identity import Identity
from agent.sampler import SampleData
from agent.wire import live_tick
from collector.server import Collector
from collector.sessions.live_hub import MIN_GAP_S, LiveHub
from collector.sessions.live_ticks import LiveTick, implausible
from protos.rentmeter.v1 import (
    agent_pb2,
    agent_pb2_grpc,
    invoices_pb2,
    machines_pb2,
    sessions_pb2,
    wallets_pb2,
)
from rentmeter.client import AdminClient
from rentmeter.embedded import running_agent
from tests.collector.helpers import plan_request, sample, signed
from tests.collector.test_live_watch import Watcher
from tests.collector.test_services import enroll
from tests.e2e.harness import RecordingSampler, TrafficPsutil, wait_for

GB = 10**9
SECOND = 1_000_000


class Stream:
    """An agent's report stream whose messages the test sends one by one."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.controls: queue.Queue[agent_pb2.Control] = queue.Queue()
        self.acks: queue.Queue[agent_pb2.ReportAck] = queue.Queue()
        self._outgoing: queue.Queue[agent_pb2.SignedReport | None] = queue.Queue()
        self._responses = agent_pb2_grpc.AgentServiceStub(channel).StreamReports(self._requests())
        threading.Thread(target=self._read, daemon=True).start()

    def _requests(self) -> Iterator[agent_pb2.SignedReport]:
        while (message := self._outgoing.get()) is not None:
            yield message

    def _read(self) -> None:
        try:
            for message in self._responses:
                for control in message.controls:
                    self.controls.put(control)
                for ack in message.acks:
                    self.acks.put(ack)
        except grpc.RpcError:
            pass

    def send(self, message: agent_pb2.SignedReport) -> None:
        self._outgoing.put(message)

    def report(self, identity: Identity, sequence: int, samples: list[SampleData]) -> None:
        """Send a signed report and wait for its ACCEPTED ack."""
        self.send(signed(identity, sequence, samples))
        ack = self.acks.get(timeout=10)
        assert (ack.sequence, ack.status) == (sequence, agent_pb2.ReportAck.ACCEPTED)

    def close(self) -> None:
        self._outgoing.put(None)
        self._responses.cancel()


def tick(
    identity: Identity, session_id: str, start_s: float, end_s: float, tx: int
) -> agent_pb2.SignedReport:
    return live_tick(identity.agent_id, session_id, sample(start_s, end_s, tx=tx))


def _wait_for(
    watcher: Watcher, predicate: Callable[[sessions_pb2.LiveCost], bool], timeout: float = 10.0
) -> sessions_pb2.LiveCost:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [u for u in list(watcher.updates) if predicate(u)]
        if found:
            return found[0]
        time.sleep(0.01)
    seen = [(u.cost.minor_units, u.provisional.minor_units) for u in watcher.updates]
    raise AssertionError(f"no such update in time; (cost, provisional) seen: {seen}")


def _rent(admin: AdminClient, identity: Identity, renter: str = "alice") -> str:
    request = sessions_pb2.StartSessionRequest(agent_id=identity.agent_id, renter=renter, plan="t")
    return admin.sessions.StartSession(request).session_id


@pytest.fixture
def traffic_plan(admin: AdminClient) -> None:
    """3.60 EUR an hour (a cent a second) and 1.00 EUR per GB sent."""
    admin.plans.CreatePlan(plan_request("t", {"standard": "3.60"}, traffic_out="1.00"))


def test_a_tick_moves_the_watched_cost_within_two_seconds_and_the_signed_report_takes_over(
    collector: Collector, admin: AdminClient, channel: grpc.Channel, traffic_plan: None
) -> None:
    identity = enroll(channel, admin)
    session_id = _rent(admin, identity)
    time.sleep(1.2)  # so that the tick's second, [began - 1, began), lies inside the session
    began = time.time()
    stream = Stream(channel)
    try:
        stream.report(identity, 1, [sample(began - 2, began - 1)])
        stream.controls.get(timeout=10)  # attached: told of the open session
        watcher = Watcher(admin, session_id)
        first = _wait_for(watcher, lambda u: True)
        assert first.provisional.minor_units == 0
        sent = time.monotonic()
        stream.send(tick(identity, session_id, began - 1, began, tx=3 * GB))
        shown = _wait_for(watcher, lambda u: u.provisional.minor_units > 0)
        assert time.monotonic() - sent < 2.0
        assert shown.provisional.minor_units == 300  # 3 GB at 1.00 EUR
        assert shown.cost.minor_units >= first.cost.minor_units + 300
        assert shown.rated_cost.minor_units == first.rated_cost.minor_units  # nothing billed yet

        # The signed report of the same time says 1 GB: it is what counts from now on.
        stream.report(identity, 2, [sample(began - 1, began, tx=GB)])
        settled = _wait_for(
            watcher, lambda u: u.provisional.minor_units == 0 and u.rated_cost.minor_units >= 100
        )
        assert settled.cost.minor_units < shown.cost.minor_units
        admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=session_id))
        close = invoices_pb2.CloseInvoicesRequest(renter="alice", invoice_now=True)
        (invoice,) = admin.invoices.CloseInvoices(close).invoices
        billed = {line.meter: line.amount.minor_units for line in invoice.lines}
        assert billed["traffic_out"] == 100  # the report's 1 GB; never the tick's 3 GB
        assert invoice.total.minor_units == sum(billed.values())
        watcher.call.cancel()
    finally:
        stream.close()


def test_absurd_early_and_misdirected_ticks_are_not_shown_and_nothing_is_billed(
    collector: Collector, admin: AdminClient, channel: grpc.Channel, traffic_plan: None
) -> None:
    admin.wallets.TopUp(
        wallets_pb2.TopUpRequest(renter="bob", amount="5.00", currency="EUR", idempotency_key="t1")
    )
    identity, other = enroll(channel, admin), enroll(channel, admin)
    session_id = _rent(admin, identity, renter="bob")
    time.sleep(1.2)  # so that the tick's second, [began - 1, began), lies inside the session
    began = time.time()
    early, stream, intruder = Stream(channel), Stream(channel), Stream(channel)
    try:
        early.send(tick(identity, session_id, began - 1, began, tx=GB))  # before any report verified
        stream.report(identity, 1, [sample(began - 2, began - 1)])
        stream.controls.get(timeout=10)
        intruder.report(other, 1, [sample(began - 2, began - 1)])  # another machine's agent, attached
        watcher = Watcher(admin, session_id)
        _wait_for(watcher, lambda u: True)
        stream.send(tick(identity, session_id, began - 1, began, tx=10**18))  # beyond 400 Gbit/s
        intruder.send(tick(other, session_id, began - 1, began, tx=GB))  # names bob's session
        # 40 GB at 1.00 EUR is beyond bob's 5.00 EUR, but plausible: shown, and still never billed.
        time.sleep(2.0)
        assert all(u.provisional.minor_units == 0 for u in watcher.updates)
        stream.send(tick(identity, session_id, began - 1, began, tx=40 * GB))
        shown = _wait_for(watcher, lambda u: u.provisional.minor_units > 0)
        assert shown.provisional.minor_units == 4000
        assert shown.balance.minor_units < 0  # what bob sees...
        time.sleep(2.5)  # ...but the balance checks (every second here) read signed reports only
        rental = admin.sessions.GetSession(sessions_pb2.GetSessionRequest(session_id=session_id))
        assert rental.state == sessions_pb2.RentalSession.OPEN
        assert rental.cost.minor_units < 100
        wallet = admin.wallets.GetWallet(wallets_pb2.GetWalletRequest(renter="bob", currency="EUR"))
        assert wallet.balance.minor_units == 500
        assert collector.metrics.live_ticks.labels("unattached")._value.get() >= 1
        watcher.call.cancel()
    finally:
        for each in (early, stream, intruder):
            each.close()


def test_implausible_ticks_are_told_apart_from_busy_machines() -> None:
    def of(cpu_busy_us: int = 0, net_rx_bytes: int = 0, net_tx_bytes: int = 0, energy_mj: int = 0) -> Any:
        return LiveTick("m", "s", 0, SECOND, cpu_busy_us, net_rx_bytes, net_tx_bytes, energy_mj=energy_mj)

    facts = {"cpu_cores_logical": 8}
    assert implausible(of(cpu_busy_us=8 * SECOND, net_tx_bytes=40 * GB, energy_mj=1_500_000), facts) is None
    assert (
        implausible(of(cpu_busy_us=9 * SECOND), facts) == "a live tick claims more CPU time than 8 cores give"
    )
    assert implausible(of(net_rx_bytes=51 * GB), facts) == "a live tick claims more traffic than 400 Gbit/s"
    assert implausible(of(energy_mj=2_000_001), facts) == "a live tick claims more energy than 2 kW a GPU"


def _kept(collector: Collector) -> float:
    return float(collector.metrics.live_ticks.labels("kept")._value.get())


def test_a_real_agent_ticks_only_while_its_machine_is_rented(
    collector: Collector, admin: AdminClient, traffic_plan: None, tmp_path: Path
) -> None:
    token = admin.machines.CreateEnrollmentToken(machines_pb2.CreateEnrollmentTokenRequest()).token
    settings = AgentSettings(collector=f"127.0.0.1:{collector.port}", state_dir=tmp_path / "agent",
                             interval=0.2, report_every=2.0, token=token)  # fmt: skip
    with running_agent(settings, sampler=RecordingSampler(TrafficPsutil())) as agent:
        wait_for(lambda: agent.sender.acknowledged > 0, what="the first acknowledgement")
        assert _kept(collector) == 0  # not rented: no ticks
        request = sessions_pb2.StartSessionRequest(agent_id=agent.identity.agent_id, renter="r", plan="t")
        session_id = admin.sessions.StartSession(request).session_id
        watcher = Watcher(admin, session_id)
        shown = _wait_for(watcher, lambda u: u.provisional.minor_units > 0, timeout=5.0)
        assert shown.rated_cost.minor_units < shown.cost.minor_units
        admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=session_id))
        time.sleep(0.5)  # a tick already on its way
        after_stop = _kept(collector)
        time.sleep(1.5)
        assert _kept(collector) == after_stop > 0
        watcher.call.cancel()


def test_a_poke_brings_the_next_value_at_once_and_a_flood_of_pokes_costs_few_produces() -> None:
    async def scenario() -> list[float]:
        produced: list[float] = []

        async def produce(key: str, previous: int | None) -> int:
            produced.append(time.monotonic())
            return len(produced)

        hub: LiveHub[int] = LiveHub(produce, 30.0, lambda value: False)  # 30 s: only pokes bring values

        async def watch() -> None:
            async for _ in hub.watch("k"):
                pass

        task = asyncio.create_task(watch())
        while not produced:
            await asyncio.sleep(0.01)
        for _ in range(30):  # 30 pokes over about 0.3 s
            hub.poke("k")
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.5)
        task.cancel()
        return produced

    produced = asyncio.run(scenario())
    gaps = [later - earlier for earlier, later in itertools.pairwise(produced)]
    assert 2 <= len(produced) <= 5, produced
    assert min(gaps) >= MIN_GAP_S - 0.02
