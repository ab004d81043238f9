"""`rentmeter agent install` / `uninstall`: the agent as a hardened systemd service.

Writes /etc/rentmeter/agent.toml (settings), /etc/rentmeter/agent.env (the one-time token, mode 0600, read
by systemd only) and /etc/systemd/system/rentmeter-agent.service, then enables and starts it. `root`
redirects every path under another folder and skips systemctl (image building, tests). macOS (launchd) and
Windows (a pywin32 service) are set up by hand: see README.md and deploy/.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from agent.errors import AgentError
from agent.identity import write_atomic

logger = logging.getLogger(__name__)

UNIT_NAME = "rentmeter-agent.service"
STATE_DIR = "/var/lib/rentmeter-agent"

UNIT_TEMPLATE = """\
[Unit]
Description=rentmeter agent (samples this rented machine and reports usage)
After=network-online.target time-sync.target
Wants=network-online.target

[Service]
Type=simple
DynamicUser=yes
EnvironmentFile=-{config_dir}/agent.env
Environment=RENTMETER_AGENT_STATE_DIR={state_dir}
ExecStart={executable} -m rentmeter agent run --config {config_dir}/agent.toml
Restart=always
RestartSec=2s
TimeoutStopSec=15s
# Key, identity and spool (mode 0700) survive restarts, upgrades and reboots.
StateDirectory=rentmeter-agent
StateDirectoryMode=0700
{credentials}NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
PrivateTmp=yes
PrivateDevices=no
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK
RestrictNamespaces=yes
RestrictRealtime=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
CapabilityBoundingSet=
SystemCallArchitectures=native
MemoryMax=128M
Nice=5

[Install]
WantedBy=multi-user.target
"""


@dataclass(frozen=True)
class InstallPlan:
    collector: str
    token: str = ""
    tls_ca: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    root: Path = Path("/")
    executable: str = sys.executable

    @property
    def config_dir(self) -> Path:
        return self.root / "etc" / "rentmeter"

    @property
    def unit_path(self) -> Path:
        return self.root / "etc" / "systemd" / "system" / UNIT_NAME


def render_unit(executable: str, config_dir: str = "/etc/rentmeter", tls_key: str = "") -> str:
    # A client key goes in as a systemd credential: readable by the service's dynamic user only.
    credentials = (
        f"LoadCredential=tls-key:{tls_key}\nEnvironment=RENTMETER_AGENT_TLS_KEY=%d/tls-key\n"
        if tls_key
        else ""
    )
    return UNIT_TEMPLATE.format(
        executable=executable, config_dir=config_dir, state_dir=STATE_DIR, credentials=credentials
    )


def render_config(plan: InstallPlan) -> str:
    lines = [f'collector = "{plan.collector}"', "interval = 1", "report_every = 5", ""]
    if plan.tls_ca:
        lines += (
            ["[tls]", f'ca = "{plan.tls_ca}"']
            + ([f'cert = "{plan.tls_cert}"'] if plan.tls_cert else [])
            + [""]
        )
    lines += ["[actions]", "# log | notify | lock | logout | command:/path/to/program"]
    lines += [f'{kind} = "notify"' for kind in ("session-stopped", "low-balance", "lock-now")] + [""]
    return "\n".join(lines)


def install(plan: InstallPlan) -> list[Path]:
    """Write the configuration and the unit; enable and start it unless installing under another root."""
    _require_systemd(plan)
    plan.config_dir.mkdir(parents=True, exist_ok=True)
    plan.unit_path.parent.mkdir(parents=True, exist_ok=True)
    written = [plan.config_dir / "agent.toml", plan.unit_path]
    write_atomic(written[0], render_config(plan).encode(), 0o644)
    if plan.token:
        written.append(plan.config_dir / "agent.env")
        write_atomic(written[-1], f"RENTMETER_AGENT_TOKEN={plan.token}\n".encode(), 0o600)
    config_dir = "/" + str(plan.config_dir.relative_to(plan.root))
    write_atomic(plan.unit_path, render_unit(plan.executable, config_dir, plan.tls_key).encode(), 0o644)
    if plan.root == Path("/"):
        _systemctl("daemon-reload")
        _systemctl("enable", "--now", UNIT_NAME)
    return written


def uninstall(root: Path = Path("/"), purge: bool = False) -> list[Path]:
    """Stop and remove the service; with purge, also its configuration and state (unsent reports!)."""
    unit = root / "etc" / "systemd" / "system" / UNIT_NAME
    if root == Path("/") and shutil.which("systemctl"):
        _systemctl("disable", "--now", UNIT_NAME, check=False)
    removed = [p for p in [unit] if p.exists()]
    if purge:
        config = root / "etc" / "rentmeter"
        removed += [p for p in (config / "agent.toml", config / "agent.env") if p.exists()]
    for path in removed:
        path.unlink()
    if purge and (root / STATE_DIR.lstrip("/")).exists():
        shutil.rmtree(root / STATE_DIR.lstrip("/"))
        removed.append(root / STATE_DIR.lstrip("/"))
    if root == Path("/") and shutil.which("systemctl"):
        _systemctl("daemon-reload", check=False)
    return removed


def _require_systemd(plan: InstallPlan) -> None:
    if not sys.platform.startswith("linux"):
        raise AgentError("agent install supports systemd on Linux; on macOS and Windows follow README.md")
    if plan.root == Path("/") and not shutil.which("systemctl"):
        raise AgentError(
            "systemctl not found: this machine does not run systemd; see README.md for other set-ups"
        )


def _systemctl(*args: str, check: bool = True) -> None:
    result = subprocess.run(["systemctl", *args], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise AgentError(f"systemctl {' '.join(args)} failed: {result.stderr.strip()}")
