"""The agent keeps within the bounds the collector sets on a report, so that it never loses usage to a
REJECTED ack for a big machine (many logins, GPUs, processes)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from agent import limits
from agent.config import AgentSettings
from agent.errors import AgentError
from agent.gpu import GpuReading
from agent.sampler import Login
from agent.spool import Gap
from agent.wire import build_report, sample_to_proto, sign_report
from collector.api.wire import report_from_proto
from collector.metering import bounds
from protos.rentmeter.v1 import agent_pb2
from tests.collector.helpers import new_identity, sample


def test_the_agent_and_the_collector_agree_on_the_bounds() -> None:
    names = [name for name in dir(limits) if name.startswith("MAX_")]
    assert len(names) == 8
    assert {name: getattr(limits, name) for name in names} == {name: getattr(bounds, name) for name in names}


def test_a_report_from_a_crowded_machine_stays_within_the_bounds() -> None:
    identity = new_identity("m-big")
    processes = tuple((pid, pid * 1000) for pid in range(2000))
    gpu = GpuReading(0, "GPU-" + "x" * 200, 50, 10, 1, 2, 3, 4, processes)
    big = replace(sample(1000, 1001), gpus=tuple(replace(gpu, index=n) for n in range(70)))
    logins = [Login("u" * 1000, "pts/" + "9" * 500, "h" * 300, 1) for _ in range(300)]
    gaps = [Gap("forged", 7, None, None, "r" * 500)]
    report = build_report(identity.agent_id, 1, [sample_to_proto(big)], logins, 0, gaps)
    envelope = sign_report(identity, report)
    incoming = report_from_proto(envelope, agent_pb2.UsageReport.FromString(envelope.payload))
    assert bounds.size_problem(incoming) is None
    (kept,) = report.samples
    assert len(kept.gpus) == limits.MAX_GPUS_PER_SAMPLE and len(report.logins) == limits.MAX_LOGINS
    top = sorted(kept.gpus[0].processes, key=lambda p: p.used_memory_bytes)
    assert top[0].pid == 2000 - limits.MAX_PROCESSES_PER_GPU  # the processes using the most memory


def test_settings_that_would_seal_too_many_samples_a_report_are_refused() -> None:
    with pytest.raises(AgentError, match="at most 10000"):
        AgentSettings(interval=0.01, report_every=3600)
