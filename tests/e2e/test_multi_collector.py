"""Three collector processes on one PostgreSQL database, agents hopping between them, one collector killed
(SIGKILL) mid-run: no report lost or stored twice, each job run once per period, one invoice per renter and
period, controls delivered whichever collector an agent's stream is on."""

from __future__ import annotations

import itertools
import os
import queue
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from sqlalchemy import func, select

from agent.identity import Identity
from collector.accounts.tokens import create_api_token
from collector.db.database import Database
from collector.db.models import Invoice, JobLease, RentalSession, Renter, Report, Sample
from protos.rentmeter.v1 import agent_pb2, agent_pb2_grpc, machines_pb2, sessions_pb2
from rentmeter.client import AdminClient
from tests.collector.helpers import plan_request, sample, signed
from tests.collector.test_services import enroll
from tests.conftest import reset_postgres
from tests.e2e.harness import ROOT, free_port, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]

AGENTS = 6
HOPPING_S = 14.0
KILL_AFTER_S = 5.0
REPORT_EVERY_S = 0.15
HOP_AFTER = 6  # new reports per stream before the agent moves to another collector
INVOICE_PERIOD_S = 10
RATING_INTERVAL_S = 1
DELIVERED = (agent_pb2.ReportAck.ACCEPTED, agent_pb2.ReportAck.DUPLICATE)


@dataclass
class CollectorProc:
    name: str
    port: int
    metrics_port: int
    process: subprocess.Popen[bytes]
    started: float = field(default_factory=time.monotonic)
    last_metrics: str = ""

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def scrape(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as answer:
            self.last_metrics = answer.read().decode()
        return self.last_metrics


def _start(name: str, db_url: str, logs: Path) -> CollectorProc:
    port, metrics_port = free_port(), free_port()
    env = {**os.environ, "RENTMETER_JOB_LEASE": "3s", "RENTMETER_INVOICE_GRACE": "1s",
           "RENTMETER_METRICS_LISTEN": f"127.0.0.1:{metrics_port}"}  # fmt: skip
    command = [sys.executable, "-m", "rentmeter", "collector", "serve", "--listen", f"127.0.0.1:{port}",
               "--db", db_url, "--rating-interval", f"{RATING_INTERVAL_S}s",
               "--invoice-period", f"{INVOICE_PERIOD_S}s", "--name", name]  # fmt: skip
    with (logs / f"{name}.log").open("w") as log:  # kept by pytest under its tmp_path for a failed run
        process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=log)
    return CollectorProc(name, port, metrics_port, process)


@pytest.fixture
def collectors(pg_url: str, tmp_path: Path) -> Iterator[list[CollectorProc]]:
    reset_postgres(pg_url)
    # They migrate the empty database together.
    started = [_start(f"c{i}", pg_url, tmp_path) for i in range(3)]
    try:
        for proc in started:
            with grpc.insecure_channel(proc.target) as channel:
                grpc.channel_ready_future(channel).result(timeout=90)
        yield started
    finally:
        for proc in started:
            if proc.process.poll() is None:
                proc.process.terminate()
        for proc in started:
            proc.process.wait(30)


def _job_runs(metrics: str, job: str, outcome: str) -> int:
    found = re.search(rf'rentmeter_job_runs_total{{job="{job}",outcome="{outcome}"}} ([0-9.e+]+)', metrics)
    return int(float(found.group(1))) if found else 0


