"""The report sender against a real collector on loopback: nothing ends delivery for good, damaged copies
are set aside and told as gaps, the collector's retry hints are followed."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from sqlalchemy import text

from agent.identity import Identity
from agent.sender import ReportSender
from agent.spool import Gap, Spool
from agent.wire import build_report, renumber, sample_to_proto, sign_report
from collector.api.agent_servicer import RATE_PUSHBACK_S
from collector.config import CollectorSettings
from collector.server import Collector
from protos.rentmeter.v1 import agent_pb2
from rentmeter.client import AdminClient
from tests.collector.helpers import sample, signed
from tests.collector.test_services import enroll, stream
from tests.e2e.harness import wait_for


@pytest.fixture
def collector_settings(collector_settings: CollectorSettings) -> CollectorSettings:
    """10 reports a second per agent in bursts of 100: the rate-limit test goes over it."""
    return replace(collector_settings, agent_report_rate_limit=10)


def _fill(spool: Spool, identity: Identity, reports: int, t0: float) -> None:
    def build(sequence: int, samples: list[bytes], gaps: list[Gap]) -> bytes:
        parsed = [agent_pb2.Sample.FromString(s) for s in samples]
        report = build_report(identity.agent_id, sequence, parsed, [], 0, gaps)
        return sign_report(identity, report).SerializeToString()

    for n in range(reports):
        spool.add_sample(sample_to_proto(sample(t0 + n, t0 + n + 1, rx=10)).SerializeToString())
        spool.seal(build)


@pytest.fixture
def machine(channel: grpc.Channel, admin: AdminClient, tmp_path: Path) -> Iterator[tuple[Identity, Spool]]:
    spool = Spool(tmp_path / "spool.db")
    yield enroll(channel, admin), spool
    spool.close()


def _sender(channel: grpc.Channel, spool: Spool, identity: Identity) -> ReportSender:
    return ReportSender(channel, spool, identity.agent_id,
                        renumber=lambda seq, raw: renumber(identity, seq, raw))  # fmt: skip


def _stored(collector: Collector, query: str) -> list[tuple]:  # type: ignore[type-arg]
    with collector.database.engine.connect() as db:
        return [tuple(row) for row in db.execute(text(query))]


class FailingDisk(Spool):
    """A spool whose disk fails once, when the first acknowledgement is written (an I/O error cannot be
    produced on demand here)."""

    failures = 1

    def acknowledge(self, sequences):  # type: ignore[no-untyped-def]
        if self.failures:
            self.failures -= 1
            raise sqlite3.OperationalError("disk I/O error")
        super().acknowledge(sequences)


def test_a_spool_failure_is_logged_and_delivery_goes_on(
    channel: grpc.Channel,
    admin: AdminClient,
    collector: Collector,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    identity = enroll(channel, admin)
    spool = FailingDisk(tmp_path / "spool.db")
    _fill(spool, identity, 5, time.time() - 60)
    sender = _sender(channel, spool, identity)
    sender.start()
    try:
        wait_for(lambda: len(spool) == 0, timeout=15, what="delivery after the disk failed once")
        assert sender.alive and spool.failures == 0
        _fill(spool, identity, 1, time.time() - 50)
        sender.notify()
        wait_for(lambda: len(spool) == 0, timeout=15, what="later reports")
    finally:
        sender.stop()
    assert "delivering reports failed" in caplog.text and "disk I/O error" in caplog.text
    assert _stored(collector, "SELECT count(*) FROM reports") == [(6,)]


def test_a_copy_that_does_not_decode_is_set_aside_told_as_a_gap_and_the_rest_delivered(
    channel: grpc.Channel, machine: tuple[Identity, Spool], collector: Collector
) -> None:
    identity, spool = machine
    _fill(spool, identity, 3, time.time() - 60)
    spool._db.execute("UPDATE reports SET envelope = x'ffffffff' WHERE sequence = 2")  # a damaged sector
    sender = _sender(channel, spool, identity)
    sender.start()
    try:
        wait_for(lambda: len(spool) == 0, timeout=15, what="the others delivered")
        (aside,) = spool.quarantined()
        assert (aside.sequence, aside.kind) == (2, "unreadable") and "does not decode" in aside.reason
        _fill(spool, identity, 1, time.time() - 50)  # the next report tells the gap
        sender.notify()
        wait_for(lambda: len(spool) == 0, timeout=15, what="the report with the gap")
    finally:
        sender.stop()
    assert _stored(collector, "SELECT sequence FROM reports ORDER BY sequence") == [(1,), (3,), (4,)]
    assert _stored(collector, "SELECT reported_in, kind, sequence FROM report_gaps") == [(4, "unreadable", 2)]
    assert sender.quarantined == 1


def test_the_collectors_retry_hint_is_followed(
    channel: grpc.Channel, machine: tuple[Identity, Spool], caplog: pytest.LogCaptureFixture
) -> None:
    identity, spool = machine
    _fill(spool, identity, 150, time.time() - 300)  # more than the burst of 100
    sender = _sender(channel, spool, identity)
    caplog.set_level(logging.WARNING, logger="agent.sender")
    sender.start()
    try:
        wait_for(lambda: "as the collector asked" in caplog.text, timeout=15, what="the refusal")
    finally:
        sender.stop()
    (line,) = [r.getMessage() for r in caplog.records if "as the collector asked" in r.getMessage()]
    assert "RESOURCE_EXHAUSTED" in line
    delay = float(line.split("retrying in ")[1].split("s")[0])
    assert RATE_PUSHBACK_S <= delay <= RATE_PUSHBACK_S * 1.2
    assert 0 < len(spool) <= 50  # the burst was delivered, the rest waits for the hinted time


def test_reports_under_sequences_the_collector_holds_are_numbered_again_and_all_delivered(
    channel: grpc.Channel, machine: tuple[Identity, Spool], collector: Collector
) -> None:
    """A spool that lost its end (power cut) numbers reports again from where it was: the collector
    answers CONFLICT (it used to answer DUPLICATE, and the agent deleted new usage) and tells its last
    stored sequence; the agent numbers them above it and every sample arrives once."""
    identity, spool = machine
    t = time.time() - 100
    stream(channel, [signed(identity, n, [sample(t + n, t + n + 1, rx=1)]) for n in (1, 2)])
    _fill(spool, identity, 3, t + 10)  # sequences 1, 2, 3 again, with other samples
    sender = _sender(channel, spool, identity)
    sender.start()
    try:
        wait_for(lambda: len(spool) == 0, timeout=15, what="delivery")
    finally:
        sender.stop()
    assert sender.renumbered == 2 and spool.last_sequence() == 5
    rows = _stored(collector, "SELECT report_sequence, end_us - start_us FROM samples ORDER BY start_us")
    assert [n for n, _ in rows] == [1, 2, 4, 5, 3]  # every sample once, in its own place in time
    assert all(abs(length - 1_000_000) <= 1 for _, length in rows)  # none of its time cut
