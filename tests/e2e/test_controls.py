"""Control messages from the collector reach the agent, which runs the host's configured action."""

from __future__ import annotations

import sqlite3
import stat
import time
from pathlib import Path

import grpc
import pytest

from agent.config import AgentSettings
from collector.server import Collector
from protos.rentmeter.v1 import agent_pb2, machines_pb2, sessions_pb2
from rentmeter.client import AdminClient
from rentmeter.embedded import running_agent
from tests.collector.helpers import plan_request
from tests.e2e.harness import wait_for


def recording_action(tmp_path: Path) -> Path:
    """A host's command action that appends what it was told to a file."""
    script = tmp_path / "on-control.sh"
    fields = "$RENTMETER_CONTROL_KIND $RENTMETER_CONTROL_SESSION $RENTMETER_CONTROL_MESSAGE"
    script.write_text(f'#!/bin/sh\necho "{fields}" >> "$0.log"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return Path(f"{script}.log")


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@pytest.mark.timeout(60)
def test_session_and_lock_controls_run_the_hosts_actions(
    collector: Collector, admin: AdminClient, tmp_path: Path
) -> None:
    log = recording_action(tmp_path)
    action = f"command:{tmp_path / 'on-control.sh'}"
    token = admin.machines.CreateEnrollmentToken(machines_pb2.CreateEnrollmentTokenRequest()).token
    settings = AgentSettings(
        collector=f"127.0.0.1:{collector.port}", state_dir=tmp_path / "agent", interval=0.1, report_every=0.2,
        token=token, actions={"session-started": action, "session-stopped": action, "lock-now": action},
    )  # fmt: skip
    admin.plans.CreatePlan(plan_request("p", {"standard": "1"}))
    with running_agent(settings) as agent:
        agent_id = agent.identity.agent_id
        wait_for(lambda: agent.sender.acknowledged > 0)  # the stream is open
        rental = admin.sessions.StartSession(
            sessions_pb2.StartSessionRequest(agent_id=agent_id, renter="r", plan="p")
        )
        wait_for(lambda: lines(log) == [f"session-started {rental.session_id} "])
        assert agent.active_session == rental.session_id
        sent = admin.machines.SendControl(
            machines_pb2.SendControlRequest(
                agent_id=agent_id, kind=agent_pb2.Control.LOCK_NOW, message="time is up"
            )
        )
        assert sent.delivered == 1
        wait_for(lambda: len(lines(log)) == 2)
        assert lines(log)[1] == "lock-now  time is up"
        time.sleep(0.5)  # reports sealed while the session is active carry its id
        admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=rental.session_id))
        wait_for(lambda: len(lines(log)) == 3)
        assert lines(log)[2] == f"session-stopped {rental.session_id} " and agent.active_session == ""
    db_file = collector.settings.db_url.removeprefix("sqlite:///")
    with sqlite3.connect(db_file) as db:
        tagged = db.execute("SELECT count(*) FROM reports WHERE rental_session_id = ?", (rental.session_id,))
        assert tagged.fetchone()[0] > 0


def test_send_control_validates(admin: AdminClient) -> None:
    with pytest.raises(grpc.RpcError) as unknown:
        admin.machines.SendControl(
            machines_pb2.SendControlRequest(agent_id="m-x", kind=agent_pb2.Control.LOCK_NOW)
        )
    assert unknown.value.code() is grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as wrong_kind:
        request = machines_pb2.SendControlRequest(agent_id="m-x", kind=agent_pb2.Control.SESSION_STARTED)
        admin.machines.SendControl(request)
    assert wrong_kind.value.code() is grpc.StatusCode.INVALID_ARGUMENT
