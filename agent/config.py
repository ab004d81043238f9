"""Agent settings: one frozen object, from environment variables and command-line overrides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import platformdirs

from agent.errors import AgentError
from agent.spool import DEFAULT_MAX_BYTES


def default_state_dir() -> Path:
    return Path(platformdirs.user_state_dir("rentmeter-agent", appauthor=False))


@dataclass(frozen=True)
class AgentSettings:
    """collector: HOST:PORT of the collector. state_dir: key, identity and spool. interval: seconds
    between samples. report_every: seconds of samples per signed report. token: enrollment token, used
    only on the first run. spool_max_bytes: spool size above which old reports are merged."""

    collector: str = "127.0.0.1:50051"
    state_dir: Path = Path()
    interval: float = 1.0
    report_every: float = 5.0
    token: str = ""
    spool_max_bytes: int = DEFAULT_MAX_BYTES

    def __post_init__(self) -> None:
        if not 0.05 <= self.interval <= 3600:
            raise AgentError("interval must be between 0.05 and 3600 seconds")
        if not self.interval <= self.report_every <= 3600:
            raise AgentError("report_every must be at least the interval and at most 3600 seconds")
        if self.spool_max_bytes < 1_000_000:
            raise AgentError("spool_max_bytes must be at least 1000000")
        if ":" not in self.collector:
            raise AgentError(f"collector must be HOST:PORT, not {self.collector!r}")

    @property
    def samples_per_report(self) -> int:
        return max(1, round(self.report_every / self.interval))

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: Any) -> AgentSettings:
        """From RENTMETER_AGENT_COLLECTOR, _STATE_DIR, _INTERVAL, _REPORT_EVERY and _TOKEN, then overrides
        (None values ignored)."""
        values: dict[str, Any] = {}
        for field in fields(cls):
            raw = env.get(f"RENTMETER_AGENT_{field.name.upper()}")
            if raw:
                values[field.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            for name in ("interval", "report_every"):
                if name in values:
                    values[name] = float(values[name])
            if "spool_max_bytes" in values:
                values["spool_max_bytes"] = int(values["spool_max_bytes"])
        except ValueError as exc:
            raise AgentError(f"interval and report_every are seconds: {exc}") from None
        values["state_dir"] = Path(values.get("state_dir") or default_state_dir())
        return cls(**values)
