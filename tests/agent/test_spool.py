"""The spool: samples durable as taken, reports until acknowledged, bounded by merging, never dropping."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from agent.compaction import merge_reports
from agent.identity import Identity
from agent.sampler import Login
from agent.spool import DEFAULT_MAX_BYTES, Gap, Spool, open_spool
from agent.wire import build_report, sample_to_proto, sign_report, us
from protos.rentmeter.v1 import agent_pb2
from protos.signing import report_signing_bytes
from tests.collector.helpers import new_identity, sample

IDENTITY = new_identity("m-spool")


def builder(identity: Identity = IDENTITY):  # type: ignore[no-untyped-def]
    def build(sequence: int, samples: list[bytes], gaps: list[Gap]) -> bytes:
        parsed = [agent_pb2.Sample.FromString(s) for s in samples]
        return sign_report(
            identity, build_report(identity.agent_id, sequence, parsed, [], 0, gaps)
        ).SerializeToString()

    return build


def fill(spool: Spool, reports: int, per_report: int = 5, t0: float = 1_700_000_000) -> None:
    t = t0
    for _ in range(reports):
        for _ in range(per_report):
            spool.add_sample(sample_to_proto(sample(t, t + 1, rx=100, tx=7)).SerializeToString())
            t += 1
        spool.seal(builder())


def totals(spool: Spool) -> tuple[int, int, int, int]:
    """(covered µs, rx, tx, cpu µs) over every spooled report, verifying each signature."""
    covered = rx = tx = cpu = 0
    for _, raw in spool.pending(limit=10**9):
        envelope = agent_pb2.SignedReport.FromString(raw)
        IDENTITY.key.public_key().verify(envelope.signature, report_signing_bytes(envelope.payload))
        for s in agent_pb2.UsageReport.FromString(envelope.payload).samples:
            covered += us(s.end) - us(s.start)
            rx, tx, cpu = rx + s.net_rx_bytes, tx + s.net_tx_bytes, cpu + s.cpu_busy_us
    return covered, rx, tx, cpu


def test_samples_survive_a_crash_and_go_into_the_next_report(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    spool.add_sample(sample_to_proto(sample(10, 11)).SerializeToString())
    spool.add_sample(sample_to_proto(sample(11, 12)).SerializeToString())
    del spool  # the process dies without sealing (kill -9)
    reopened = Spool(tmp_path / "spool.db")
    assert reopened.sample_count() == 2
    assert reopened.seal(builder()) == 1
    ((sequence, raw),) = reopened.pending()
    report = agent_pb2.UsageReport.FromString(agent_pb2.SignedReport.FromString(raw).payload)
    assert (sequence, len(report.samples), reopened.sample_count()) == (1, 2, 0)


def test_sequence_numbers_survive_restarts_and_never_repeat(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    fill(spool, 3)
    spool.acknowledge([1, 2, 3])
    spool.close()
    reopened = Spool(tmp_path / "spool.db")
    fill(reopened, 1)
    assert [s for s, _ in reopened.pending()] == [4]
    assert reopened.seal(builder()) is None  # nothing waiting


def test_pending_is_ordered_and_acknowledged_reports_go(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    fill(spool, 5)
    size = spool.size_bytes
    spool.acknowledge([2, 4])
    assert [s for s, _ in spool.pending()] == [1, 3, 5]
    assert [s for s, _ in spool.pending(after=3, limit=1)] == [5]
    assert len(spool) == 3 and 0 < spool.size_bytes < size


def test_a_failed_build_stores_nothing(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    spool.add_sample(b"x")

    def broken(sequence: int, samples: list[bytes], gaps: list[Gap]) -> bytes:
        raise RuntimeError("signing failed")

    with pytest.raises(RuntimeError):
        spool.seal(broken)
    assert (len(spool), spool.sample_count()) == (0, 1)


def test_full_spool_merges_old_reports_and_keeps_every_total(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db", max_bytes=10**9)
    fill(spool, 2000)  # 10 000 one-second samples
    before = totals(spool)
    size = spool.size_bytes
    spool.max_bytes = size // 4
    merged = spool.compact(lambda seq, envelopes: merge_reports(IDENTITY, seq, envelopes))
    assert merged > 0 and spool.size_bytes <= size // 4
    assert totals(spool) == before  # every second, byte and CPU microsecond is still there
    sequences = [s for s, _ in spool.pending(limit=10**6)]
    assert sequences == sorted(sequences) and sequences[-1] == 2000


def test_merging_keeps_gaps_and_never_touches_sent_reports(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db", max_bytes=10**9)
    fill(spool, 10, t0=1000)
    fill(spool, 10, t0=5000)  # the agent was off in between: a gap that must stay unbilled
    sent_before = spool.take_for_sending(limit=4)  # handed to a stream: may be stored already
    before = totals(spool)
    spool.max_bytes = 1
    spool.compact(lambda seq, envelopes: merge_reports(IDENTITY, seq, envelopes))
    assert spool.pending(limit=4) == sent_before  # exactly as handed to the stream
    assert totals(spool) == before
    ((_, merged),) = spool.pending(after=4)
    samples = agent_pb2.UsageReport.FromString(agent_pb2.SignedReport.FromString(merged).payload).samples
    assert [(us(s.start) // 10**6, us(s.end) // 10**6) for s in samples] == [
        (1020, 1050),
        (5000, 5040),
        (5040, 5050),
    ]


def test_default_capacity_holds_more_than_seven_days(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    logins = [Login("alice", "pts/0", "10.0.0.9", 1), Login("bob", ":0", "", 2)]
    samples = [
        sample_to_proto(sample(1_700_000_000 + i, 1_700_000_001 + i, rx=10**6, tx=10**6)) for i in range(5)
    ]
    report = sign_report(IDENTITY, build_report(IDENTITY.agent_id, 10**6, samples, logins, 1))
    reports_in_7_days = 7 * 86400 // 5
    assert reports_in_7_days * len(report.SerializeToString()) < DEFAULT_MAX_BYTES == spool.max_bytes


def test_remember_returns_the_previous_value_across_restarts(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    assert spool.remember("boot_time_us", 100) is None
    spool.close()
    assert Spool(tmp_path / "spool.db").remember("boot_time_us", 200) == 100


def test_merging_sums_gpu_energy_and_keeps_peak_memory() -> None:
    from agent.compaction import coarsen
    from agent.gpu import GpuReading

    def with_gpu(start: int, util: int, energy: int, memory: int) -> agent_pb2.Sample:
        reading = GpuReading(0, "GPU-1", util, 0, memory, 8 * 2**30, 100_000, energy, ())
        return sample_to_proto(replace(sample(start, start + 1), gpus=(reading,)))

    (merged,) = coarsen([with_gpu(0, 90, 500, 2**30), with_gpu(1, 10, 700, 2**31)], 60_000_000)
    (gpu,) = merged.gpus
    assert (gpu.energy_mj, gpu.memory_used_bytes, gpu.utilization_percent) == (1200, 2**31, 50)


def _gaps_in(raw: bytes) -> list[tuple[int, int, str]]:
    report = agent_pb2.UsageReport.FromString(agent_pb2.SignedReport.FromString(raw).payload)
    return [(g.kind, g.sequence, g.reason) for g in report.gaps]


def test_a_quarantined_report_is_kept_aside_and_told_as_a_gap_in_the_next_report(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    fill(spool, 3)
    size = spool.size_bytes
    lost = Gap("forged", 2, 1_700_000_005_000_000, 1_700_000_010_000_000, "the collector refused it")
    assert spool.quarantine(2, lost, at_us=42)
    assert not spool.quarantine(2, lost, at_us=43)  # already aside
    assert [s for s, _ in spool.pending()] == [1, 3] and spool.size_bytes < size
    (aside,) = spool.quarantined()
    assert (aside.sequence, aside.kind, aside.reason, aside.at_us) == (
        2,
        "forged",
        "the collector refused it",
        42,
    )
    assert spool.unreported_gaps() == 1
    fill(spool, 1, t0=1_700_000_100)
    ((sequence, raw),) = spool.pending(after=3)
    assert (sequence, _gaps_in(raw)) == (4, [(agent_pb2.ReportGap.FORGED, 2, "the collector refused it")])
    assert spool.unreported_gaps() == 0
    spool.quarantine(4, Gap("forged", 4, None, None, "damaged too"), at_us=44)  # the carrier is lost too
    fill(spool, 1, t0=1_700_000_200)
    ((_, raw),) = spool.pending(after=4)
    assert [g[1] for g in _gaps_in(raw)] == [2, 4]  # the first gap is told again, with the new one


def test_renumbering_takes_the_next_free_sequence_and_the_floor_is_never_reused(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    fill(spool, 2)
    assert spool.raise_floor(10) and not spool.raise_floor(5)
    new = spool.renumber(1, lambda seq, raw: merge_reports(IDENTITY, seq, [raw]))
    assert new == 11 and spool.renumber(1, lambda seq, raw: raw) is None
    fill(spool, 1)
    assert [s for s, _ in spool.pending()] == [2, 11, 12]
    ((_, raw),) = spool.pending(after=2, limit=1)
    report = agent_pb2.UsageReport.FromString(agent_pb2.SignedReport.FromString(raw).payload)
    assert report.sequence == 11  # signed again under its new number
    spool.close()
    assert Spool(tmp_path / "spool.db").last_sequence() == 12


def _spool_with_reports(path: Path, reports: int = 300) -> None:
    spool = Spool(path)
    fill(spool, reports)
    spool.close()  # checkpointed into the main file


def test_a_spool_cut_in_half_is_moved_aside_and_a_new_one_records_the_loss(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    _spool_with_reports(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(sqlite3.DatabaseError):  # what crashed the agent on every start
        Spool(path).pending(limit=10**6)
    spool = open_spool(path, now_us=lambda: 1_764_670_500_000_000)
    (moved,) = [p for p in tmp_path.iterdir() if p.name != "spool.db" and not p.name.startswith("spool.db-")]
    assert moved.name == "spool.db.damaged-20251202T101500Z" and moved.read_bytes() == data[: len(data) // 2]
    assert (len(spool), spool.last_sequence(), spool.unreported_gaps()) == (0, 0, 1)
    fill(spool, 1)
    ((_, raw),) = spool.pending()
    ((kind, sequence, reason),) = _gaps_in(raw)
    assert (kind, sequence) == (agent_pb2.ReportGap.SPOOL_LOST, 0) and moved.name in reason


def test_a_file_that_is_not_a_database_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    path.write_bytes(b"\x00garbage" * 1000)
    spool = open_spool(path, now_us=lambda: 1_764_670_500_000_000)
    assert spool.unreported_gaps() == 1
    assert (tmp_path / "spool.db.damaged-20251202T101500Z").exists()


def test_a_healthy_spool_is_opened_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    _spool_with_reports(path, 3)
    spool = open_spool(path, now_us=lambda: 0)
    assert (len(spool), spool.unreported_gaps()) == (3, 0)
    assert [p.name for p in tmp_path.iterdir() if "damaged" in p.name] == []


def test_a_spool_that_cannot_be_opened_for_another_reason_is_not_moved(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    path.mkdir()  # not a file at all: SQLite cannot open it, and it is not damaged data to set aside
    with pytest.raises(sqlite3.OperationalError):
        open_spool(path, now_us=lambda: 0)
    assert path.is_dir() and len(list(tmp_path.iterdir())) == 1
