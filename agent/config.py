"""Agent settings: one frozen object built once from a TOML file, environment variables and flags
(flags win over the environment, the environment over the file)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from agent.actions import KINDS, ActionDispatcher
from agent.errors import AgentError
from agent.limits import MAX_SAMPLES_PER_REPORT
from agent.spool import DEFAULT_MAX_BYTES


def default_state_dir() -> Path:
    import platformdirs  # here: a running agent with a state directory set does not carry it

    return Path(platformdirs.user_state_dir("rentmeter-agent", appauthor=False))


@dataclass(frozen=True)
class AgentSettings:
    """Every agent setting; README.md, "Agent configuration", documents each."""

    collector: str = "127.0.0.1:50051"
    state_dir: Path = Path()
    interval: float = 1.0
    report_every: float = 5.0
    token: str = ""
    spool_max_bytes: int = DEFAULT_MAX_BYTES
    tls_ca: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    actions: Mapping[str, str] = field(default_factory=dict)
    trim_memory: bool = True
    live_ticks: bool = True

    def __post_init__(self) -> None:
        if not 0.01 <= self.interval <= 3600:
            raise AgentError("interval must be between 0.01 and 3600 seconds")
        if not self.interval <= self.report_every <= 3600:
            raise AgentError("report_every must be at least the interval and at most 3600 seconds")
        if self.samples_per_report > MAX_SAMPLES_PER_REPORT:
            raise AgentError(
                f"report_every / interval is {self.samples_per_report} samples a report; the collector takes"
                f" at most {MAX_SAMPLES_PER_REPORT}"
            )
        if self.spool_max_bytes < 1_000_000:
            raise AgentError("spool_max_bytes must be at least 1000000")
        if ":" not in self.collector:
            raise AgentError(f"collector must be HOST:PORT, not {self.collector!r}")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise AgentError("tls_cert and tls_key go together (the agent's client certificate and its key)")
        ActionDispatcher(self.actions)  # refuses unknown kinds and actions now, not at the first control
        if (self.tls_cert or self.tls_key) and not self.tls_ca:
            raise AgentError(
                "a client certificate needs tls_ca, the CA that signed the collector's certificate"
            )

    @property
    def samples_per_report(self) -> int:
        return max(1, round(self.report_every / self.interval))

    @classmethod
    def load(
        cls, env: Mapping[str, str], config_file: str | Path | None = None, **overrides: Any
    ) -> AgentSettings:
        """Settings from `config_file` (TOML; default: RENTMETER_AGENT_CONFIG if set), then RENTMETER_AGENT_*
        variables, then `overrides` (None values ignored)."""
        values: dict[str, Any] = {}
        config_file = config_file or env.get("RENTMETER_AGENT_CONFIG")
        if config_file:
            values.update(_read_file(Path(config_file)))
        for setting in fields(cls):
            raw = env.get(f"RENTMETER_AGENT_{setting.name.upper()}")
            if raw and setting.name != "actions":
                values[setting.name] = raw
        actions = dict(values.get("actions", {}))
        for kind in KINDS:
            raw = env.get(f"RENTMETER_AGENT_ON_{kind.upper().replace('-', '_')}")
            if raw:
                actions[kind] = raw
        values["actions"] = actions
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            for name in ("interval", "report_every"):
                if name in values:
                    values[name] = float(values[name])
            for name in ("trim_memory", "live_ticks"):
                if isinstance(values.get(name), str):
                    values[name] = values[name].strip().lower() not in ("0", "false", "no", "off")
            if "spool_max_bytes" in values:
                values["spool_max_bytes"] = int(values["spool_max_bytes"])
        except ValueError as exc:
            raise AgentError(f"interval and report_every are seconds, spool_max_bytes bytes: {exc}") from None
        values["state_dir"] = Path(values.get("state_dir") or default_state_dir())
        return cls(**values)


def _read_file(path: Path) -> dict[str, Any]:
    import tomllib  # here: an agent configured by flags and environment does not carry it

    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise AgentError(f"cannot read the config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise AgentError(f"{path}: {exc}") from None
    tls = data.pop("tls", {})
    for key in ("ca", "cert", "key"):
        if key in tls:
            data[f"tls_{key}"] = str(tls.pop(key))
    known = {f.name for f in fields(AgentSettings)} - {"token"}
    unknown = sorted(set(data) - known) + [f"tls.{k}" for k in tls]
    if unknown:
        raise AgentError(f"{path}: unknown setting(s) {', '.join(unknown)}")
    return data