@dataclass
class HoppingAgent:
    """An agent as the real one behaves: signed reports numbered 1, 2, ...; each stream resends what was not
    acknowledged, then sends new reports; after HOP_AFTER new ones (or its collector dying) it moves on."""

    identity: Identity
    alive: list[CollectorProc]
    started_s: float
    sequence: int = 0
    unacked: dict[int, agent_pb2.SignedReport] = field(default_factory=dict)
    statuses: dict[int, set[int]] = field(default_factory=dict)
    streams: int = 0
    failures: int = 0
    current: str = ""  # the collector of the stream open now
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _new_report(self) -> agent_pb2.SignedReport:
        with self.lock:
            self.sequence += 1
            start = self.started_s + (self.sequence - 1) * REPORT_EVERY_S
            end = self.started_s + self.sequence * REPORT_EVERY_S  # the next one's start, to the microsecond
            envelope = signed(self.identity, self.sequence, [sample(start, end, rx=1000)])
            self.unacked[self.sequence] = envelope
            return envelope

    def _requests(self, until: float) -> Iterator[agent_pb2.SignedReport]:
        with self.lock:
            backlog = [self.unacked[s] for s in sorted(self.unacked)]
        yield from backlog
        for _ in range(HOP_AFTER):
            if time.monotonic() >= until:
                return
            time.sleep(REPORT_EVERY_S)
            yield self._new_report()

    def run(self, until: float) -> None:
        while time.monotonic() < until or self.unacked:
            target = self.current = random.choice(self.alive).target
            self.streams += 1
            try:
                with grpc.insecure_channel(target) as channel:
                    stub = agent_pb2_grpc.AgentServiceStub(channel)
                    for message in stub.StreamReports(self._requests(until), timeout=30):
                        with self.lock:
                            for ack in message.acks:
                                self.statuses.setdefault(ack.sequence, set()).add(ack.status)
                                if ack.status in (
                                    agent_pb2.ReportAck.ACCEPTED,
                                    agent_pb2.ReportAck.DUPLICATE,
                                ):
                                    self.unacked.pop(ack.sequence, None)
            except grpc.RpcError:
                self.failures += 1  # its collector died (or is going): resend elsewhere
                time.sleep(0.2)
            if time.monotonic() > until + 60:
                raise AssertionError(
                    f"agent {self.identity.agent_id} could not deliver {sorted(self.unacked)}"
                )


def _control_arrives(first: agent_pb2.SignedReport, stream_on: CollectorProc, act: object, kind: int) -> bool:
    """Open a stream on `stream_on` sending the agent's report `first`, then call `act()` (through another
    collector) and tell whether a control of `kind` reached the stream within 2 s."""
    outgoing: queue.Queue[agent_pb2.SignedReport | None] = queue.Queue()
    seen: queue.Queue[int] = queue.Queue()
    with grpc.insecure_channel(stream_on.target) as channel:
        responses = agent_pb2_grpc.AgentServiceStub(channel).StreamReports(
            iter(outgoing.get, None), timeout=20
        )

        def read() -> None:
            try:
                for message in responses:
                    if message.HasField("last_stored_sequence") or message.acks:
                        seen.put(-1)
                    for control in message.controls:
                        seen.put(control.kind)
            except grpc.RpcError:
                pass

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        outgoing.put(first)
        assert seen.get(timeout=10) == -1  # attached: the collector routes this agent's controls here
        act()  # type: ignore[operator]
        deadline, arrived = time.monotonic() + 2.0, False
        while not arrived and time.monotonic() < deadline:
            try:
                arrived = seen.get(timeout=max(0.01, deadline - time.monotonic())) == kind
            except queue.Empty:
                break
        outgoing.put(None)
        responses.cancel()
        reader.join(5)
    return arrived


def _check_controls(
    identities: list[Identity], collectors: list[CollectorProc], admins: list[AdminClient]
) -> list[str]:
    """Each agent's stream on one collector, its session started through another; a lock through a third
    is counted as delivered. Returns the sessions started."""
    rentals: list[str] = []
    firsts = [signed(identity, 1, [sample(time.time() - 5, time.time() - 4.9)]) for identity in identities]
    for i, identity in enumerate(identities):
        stream_on, via = collectors[i % 3], admins[(i + 1) % 3]
        start = sessions_pb2.StartSessionRequest(agent_id=identity.agent_id, renter=f"r{i}", plan="p")

        def start_session(via: AdminClient = via, start: sessions_pb2.StartSessionRequest = start) -> None:
            rentals.append(via.sessions.StartSession(start).session_id)

        arrived = _control_arrives(firsts[i], stream_on, start_session, agent_pb2.Control.SESSION_STARTED)
        assert arrived, f"SESSION_STARTED reached agent {i}"
    lock = machines_pb2.SendControlRequest(agent_id=identities[0].agent_id, kind=agent_pb2.Control.LOCK_NOW)
    answers: list[int] = []
    locked = _control_arrives(firsts[0], collectors[2],
                              lambda: answers.append(admins[1].machines.SendControl(lock).delivered),
                              agent_pb2.Control.LOCK_NOW)  # fmt: skip
    assert locked and answers == [1]  # the stream on another collector is counted
    return rentals


