"""Agent settings from a TOML file, environment variables and flags, and the host's actions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent.actions import ActionDispatcher, ControlEvent, parse_action
from agent.config import AgentSettings
from agent.errors import AgentError


def test_file_then_environment_then_flags(tmp_path: Path) -> None:
    config = tmp_path / "agent.toml"
    config.write_text(
        'collector = "file:1"\ninterval = 2\nreport_every = 10\nstate_dir = "/var/lib/x"\n'
        '[tls]\nca = "/etc/ca.pem"\n[actions]\nlock-now = "lock"\nsession-stopped = "logout"\n'
    )
    env = {"RENTMETER_AGENT_INTERVAL": "5", "RENTMETER_AGENT_ON_SESSION_STOPPED": "notify"}
    settings = AgentSettings.load(env, config, collector="flag:2")
    assert (settings.collector, settings.interval, settings.report_every) == ("flag:2", 5.0, 10.0)
    assert (settings.state_dir, settings.tls_ca) == (Path("/var/lib/x"), "/etc/ca.pem")
    assert settings.actions == {"lock-now": "lock", "session-stopped": "notify"}
    assert settings.samples_per_report == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colector = 'x:1'\n", "unknown setting(s) colector"),
        ("interval = \n", "agent.toml"),
        ("interval = 0.001\n", "interval must be between"),
        ("[tls]\ncert = '/c.pem'\n", "tls_cert and tls_key go together"),
        ("[actions]\nlock-now = 'reboot'\n", "unknown action 'reboot'"),
        ("[actions]\nexplode = 'log'\n", "no such control kind: explode"),
    ],
)
def test_bad_settings_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "agent.toml"
    config.write_text(text)
    with pytest.raises(AgentError, match=re.escape(message)):
        AgentSettings.load({}, config)


def test_missing_config_file() -> None:
    with pytest.raises(AgentError, match="cannot read the config file"):
        AgentSettings.load({}, "/nonexistent/agent.toml")


def test_command_action_gets_the_control(tmp_path: Path) -> None:
    out = tmp_path / "out"
    script = tmp_path / "act.sh"
    script.write_text(f'#!/bin/sh\necho "$RENTMETER_CONTROL_KIND/$RENTMETER_CONTROL_RENTER" > {out}\n')
    script.chmod(0o755)
    dispatcher = ActionDispatcher({"low-balance": f"command:{script}"})
    dispatcher.dispatch(ControlEvent("low-balance", "s-1", "alice", "2.00 EUR left")).join(10)
    assert out.read_text() == "low-balance/alice\n"


def test_a_failing_action_is_logged_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    dispatcher = ActionDispatcher({"lock-now": f"command:{tmp_path / 'missing'}"})
    dispatcher.dispatch(ControlEvent("lock-now", "", "", "")).join(10)
    assert "action for lock-now failed" in caplog.text
    assert callable(parse_action("notify")) and callable(parse_action("log"))


def test_install_writes_config_secret_and_unit_under_a_root(tmp_path: Path) -> None:
    from agent.service import InstallPlan, install, uninstall

    plan = InstallPlan("collector.example.net:50051", token="rmt_x", tls_ca="/etc/rentmeter/ca.pem",
                       root=tmp_path, executable="/opt/rentmeter/bin/python")  # fmt: skip
    written = install(plan)
    config, unit, env = (
        tmp_path / "etc/rentmeter/agent.toml",
        tmp_path / "etc/systemd/system/rentmeter-agent.service",
        (tmp_path / "etc/rentmeter/agent.env"),
    )
    assert set(written) == {config, unit, env}
    settings = AgentSettings.load({}, config)  # what install writes, the agent reads
    assert (settings.collector, settings.tls_ca) == ("collector.example.net:50051", "/etc/rentmeter/ca.pem")
    assert env.read_text() == "RENTMETER_AGENT_TOKEN=rmt_x\n" and (env.stat().st_mode & 0o777) == 0o600
    text = unit.read_text()
    assert (
        "ExecStart=/opt/rentmeter/bin/python -m rentmeter agent run --config /etc/rentmeter/agent.toml"
        in text
    )
    required = ["DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet="]
    for line in [*required, "Restart=always", "StateDirectory=rentmeter-agent"]:
        assert line in text
    assert uninstall(tmp_path) == [unit] and config.exists()
    assert set(uninstall(tmp_path, purge=True)) == {config, env}


def test_deploy_unit_is_what_install_writes() -> None:
    from agent.service import render_unit

    shipped = Path(__file__).resolve().parents[2] / "deploy" / "systemd" / "rentmeter-agent.service"
    assert shipped.read_text() == render_unit("/opt/rentmeter/bin/python")
