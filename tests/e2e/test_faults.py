"""Black-box faults with a real collector and real agents. Each ends with a bill that must equal the bill
of the same usage without the fault: the usage the agent's sampler recorded, priced independently."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest

from agent.config import AgentSettings
from agent.runner import Agent, open_channel
from agent.sender import ReportSender
from agent.spool import SPOOL_FILE, Spool
from collector.accounts.tokens import create_api_token
from collector.db.database import Database
from protos.rentmeter.v1 import agent_pb2, invoices_pb2, machines_pb2, sessions_pb2
from rentmeter.client import AdminClient
from rentmeter.embedded import running_agent
from tests.collector.helpers import plan_request
from tests.e2e.harness import (
    PRICES,
    ROOT,
    RX_PER_SAMPLE,
    TX_PER_SAMPLE,
    CollectorProcess,
    RecordingSampler,
    TrafficPsutil,
    expected_bill,
    free_port,
    wait_for,
)

pytestmark = pytest.mark.timeout(120)


def _micros(ts) -> int:  # type: ignore[no-untyped-def]
    return ts.seconds * 1_000_000 + ts.nanos // 1000


@pytest.fixture
def collector_process(tmp_path: Path) -> Iterator[CollectorProcess]:
    process = CollectorProcess(free_port(), f"sqlite:///{tmp_path / 'collector.db'}")
    process.start()
    yield process
    process.stop()


@pytest.fixture
def admin_of(collector_process: CollectorProcess) -> Iterator[AdminClient]:
    database = Database(collector_process.db_url)
    token = database.call(create_api_token, "admin", "", "fault tests", datetime.now(UTC))
    database.close()
    client = AdminClient.connect(f"127.0.0.1:{collector_process.port}", token)
    client.plans.CreatePlan(
        plan_request("f", {"standard": str(PRICES["hour"])}, traffic_in="1", traffic_out="2")
    )
    yield client
    client.close()


def agent_settings(admin: AdminClient, port: int, state: Path, interval: float = 0.05, per_report: int = 5):
    token = admin.machines.CreateEnrollmentToken(machines_pb2.CreateEnrollmentTokenRequest()).token
    return AgentSettings(collector=f"127.0.0.1:{port}", state_dir=state, interval=interval,
                         report_every=interval * per_report, token=token)  # fmt: skip


def rent(admin: AdminClient, agent: Agent) -> str:
    wait_for(lambda: agent.sender.acknowledged > 0, what="the first acknowledgement")
    request = sessions_pb2.StartSessionRequest(agent_id=agent.identity.agent_id, renter="r", plan="f")
    return admin.sessions.StartSession(request).session_id


def settle(
    admin: AdminClient,
    agent: Agent,
    session_id: str,
    sampler: RecordingSampler,
    lost: frozenset[int] = frozenset(),
) -> None:
    """Stop the rental, let the agent deliver everything, invoice it, compare with the recorded usage
    (less the samples ending at the times in `lost`: a report set aside)."""
    stopped = admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=session_id))
    end_us = _micros(stopped.ended_at)
    machine = machines_pb2.GetMachineRequest(agent_id=agent.identity.agent_id)
    wait_for(lambda: _micros(admin.machines.GetMachine(machine).last_report_end) >= end_us, what="coverage")
    wait_for(lambda: len(agent.spool) == 0, what="an empty spool")
    (invoice,) = admin.invoices.CloseInvoices(
        invoices_pb2.CloseInvoicesRequest(renter="r", invoice_now=True)
    ).invoices
    # The gap line (lost reports' time, not billed) charges nothing.
    billed = {line.meter: line.amount.minor_units for line in invoice.lines if line.meter != "gap"}
    assert all(line.amount.minor_units == 0 for line in invoice.lines if line.meter == "gap")
    kept = [s for s in sampler.recorded if s.end_us not in lost]
    assert billed == expected_bill(kept, _micros(stopped.started_at), end_us)
    assert billed["time"] > 0 and billed["traffic_in"] > 0
    assert agent.sender.rejected == 0


def with_agent(
    admin: AdminClient, port: int, tmp_path: Path, fault: Callable[[Agent], None], **kwargs
) -> None:  # type: ignore[no-untyped-def]
    sampler = RecordingSampler(TrafficPsutil())
    with running_agent(agent_settings(admin, port, tmp_path / "agent", **kwargs), sampler=sampler) as agent:
        session_id = rent(admin, agent)
        time.sleep(1)
        fault(agent)
        time.sleep(0.5)
        settle(admin, agent, session_id, sampler)


def test_collector_stopped_for_a_while_then_restarted(
    collector_process: CollectorProcess, admin_of: AdminClient, tmp_path: Path
) -> None:
    def outage(agent: Agent) -> None:
        collector_process.stop()
        time.sleep(4)  # the agent keeps sampling into its spool
        assert len(agent.spool) > 0
        collector_process.start()
        wait_for(lambda: len(agent.spool) == 0, what="the backlog to drain")

    with_agent(admin_of, collector_process.port, tmp_path, outage)


def test_collector_killed_during_a_burst(
    collector_process: CollectorProcess, admin_of: AdminClient, tmp_path: Path
) -> None:
    def kill_mid_burst(agent: Agent) -> None:
        collector_process.kill()
        time.sleep(3)  # a backlog of about 75 reports
        backlog, acked = len(agent.spool), agent.sender.acknowledged
        assert backlog > 30
        collector_process.start()
        wait_for(lambda: agent.sender.acknowledged > acked, what="the burst to start")
        collector_process.kill()  # while the backlog streams in
        collector_process.start()
        wait_for(lambda: len(agent.spool) == 0, what="the backlog to drain")

    with_agent(admin_of, collector_process.port, tmp_path, kill_mid_burst, interval=0.02, per_report=2)


def test_whole_spool_resent_twice(
    collector_process: CollectorProcess, admin_of: AdminClient, tmp_path: Path
) -> None:
    def resend_twice(agent: Agent) -> None:
        collector_process.stop()
        time.sleep(2)
        source = sqlite3.connect(agent.settings.state_dir / SPOOL_FILE)
        copies = []
        for n in range(2):
            copy = tmp_path / f"copy{n}" / SPOOL_FILE
            copy.parent.mkdir()
            with sqlite3.connect(copy) as target:
                source.backup(target)
            copies.append(copy)
        source.close()
        collector_process.start()
        wait_for(lambda: len(agent.spool) == 0, what="the first delivery")
        for copy in copies:
            spool = Spool(copy)
            assert len(spool) > 0
            sender = ReportSender(open_channel(agent.settings), spool, agent.identity.agent_id)
            sender.start()
            wait_for(lambda spool=spool: len(spool) == 0, what="the resend")
            sender.stop()
            assert sender.rejected == 0

    with_agent(admin_of, collector_process.port, tmp_path, resend_twice)


def test_counter_reset_in_the_middle_of_a_session(admin, collector, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    admin.plans.CreatePlan(plan_request("f", {"standard": "36"}, traffic_in="1", traffic_out="2"))
    ps = TrafficPsutil()
    sampler = RecordingSampler(ps)
    with running_agent(agent_settings(admin, collector.port, tmp_path / "a"), sampler=sampler) as agent:
        session_id = rent(admin, agent)
        time.sleep(0.7)
        ps.reset_next = True  # driver reload: every counter restarts from zero
        time.sleep(0.7)
        settle(admin, agent, session_id, sampler)
    assert ps.reads > 20 and not ps.reset_next
    assert [(s.net_rx_bytes, s.net_tx_bytes) for s in sampler.recorded] == [
        (RX_PER_SAMPLE, TX_PER_SAMPLE)
    ] * len(sampler.recorded)


@pytest.mark.parametrize("step_s", [3600, -3600])
def test_wall_clock_step_of_an_hour(admin, collector, tmp_path: Path, step_s: int) -> None:  # type: ignore[no-untyped-def]
    admin.plans.CreatePlan(plan_request("f", {"standard": "36"}, traffic_in="1", traffic_out="2"))
    offset = [0]
    sampler = RecordingSampler(TrafficPsutil(), wall_ns=lambda: time.time_ns() + offset[0])
    with running_agent(agent_settings(admin, collector.port, tmp_path / "a"), sampler=sampler) as agent:
        session_id = rent(admin, agent)
        time.sleep(0.7)
        offset[0] = step_s * 10**9  # the machine's clock jumps an hour
        time.sleep(1.0)
        rental = admin.sessions.GetSession(sessions_pb2.GetSessionRequest(session_id=session_id))
        settle(admin, agent, session_id, sampler)
    starts = [s.start_us for s in sampler.recorded]
    assert all(b.start_us == a.end_us for a, b in pairwise(sampler.recorded))
    assert abs(starts[-1] / 1e6 - time.time()) < 5  # the timeline never followed the step
    assert rental.covered_us > 0


def test_agent_killed_mid_stream_loses_at_most_the_interval_being_sampled(
    admin, collector, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "agent"
    token = admin.machines.CreateEnrollmentToken(machines_pb2.CreateEnrollmentTokenRequest()).token
    target = f"127.0.0.1:{collector.port}"
    command = [sys.executable, "-m", "rentmeter", "agent", "run", "--collector", target,
               "--state-dir", str(state), "--interval", "0.1", "--report-every", "1"]  # fmt: skip
    first = subprocess.Popen([*command, "--token", token], cwd=ROOT, stderr=subprocess.DEVNULL)
    db = sqlite3.connect(collector.settings.db_url.removeprefix("sqlite:///"))
    wait_for(lambda: db.execute("SELECT count(*) FROM reports").fetchone()[0] >= 2, what="reports")
    time.sleep(0.75)  # mid-report: some samples spooled, not yet sealed or sent
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    snapshot = tmp_path / "snapshot.db"
    with sqlite3.connect(snapshot) as target:
        sqlite3.connect(state / SPOOL_FILE).backup(target)
    spooled = Spool(snapshot)
    waiting = [s for s, _ in spooled.pending(limit=10**6)]
    assert spooled.sample_count() > 0 or waiting  # the kill left work in the spool
    second = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.DEVNULL)
    try:
        wait_for(
            lambda: (
                db.execute("SELECT max(sequence) FROM reports").fetchone()[0] > max(waiting, default=0) + 1
            )
        )
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(20)
    sequences = [row[0] for row in db.execute("SELECT sequence FROM reports ORDER BY sequence")]
    assert sequences == list(range(1, len(sequences) + 1))  # nothing lost, nothing twice
    samples = db.execute("SELECT start_us, end_us FROM samples ORDER BY start_us").fetchall()
    assert all(b[0] >= a[1] for a, b in pairwise(samples))  # no second counted twice
    gaps = [b[0] - a[1] for a, b in pairwise(samples) if b[0] > a[1]]
    assert len(gaps) <= 1  # only the kill left a gap: the interval being sampled plus the restart
    shutil.rmtree(state, ignore_errors=True)


# --- a damaged spool ------------------------------------------------------------------------------------


def _agent_status(state: Path) -> dict:  # type: ignore[type-arg]
    shown = subprocess.run(
        [sys.executable, "-m", "rentmeter", "agent", "status", "--state-dir", str(state), "--output", "json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return json.loads(shown.stdout)


def _gaps(db_url: str) -> list[tuple[str, int | None, str]]:
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as db:
        return db.execute("SELECT kind, sequence, reason FROM report_gaps ORDER BY id").fetchall()


def test_a_flipped_bit_in_a_spooled_report_sets_that_report_aside_and_the_rest_is_billed(
    collector_process: CollectorProcess, admin_of: AdminClient, tmp_path: Path
) -> None:
    """One report whose signature no longer verifies used to end every stream of its machine: nothing
    after it was ever delivered. Now it is set aside, told as a gap, and everything else is billed."""
    damaged: dict[str, object] = {}

    def flip_a_bit(agent: Agent) -> None:
        # The bit flips as the report reaches the disk (its spooled copy is the damaged one from the start):
        # while the collector is away the sender may already hold good copies of the reports spooled before.
        seal = agent.spool.seal

        def sealing_with_damage(build):  # type: ignore[no-untyped-def]
            def damaged_build(sequence, samples, gaps):  # type: ignore[no-untyped-def]
                raw = build(sequence, samples, gaps)
                if damaged or sequence < first_after_stop + 2:
                    return raw
                payload = agent_pb2.SignedReport.FromString(raw).payload
                at = raw.index(payload) + len(payload) // 2
                report = agent_pb2.UsageReport.FromString(payload)
                damaged.update(sequence=sequence, ends=frozenset(_micros(s.end) for s in report.samples))
                return raw[:at] + bytes([raw[at] ^ 0x10]) + raw[at + 1 :]

            return seal(damaged_build)

        collector_process.stop()
        first_after_stop = agent.spool.last_sequence() + 1
        agent.spool.seal = sealing_with_damage  # type: ignore[method-assign]
        wait_for(
            lambda: "sequence" in damaged and len(agent.spool) >= 6, what="reports piling up in the spool"
        )
        agent.spool.seal = seal  # type: ignore[method-assign]
        sequence = damaged["sequence"]
        collector_process.start()
        wait_for(lambda: len(agent.spool) == 0, what="the backlog to drain past the damaged report")
        assert [q.sequence for q in agent.spool.quarantined()] == [sequence]
        status = _agent_status(agent.settings.state_dir)
        (aside,) = status["quarantined"]
        assert aside["sequence"] == sequence and "signature does not verify" in aside["reason"]
        wait_for(lambda: bool(_gaps(collector_process.db_url)), what="the gap told to the collector")

    sampler = RecordingSampler(TrafficPsutil())
    settings = agent_settings(admin_of, collector_process.port, tmp_path / "agent")
    with running_agent(settings, sampler=sampler) as agent:
        session_id = rent(admin_of, agent)
        time.sleep(1)
        flip_a_bit(agent)
        settle(admin_of, agent, session_id, sampler, lost=damaged["ends"])  # type: ignore[arg-type]
        assert agent.sender.quarantined == 1
    ((kind, sequence, reason),) = _gaps(collector_process.db_url)
    assert (kind, sequence) == ("forged", damaged["sequence"]) and "signature does not verify" in reason
    machine = admin_of.machines.GetMachine(machines_pb2.GetMachineRequest(agent_id=agent.identity.agent_id))
    (shown,) = machine.gaps  # what `rentmeter machines show` prints
    assert machine.gap_count == 1 and shown.sequence == damaged["sequence"] and shown.reason == reason
    listed = admin_of.machines.ListMachines(machines_pb2.ListMachinesRequest()).machines
    assert [m.gap_count for m in listed] == [1]


def _wal_frames(wal: Path) -> tuple[int, int]:
    """(frame size, whole frames) of an SQLite WAL file (32-byte header; frames of 24 + page size)."""
    data = wal.read_bytes()
    frame = 24 + int.from_bytes(data[8:12], "big")
    return frame, (len(data) - 32) // frame


def _spool_contents(path: Path) -> tuple[int, list[agent_pb2.Sample]]:
    """(last sequence, every sample) in a spool: waiting samples and those in sealed reports."""
    with sqlite3.connect(path) as db:
        meta = dict(db.execute("SELECT key, value FROM meta"))
        samples = [agent_pb2.Sample.FromString(d) for (d,) in db.execute("SELECT data FROM samples")]
        for (raw,) in db.execute("SELECT envelope FROM reports"):
            payload = agent_pb2.SignedReport.FromString(raw).payload
            samples += agent_pb2.UsageReport.FromString(payload).samples
    return int(meta.get("last_sequence", 0)), samples


def test_a_torn_wal_after_a_power_cut_reuses_no_sequence_and_loses_nothing_that_was_on_disk(
    admin, collector, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The last frames of the spool's log never reached the disk: the agent comes back with sequence
    numbers the collector already holds. It must number its new reports above them (the collector answered
    DUPLICATE to the different reports and the agent deleted them: usage silently lost)."""
    state = tmp_path / "agent"
    token = admin.machines.CreateEnrollmentToken(machines_pb2.CreateEnrollmentTokenRequest()).token
    target = f"127.0.0.1:{collector.port}"
    command = [sys.executable, "-m", "rentmeter", "agent", "run", "--collector", target, "--token", token,
               "--state-dir", str(state), "--interval", "0.1", "--report-every", "0.3"]  # fmt: skip
    first = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.DEVNULL)
    db = sqlite3.connect(collector.settings.db_url.removeprefix("sqlite:///"))
    wait_for(lambda: db.execute("SELECT count(*) FROM reports").fetchone()[0] >= 15, what="reports")
    first.send_signal(signal.SIGKILL)  # the power goes
    first.wait(10)
    wal = state / (SPOOL_FILE + "-wal")
    frame, frames = _wal_frames(wal)
    assert frames > 60
    with wal.open("r+b") as torn:  # the last 40 frames never reached the disk; the one before is half there
        torn.truncate(32 + (frames - 40) * frame - frame // 2)
    snapshot = tmp_path / "snapshot" / SPOOL_FILE
    snapshot.parent.mkdir()
    for suffix in ("", "-wal"):
        shutil.copy(state / (SPOOL_FILE + suffix), snapshot.with_name(SPOOL_FILE + suffix))
    last_on_disk, intact = _spool_contents(snapshot)
    stored_before = db.execute("SELECT max(sequence) FROM reports").fetchone()[0]
    assert last_on_disk < stored_before  # the fault: sequences the collector holds will be handed out again
    sampler = RecordingSampler(TrafficPsutil())  # the second run records every sample it takes
    settings = AgentSettings(collector=target, state_dir=state, interval=0.1, report_every=0.3)
    with running_agent(settings, sampler=sampler):
        wait_for(lambda: db.execute("SELECT max(sequence) FROM reports").fetchone()[0] > stored_before + 5)
    left = Spool(state / SPOOL_FILE)
    assert (left.pending(), left.quarantined(), left.last_sequence() > stored_before) == ([], [], True)
    rows = db.execute(
        "SELECT start_us, end_us, cpu_busy_us, net_rx_bytes, net_tx_bytes FROM samples ORDER BY start_us"
    ).fetchall()
    stored = [(end, cpu, rx, tx) for _, end, cpu, rx, tx in rows]
    assert len(set(stored)) == len(stored)  # no sample counted twice
    assert all(b[0] >= a[1] for a, b in pairwise(rows))  # no second counted twice
    for s in intact:  # every sample that was on disk intact reached the collector
        assert (_micros(s.end), s.cpu_busy_us, s.net_rx_bytes, s.net_tx_bytes) in set(stored)
    ends = {end for end, *_ in stored}
    assert [s.end_us for s in sampler.recorded if s.end_us not in ends] == []  # the second run: all delivered
    shutil.rmtree(state, ignore_errors=True)


def test_a_spool_cut_in_half_is_moved_aside_and_metering_goes_on(
    collector_process: CollectorProcess, admin_of: AdminClient, tmp_path: Path
) -> None:
    """A spool SQLite cannot read crashed the agent with a traceback on every start."""
    settings = agent_settings(admin_of, collector_process.port, tmp_path / "agent")
    with running_agent(settings, sampler=RecordingSampler(TrafficPsutil())) as agent:
        wait_for(lambda: agent.sender.acknowledged >= 5, what="the first reports")
        collector_process.stop()  # what the agent seals now stays in its spool, and is lost with it
        wait_for(lambda: len(agent.spool) >= 3, what="reports waiting")
    spool = settings.state_dir / SPOOL_FILE
    whole = spool.read_bytes()
    spool.write_bytes(whole[: len(whole) // 2])
    collector_process.start()
    db = sqlite3.connect(collector_process.db_url.removeprefix("sqlite:///"))
    stored_before = db.execute("SELECT max(sequence) FROM reports").fetchone()[0]
    sampler = RecordingSampler(TrafficPsutil())
    with running_agent(replace(settings, token=""), sampler=sampler) as agent:
        wait_for(lambda: agent.sender.acknowledged >= 5, what="reports from the new spool")
        status = _agent_status(settings.state_dir)
    wait_for(lambda: len(Spool(spool)) == 0, what="the last report")
    (moved,) = status["spools_moved_aside"]
    assert (settings.state_dir / moved).read_bytes() == whole[: len(whole) // 2]  # kept for inspection
    sequences = [row[0] for row in db.execute("SELECT sequence FROM reports ORDER BY sequence")]
    assert sequences == sorted(set(sequences)) and sequences[-1] > stored_before
    ends = {row[0] for row in db.execute("SELECT end_us FROM samples")}
    assert all(s.end_us in ends for s in sampler.recorded)  # the new spool's reports: all delivered
    ((kind, sequence, reason),) = _gaps(collector_process.db_url)
    assert (kind, sequence) == ("spool_lost", None) and moved in reason
