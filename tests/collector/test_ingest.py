"""Storing reports on a real database (SQLite and PostgreSQL): dedupe, ordering, validation, overlap."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from agent.gpu import GpuReading
from agent.identity import Identity, public_key_bytes
from agent.wire import sign_report, timestamp_us
from collector.api.wire import report_from_proto
from collector.core.clock import to_us
from collector.db.database import Database
from collector.db.models import ReportGap
from collector.metering.enrollment import create_token, enroll
from collector.metering.ingest import AckStatus, IncomingReport, store_reports
from collector.metering.usage import usage_summary
from protos.rentmeter.v1 import agent_pb2
from tests.collector.helpers import SECOND, incoming, new_identity, sample

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
T0 = to_us(NOW) / SECOND - 3600  # an hour ago, in seconds


@pytest.fixture
def identity(database: Database) -> Identity:
    key_owner = new_identity()
    token, _ = database.call(
        create_token, machine_class="standard", ttl=timedelta(hours=1), label="", now=NOW - timedelta(hours=2)
    )
    machine = database.call(
        enroll,
        token=token,
        public_key=public_key_bytes(key_owner.key),
        facts={},
        now=NOW - timedelta(hours=2),
    )
    return Identity(machine.agent_id, "standard", key_owner.key)


def store(database: Database, *reports):  # type: ignore[no-untyped-def]
    return database.call(store_reports, list(reports), NOW)


def test_accepts_and_counts_once(database: Database, identity: Identity) -> None:
    first = incoming(identity, 1, [sample(T0, T0 + 1, rx=100), sample(T0 + 1, T0 + 2, rx=50)])
    (ack,) = store(database, first)
    assert ack.status is AckStatus.ACCEPTED
    acks = store(database, first, first)
    assert [a.status for a in acks] == [AckStatus.DUPLICATE, AckStatus.DUPLICATE]
    usage = database.call(usage_summary, identity.agent_id, int(T0 * SECOND), int((T0 + 10) * SECOND))
    assert (usage.covered_us, usage.net_rx_bytes, usage.sample_count) == (2 * SECOND, 150, 2)


def test_duplicate_inside_one_batch(database: Database, identity: Identity) -> None:
    report = incoming(identity, 1, [sample(T0, T0 + 1)])
    assert [a.status for a in store(database, report, report)] == [AckStatus.ACCEPTED, AckStatus.DUPLICATE]


def test_a_sequence_below_the_last_stored_is_a_conflict(database: Database, identity: Identity) -> None:
    store(database, incoming(identity, 5, [sample(T0, T0 + 1)]))
    (ack,) = store(database, incoming(identity, 3, [sample(T0 + 1, T0 + 2)]))
    assert ack.status is AckStatus.CONFLICT and "not after the last stored 5" in ack.reason


def test_a_different_report_under_a_stored_sequence_is_a_conflict_not_a_duplicate(
    database: Database, identity: Identity
) -> None:
    """A torn spool reuses a sequence for new samples: DUPLICATE would have made the agent delete them."""
    first = incoming(identity, 1, [sample(T0, T0 + 1, rx=10)])
    store(database, first)
    reused = incoming(identity, 1, [sample(T0 + 1, T0 + 2, rx=20)])
    assert [a.status for a in store(database, first, reused)] == [AckStatus.DUPLICATE, AckStatus.CONFLICT]
    (conflict,) = store(database, reused)
    assert "a different report is stored under sequence 1; number it above 1" in conflict.reason
    assert [a.status for a in store(database, reused, reused)] == [AckStatus.CONFLICT] * 2


def test_a_renumbered_report_counts_samples_already_stored_once(
    database: Database, identity: Identity
) -> None:
    """After a torn spool the agent seals samples that were stored under an earlier report again, with new
    ones, and renumbers the report on CONFLICT: the repeated samples are dropped, the new ones counted."""
    a, b, c = sample(T0, T0 + 1, rx=1), sample(T0 + 1, T0 + 2, rx=10), sample(T0 + 2, T0 + 3, rx=100)
    store(database, incoming(identity, 1, [a]), incoming(identity, 2, [b]))
    (ack,) = store(database, incoming(identity, 3, [a, b, c]))
    assert ack.status is AckStatus.ACCEPTED and "2 samples already stored" in ack.reason
    usage = database.call(usage_summary, identity.agent_id, int(T0 * SECOND), int((T0 + 10) * SECOND))
    assert (usage.covered_us, usage.net_rx_bytes, usage.sample_count) == (3 * SECOND, 111, 3)
    stepped = replace(a, net_rx_bytes=5)  # same interval, other counters: a clock stepped back
    (clamped,) = store(database, incoming(identity, 4, [stepped]))
    assert "overlapping earlier reports" in clamped.reason
    usage = database.call(usage_summary, identity.agent_id, int(T0 * SECOND), int((T0 + 10) * SECOND))
    assert (usage.covered_us, usage.net_rx_bytes) == (3 * SECOND, 116)


def test_a_renumbered_report_arriving_after_later_ones_keeps_its_own_time(
    database: Database, identity: Identity
) -> None:
    """Reports 1 and 2 were numbered again (4, 5) after report 3 was stored: their time lies before report 3
    but is covered by nothing stored, so none of it is cut (it used to be: everything before the last
    report's end was treated as a clock stepped back)."""
    store(database, incoming(identity, 3, [sample(T0 + 12, T0 + 13, rx=1)]))
    acks = store(database, incoming(identity, 4, [sample(T0 + 10, T0 + 11, rx=10)]),
                 incoming(identity, 5, [sample(T0 + 11, T0 + 12, rx=100)]))  # fmt: skip
    assert [(a.status, a.reason) for a in acks] == [(AckStatus.ACCEPTED, "")] * 2
    usage = database.call(usage_summary, identity.agent_id, int(T0 * SECOND), int((T0 + 20) * SECOND))
    assert (usage.covered_us, usage.net_rx_bytes) == (3 * SECOND, 111)


def _signed_proto(identity: Identity, report: agent_pb2.UsageReport) -> IncomingReport:
    envelope = sign_report(identity, report)
    return report_from_proto(envelope, agent_pb2.UsageReport.FromString(envelope.payload))


def _report(identity: Identity, sequence: int, start_s: float, **fields) -> agent_pb2.UsageReport:  # type: ignore[no-untyped-def]
    one = agent_pb2.Sample(
        start=timestamp_us(int(start_s * SECOND)), end=timestamp_us(int((start_s + 1) * SECOND))
    )
    return agent_pb2.UsageReport(agent_id=identity.agent_id, sequence=sequence, start=one.start, end=one.end,
                                 samples=[one], **fields)  # fmt: skip


def _gpus(count: int, processes: int = 0, uuid: str = "GPU-1") -> list[agent_pb2.GpuSample]:
    procs = [agent_pb2.GpuProcess(pid=n, used_memory_bytes=1) for n in range(processes)]
    return [agent_pb2.GpuSample(index=n, uuid=uuid, processes=procs) for n in range(count)]


def _login(**fields: str) -> agent_pb2.LoginSession:
    return agent_pb2.LoginSession(**{"user": "u", "terminal": "pts/0", "host": "h", **fields})


def _many_samples(r: agent_pb2.UsageReport) -> None:
    start = r.end.seconds * SECOND
    r.samples.extend(
        agent_pb2.Sample(start=timestamp_us(start + n * 10), end=timestamp_us(start + n * 10 + 10))
        for n in range(10_000)
    )


OVER_BOUNDS = [
    ("too_many_samples", _many_samples),
    ("too_many_logins", lambda r: r.logins.extend(_login() for _ in range(257))),
    ("login_too_long", lambda r: r.logins.append(_login(user="x" * 5 * 2**20))),  # 5 MiB login name
    ("login_too_long", lambda r: r.logins.append(_login(terminal="t" * 257))),
    ("login_too_long", lambda r: r.logins.append(_login(host="h" * 257))),
    ("too_many_gpus", lambda r: r.samples[0].gpus.extend(_gpus(65))),
    ("too_many_processes", lambda r: r.samples[0].gpus.extend(_gpus(1, processes=1025))),
    ("uuid_too_long", lambda r: r.samples[0].gpus.extend(_gpus(1, uuid="G" * 81))),
    ("session_id_too_long", lambda r: setattr(r, "rental_session_id", "s" * 41)),
    ("too_many_gaps", lambda r: r.gaps.extend(agent_pb2.ReportGap(sequence=n + 1) for n in range(101))),
    ("gap_reason_too_long", lambda r: r.gaps.append(agent_pb2.ReportGap(reason="r" * 201))),
    ("number_too_large", lambda r: setattr(r.samples[0], "net_rx_bytes", 2**64 - 1)),
    ("number_too_large", lambda r: setattr(r, "sequence", 2**63)),
    ("malformed", lambda r: setattr(r.samples[0], "cpu_utilization", math.nan)),
]


@pytest.mark.parametrize(("kind", "exceed"), OVER_BOUNDS)
def test_a_signed_report_beyond_a_bound_is_rejected_and_the_batch_goes_on(
    database: Database, identity: Identity, kind: str, exceed: Callable[[agent_pb2.UsageReport], None]
) -> None:
    big = _report(identity, 1, T0)
    exceed(big)
    fine = _report(
        identity, 2, T0 + 10, logins=[_login(user="u" * 256)], gaps=[agent_pb2.ReportGap(sequence=7)]
    )
    fine.samples[0].gpus.extend(_gpus(64, processes=1024, uuid="G" * 80))
    bad_ack, good_ack = store(database, _signed_proto(identity, big), _signed_proto(identity, fine))
    assert (bad_ack.status, bad_ack.kind) == (AckStatus.REJECTED, kind)
    assert len(bad_ack.reason) < 200
    assert good_ack.status is AckStatus.ACCEPTED
    usage = database.call(usage_summary, identity.agent_id, int((T0 - 10) * SECOND), int((T0 + 100) * SECOND))
    assert usage.sample_count == 1


def test_gaps_told_by_a_report_are_stored_with_it(database: Database, identity: Identity) -> None:
    start, end = int(T0 * SECOND), int((T0 + 5) * SECOND)
    lost = agent_pb2.ReportGap(kind=agent_pb2.ReportGap.FORGED, sequence=4, start=timestamp_us(start),
                               end=timestamp_us(end), reason="signature does not verify")  # fmt: skip
    spool = agent_pb2.ReportGap(kind=agent_pb2.ReportGap.SPOOL_LOST, reason="spool moved aside")
    report = _signed_proto(identity, _report(identity, 5, T0 + 10, gaps=[lost, spool]))
    assert [a.status for a in store(database, report, report)] == [AckStatus.ACCEPTED, AckStatus.DUPLICATE]
    with database.engine.connect() as db:
        columns = (ReportGap.reported_in, ReportGap.kind, ReportGap.sequence, ReportGap.start_us,
                   ReportGap.end_us, ReportGap.reason)  # fmt: skip
        rows = db.execute(select(*columns).order_by(ReportGap.id)).all()
    assert [tuple(r) for r in rows] == [
        (5, "forged", 4, start, end, "signature does not verify"),
        (5, "spool_lost", None, None, None, "spool moved aside"),
    ]


@pytest.mark.parametrize(
    ("samples", "reason"),
    [
        ([sample(T0, T0 + 5), sample(T0 + 7, T0 + 6)], "sample 1 ends before it starts"),
        ([sample(T0 + 2, T0 + 1)], "report end is not after its start"),
        ([sample(T0, T0 + 2), sample(T0 + 1, T0 + 3)], "overlaps"),
        ([sample(T0 + 7200, T0 + 7201)], "in the future"),
        ([sample(T0 - 86400, T0 - 86399)], "before the machine enrolled"),
        ([sample(T0, T0 + 3601)], "longer than one hour"),
    ],
)
def test_implausible_reports_are_rejected_and_not_stored(
    database: Database,
    identity: Identity,
    samples,
    reason: str,  # type: ignore[no-untyped-def]
) -> None:
    (ack,) = store(database, incoming(identity, 1, samples))
    assert ack.status is AckStatus.REJECTED and reason in ack.reason
    usage = database.call(
        usage_summary, identity.agent_id, int((T0 - 90000) * SECOND), int((T0 + 9000) * SECOND)
    )
    assert usage.sample_count == 0


def test_time_overlapping_an_earlier_report_is_not_counted_twice(
    database: Database, identity: Identity
) -> None:
    store(database, incoming(identity, 1, [sample(T0, T0 + 10, rx=10)]))
    # The wall clock stepped back 4 s: the next report overlaps [T0+6, T0+10).
    (ack,) = store(
        database, incoming(identity, 2, [sample(T0 + 6, T0 + 8, rx=20), sample(T0 + 8, T0 + 12, rx=30)])
    )
    assert ack.status is AckStatus.ACCEPTED and "4000000 us overlapping" in ack.reason
    usage = database.call(usage_summary, identity.agent_id, int(T0 * SECOND), int((T0 + 100) * SECOND))
    assert usage.covered_us == 12 * SECOND  # [T0, T0+12), each second once
    assert usage.net_rx_bytes == 60  # bytes are real traffic: all kept


def test_windows_split_time_exactly_and_bytes_by_sample_start(database: Database, identity: Identity) -> None:
    store(database, incoming(identity, 1, [sample(T0, T0 + 1.5, rx=7), sample(T0 + 1.5, T0 + 3, rx=11)]))

    def window(a: float, b: float):  # type: ignore[no-untyped-def]
        return database.call(usage_summary, identity.agent_id, int(a * SECOND), int(b * SECOND))

    left, right = window(T0, T0 + 1), window(T0 + 1, T0 + 5)
    assert (left.covered_us, right.covered_us) == (SECOND, 2 * SECOND)
    assert (left.net_rx_bytes, right.net_rx_bytes) == (7, 11)


def test_gpu_samples_are_stored_and_summarised(database: Database, identity: Identity) -> None:
    def gpu(util: int, energy: int, memory: int) -> GpuReading:
        return GpuReading(0, "GPU-1", util, 10, memory, 80 * 2**30, 300_000, energy, ((4242, memory),))

    samples = [
        replace(sample(T0, T0 + 1), gpus=(gpu(100, 300_000, 2**30),)),
        replace(sample(T0 + 1, T0 + 4), gpus=(gpu(20, 900_000, 3 * 2**30),)),
    ]
    (ack,) = store(database, incoming(identity, 1, samples))
    assert ack.status is AckStatus.ACCEPTED
    usage = database.call(usage_summary, identity.agent_id, int(T0 * SECOND), int((T0 + 10) * SECOND))
    (summary,) = usage.gpus
    assert (summary.gpu_index, summary.uuid, summary.energy_mj) == (0, "GPU-1", 1_200_000)
    assert summary.average_utilization_percent == pytest.approx(40.0)  # (100 x 1 s + 20 x 3 s) / 4 s
    assert summary.peak_memory_used_bytes == 3 * 2**30
