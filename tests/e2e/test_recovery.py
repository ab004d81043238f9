"""Recovery after a collector outage: an agent with a backlog reconnects within ~2 s of the collector's
return and its backlog drains at least 20x faster than the outage lasted."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from agent.backoff import BACKLOG_MAX_DELAY_S
from rentmeter.client import AdminClient
from rentmeter.embedded import running_agent
from tests.e2e.harness import CollectorProcess, RecordingSampler, TrafficPsutil
from tests.e2e.test_faults import admin_of, agent_settings, collector_process  # noqa: F401 (fixtures)

OUTAGE_S = 50.0
pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.05)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_a_backlog_drains_within_seconds_of_the_collectors_return(
    collector_process: CollectorProcess,  # noqa: F811
    admin_of: AdminClient,  # noqa: F811
    tmp_path: Path,
) -> None:
    settings = agent_settings(admin_of, collector_process.port, tmp_path / "agent", interval=0.2)
    with running_agent(settings, sampler=RecordingSampler(TrafficPsutil())) as agent:
        deadline = time.monotonic() + 60
        while agent.sender.acknowledged == 0:
            assert time.monotonic() < deadline, "no first acknowledgement"
            time.sleep(0.05)
        collector_process.stop()
        time.sleep(OUTAGE_S)
        backlog = len(agent.spool)
        assert backlog >= OUTAGE_S / 1.0 * 0.8  # a report a second kept while the collector was away
        # Timed from the collector's first answer (its port accepting), not from its start-up.
        starting = threading.Thread(target=collector_process.start)
        starting.start()
        while not _answers(collector_process.port):
            time.sleep(0.01)
        back = time.monotonic()
        while len(agent.spool) > 0:
            assert time.monotonic() - back < 30, "the backlog did not drain"
            time.sleep(0.01)
        drained_s = time.monotonic() - back
        starting.join()
    assert _answers(collector_process.port)
    assert drained_s <= BACKLOG_MAX_DELAY_S * 1.25, f"drained {drained_s:.2f} s after the collector returned"
    assert OUTAGE_S / drained_s >= 20
