"""Storing reports on a real database (SQLite and PostgreSQL): dedupe, ordering, validation, overlap."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from agent.gpu import GpuReading
from agent.identity import Identity, public_key_bytes
from collector.core.clock import to_us
from collector.db.database import Database
from collector.metering.enrollment import create_token, enroll
from collector.metering.ingest import AckStatus, store_reports
from collector.metering.usage import usage_summary
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


def test_out_of_order_sequence_is_rejected(database: Database, identity: Identity) -> None:
    store(database, incoming(identity, 5, [sample(T0, T0 + 1)]))
    (ack,) = store(database, incoming(identity, 3, [sample(T0 + 1, T0 + 2)]))
    assert ack.status is AckStatus.REJECTED and "not after the last stored 5" in ack.reason


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
