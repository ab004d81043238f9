"""Usage in steps, for charts: steps that do not align with samples, a sample longer than a step, one
that starts before the span, a silent stretch, GPUs; the steps add up to the span's summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration

from agent.gpu import GpuReading
from agent.identity import Identity, public_key_bytes
from agent.sampler import SampleData
from collector.core.clock import to_us
from collector.core.errors import InvalidArgument
from collector.db.database import Database
from collector.metering.enrollment import create_token, enroll
from collector.metering.ingest import store_reports
from collector.metering.series import MAX_POINTS, default_step_us, usage_series
from collector.metering.usage import usage_summary
from protos.rentmeter.v1 import usage_pb2
from rentmeter.client import AdminClient
from tests.collector.helpers import incoming, new_identity
from tests.collector.test_services import enroll as enroll_over_grpc

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
S = 1_000_000
T0 = to_us(START)


def gpu(index: int, busy: int, memory: int) -> GpuReading:
    return GpuReading(index, f"GPU-{index}", busy, 0, memory, 8 * 10**9, 100_000, 500, ())


def at(start_s: float, end_s: float, rx: int, busy_us: int, memory: int, *gpus: GpuReading) -> SampleData:
    return SampleData(T0 + int(start_s * S), T0 + int(end_s * S), busy_us, 0.25, memory, 10**9, 0, 0, rx, 0,
                      tuple(gpus))  # fmt: skip


SAMPLES = [
    at(-3, 2, 100, 2_000_000, 10),  # starts before the span: only its covered time counts
    at(2, 3, 7, 400_000, 30, gpu(0, 40, 1000)),
    at(3, 28, 1000, 50_000_000, 20),  # 25 s, across four steps
    at(28, 29.5, 1, 0, 5),
    # silent from 29.5 s to 40 s
    at(40, 41, 2, 100_000, 50, gpu(0, 80, 3000), gpu(1, 20, 2000)),
]


def machine_with_cores(database: Database, cores: int) -> Identity:
    owner = new_identity()
    token, _ = database.call(create_token, machine_class="standard", ttl=timedelta(hours=1), label="",
                             now=START - timedelta(hours=1))  # fmt: skip
    row = database.call(enroll, token=token, public_key=public_key_bytes(owner.key),
                        facts={"cpu_cores_logical": cores}, now=START - timedelta(hours=1))  # fmt: skip
    identity = Identity(row.agent_id, "standard", owner.key)
    database.call(store_reports, [incoming(identity, 1, SAMPLES)], START + timedelta(minutes=1))
    return identity


def test_steps_split_covered_time_exactly_and_count_counters_where_samples_start(database: Database) -> None:
    machine = machine_with_cores(database, 4)
    start, end, step = T0 + S // 2, T0 + 41 * S + S // 2, 7 * S
    points = database.call(usage_series, machine.agent_id, start, end, step, 4)
    assert [p.start_us - start for p in points] == [i * step for i in range(6)]
    assert [p.covered_us / S for p in points] == [7, 7, 7, 7, 1, 1]
    assert [p.net_rx_bytes for p in points] == [1007, 0, 0, 1, 0, 2]
    assert [p.peak_memory_used_bytes for p in points] == [30, 20, 20, 20, 5, 50]
    # Busy time of the samples starting in the step over their time and the 4 cores.
    assert points[0].cpu_utilization == pytest.approx(50_400_000 / (26 * S * 4))
    assert [p.cpu_utilization for p in points[1:]] == [0, 0, 0, 0, pytest.approx(100_000 / (S * 4))]
    assert [[(g.gpu_index, g.average_utilization_percent, g.peak_memory_used_bytes) for g in p.gpus]
            for p in points] == [[(0, 40, 1000)], [], [], [], [], [(0, 80, 3000), (1, 20, 2000)]]  # fmt: skip
    whole = database.call(usage_summary, machine.agent_id, start, end)
    assert sum(p.covered_us for p in points) == whole.covered_us == 30 * S
    assert sum(p.net_rx_bytes for p in points) == whole.net_rx_bytes
    # Without cores in its facts, a machine's own utilisation figures, weighted by duration.
    assert database.call(usage_series, machine.agent_id, start, end, step, 0)[0].cpu_utilization == 0.25


def test_limits_and_the_default_step(database: Database) -> None:
    machine = machine_with_cores(database, 4)
    assert default_step_us(3600 * S) == 30 * S and default_step_us(10 * S) == S
    assert default_step_us(86_400 * S) == 720 * S
    with pytest.raises(InvalidArgument, match=f"1001 steps of 1 s: at most {MAX_POINTS} points"):
        database.call(usage_series, machine.agent_id, T0, T0 + 1001 * S, S, 4)
    with pytest.raises(InvalidArgument, match="end must be after start"):
        database.call(usage_series, machine.agent_id, T0, T0, S, 4)
    (only,) = database.call(usage_series, machine.agent_id, T0, T0 + 2 * S, 10 * S, 4)
    assert only.covered_us == 2 * S  # one step, cut at the end


def test_usage_series_over_grpc(channel: grpc.Channel, admin: AdminClient) -> None:
    identity = enroll_over_grpc(channel, admin)
    series = admin.usage.GetUsageSeries(usage_pb2.GetUsageSeriesRequest(agent_id=identity.agent_id))
    assert (series.agent_id, len(series.points), series.step.seconds) == (identity.agent_id, 120, 30)
    assert all(p.covered_us == 0 for p in series.points)
    fine = usage_pb2.GetUsageSeriesRequest(agent_id=identity.agent_id, step=Duration(seconds=1))
    with pytest.raises(grpc.RpcError) as refused:
        admin.usage.GetUsageSeries(fine)
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "3600 steps of 1 s: at most 1000 points" in refused.value.details()
    with pytest.raises(grpc.RpcError) as scopeless:
        admin.usage.GetUsageSeries(usage_pb2.GetUsageSeriesRequest())
    assert scopeless.value.code() is grpc.StatusCode.INVALID_ARGUMENT
