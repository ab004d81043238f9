"""A real agent streaming to a collector whose rating job runs: the renter of an idle machine is warned
through the agent (the host's idle-warning action) before the plan pauses billing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from agent.config import AgentSettings
from billing import simple_document
from collector.config import CollectorSettings
from collector.server import Collector
from protos.rentmeter.v1 import machines_pb2, plans_pb2, sessions_pb2
from rentmeter.client import AdminClient
from rentmeter.embedded import running_agent
from tests.e2e.harness import wait_for
from tests.e2e.test_controls import lines, recording_action

# Every sample is idle (the CPU below 100 %); billing pauses after a minute, so the warning is due at once.
PLAN = simple_document("idle", "EUR", {"standard": "1.00"}, "", "") + (
    '\n[idle]\nbelow = "100"\nafter = "1m"\nrate = "0"\n'
)


@pytest.fixture
def collector_settings(tmp_path: Path) -> CollectorSettings:
    return CollectorSettings(
        listen="127.0.0.1:0",
        db_url=f"sqlite:///{tmp_path / 'collector.db'}",
        rating_interval=timedelta(seconds=0.5),
        invoice_period=timedelta(days=1),
    )


@pytest.mark.timeout(60)
def test_an_idle_renter_is_warned_through_the_agent_once(
    collector: Collector, admin: AdminClient, tmp_path: Path
) -> None:
    log = recording_action(tmp_path)
    token = admin.machines.CreateEnrollmentToken(machines_pb2.CreateEnrollmentTokenRequest()).token
    settings = AgentSettings(
        collector=f"127.0.0.1:{collector.port}", state_dir=tmp_path / "agent", interval=0.2, report_every=0.4,
        token=token, actions={"idle-warning": f"command:{tmp_path / 'on-control.sh'}"},
    )  # fmt: skip
    admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=PLAN))
    with running_agent(settings) as agent:
        wait_for(lambda: agent.sender.acknowledged > 0)
        rental = admin.sessions.StartSession(
            sessions_pb2.StartSessionRequest(agent_id=agent.identity.agent_id, renter="r", plan="idle")
        )
        wait_for(lambda: lines(log) != [], timeout=30)
    # Once per idle stretch is held by tests/collector/test_idle_warnings.py: here a loaded test machine
    # may have a busy sample (100 % CPU) that starts a new stretch, warned about again.
    warning = "idle for 0 min: after 1 min idle billing pauses"
    assert lines(log)[0] == f"idle-warning {rental.session_id} {warning}"