def _hop_and_kill(identities: list[Identity], collectors: list[CollectorProc]) -> list[HoppingAgent]:
    """Agents hop between the collectors for HOPPING_S; the third is killed after KILL_AFTER_S."""
    alive = list(collectors)
    until = time.monotonic() + HOPPING_S
    agents = [HoppingAgent(identity, alive, time.time() - 1, sequence=1) for identity in identities]
    threads = [threading.Thread(target=agent.run, args=(until,)) for agent in agents]
    for thread in threads:
        thread.start()
    time.sleep(KILL_AFTER_S)
    victim = collectors[2]
    victim.scrape()
    on_victim = lambda: any(a.current == victim.target for a in agents)  # noqa: E731
    wait_for(on_victim, timeout=10, what="a stream on the collector to kill")
    alive.remove(victim)
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait(10)
    for thread in threads:
        thread.join(120)
    assert sum(a.failures for a in agents) > 0, "the kill cut some streams"
    return agents


def _check_reports(database: Database, agents: list[HoppingAgent]) -> None:
    """Every report stored once (report 1 went in the control phase), each sample once."""
    for agent in agents:
        agent_id = agent.identity.agent_id
        query = select(Report.sequence).where(Report.agent_id == agent_id).order_by(Report.sequence)
        sequences = database.call(lambda db, q=query: list(db.scalars(q)))
        assert sequences == list(range(1, agent.sequence + 1)), agent_id
        count = select(func.count()).select_from(Sample).where(Sample.agent_id == agent_id)
        assert database.call(lambda db, q=count: db.scalar(q)) == agent.sequence


def _check_invoices(database: Database, admin: AdminClient, rentals: list[str]) -> None:
    """The sessions end; every period of every renter is invoiced once, numbers without gaps."""
    for session_id in rentals:
        admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=session_id))
    ended = database.call(lambda db: max(db.scalars(select(RentalSession.ended_at))))
    columns = select(Invoice.renter_id, Invoice.period_start, Invoice.period_end, Invoice.number)

    def invoiced() -> bool:  # every renter's periods closed past its session's end (empty ones bill nothing)
        done = database.call(lambda db: list(db.scalars(select(Renter.invoiced_until))))
        return len(done) == AGENTS and min(done) >= ended

    wait_for(invoiced, timeout=120, what="every renter's periods invoiced")
    invoices = database.call(lambda db: list(db.execute(columns)))
    assert {renter for renter, *_ in invoices} == {f"r{i}" for i in range(AGENTS)}
    assert len({(renter, start) for renter, start, _, _ in invoices}) == len(invoices)
    numbers = sorted(int(number.rsplit("-", 1)[1]) for *_, number in invoices)
    assert numbers == list(range(1, len(invoices) + 1)), "invoice numbers without gaps or repeats"
    for renter in {r for r, *_ in invoices}:
        spans = sorted((s, e) for r, s, e, _ in invoices if r == renter)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), f"overlapping invoices of {renter}"


def _check_jobs(database: Database, collectors: list[CollectorProc]) -> None:
    """Each period of a job ran on one collector: the runs of all three together fit the periods."""
    elapsed = time.monotonic() - collectors[0].started  # every schedule began after this
    scraped = [collectors[0].scrape(), collectors[1].scrape(), collectors[2].last_metrics]
    runs = {job: sum(_job_runs(m, job, "ok") for m in scraped) for job in ("rate-sessions", "close-invoices")}
    assert 0 < runs["rate-sessions"] <= elapsed / RATING_INTERVAL_S + 2, (runs, elapsed)
    assert 0 < runs["close-invoices"] <= elapsed / INVOICE_PERIOD_S + 2, (runs, elapsed)
    assert sum(_job_runs(m, "rate-sessions", "elsewhere") for m in scraped) > 0
    query = select(JobLease.holder).where(JobLease.job == "rate-sessions")
    assert database.call(lambda db: db.scalar(query)) in ("c0", "c1")  # taken over from the killed one


def test_three_collectors_one_killed(collectors: list[CollectorProc], pg_url: str) -> None:
    database = Database(pg_url)
    token = database.call(create_api_token, "admin", "", "tests", datetime.now(UTC))
    admins = [AdminClient.connect(c.target, token) for c in collectors]
    try:
        admins[0].plans.CreatePlan(plan_request("p", {"standard": "36"}))
        with grpc.insecure_channel(collectors[0].target) as channel:
            identities = [enroll(channel, admins[0]) for _ in range(AGENTS)]
        rentals = _check_controls(identities, collectors, admins)
        agents = _hop_and_kill(identities, collectors)
        _check_reports(database, agents)
        _check_invoices(database, admins[0], rentals)
        _check_jobs(database, collectors)
    finally:
        for admin in admins:
            admin.close()
        database.close()
