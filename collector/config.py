"""Collector settings: one frozen object per process, built once from environment and overrides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import platformdirs

from billing import durations


class SettingsError(ValueError):
    """A setting that cannot be used; the message names it."""


def parse_duration(text: str, name: str = "duration") -> timedelta:
    """Parse "90", "90s", "15m", "1h", "1d" or "1w" (no unit: seconds)."""
    try:
        return durations.parse_duration(text)
    except ValueError as exc:
        raise SettingsError(f"{name}: {exc}") from None


def default_db_url() -> str:
    data = Path(platformdirs.user_data_dir("rentmeter", appauthor=False))
    return f"sqlite:///{data / 'collector.db'}"


@dataclass(frozen=True)
class CollectorSettings:
    """Every collector setting, with its environment variable in the docstring of from_env()."""

    listen: str = "127.0.0.1:50051"
    db_url: str = ""
    rating_interval: timedelta = timedelta(seconds=5)
    invoice_period: timedelta = timedelta(days=1)
    invoice_grace: timedelta = timedelta(minutes=5)
    online_window: timedelta = timedelta(seconds=30)
    tls_cert: str = ""
    tls_key: str = ""
    tls_client_ca: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: Any) -> CollectorSettings:
        """Settings from RENTMETER_LISTEN, RENTMETER_DB_URL, RENTMETER_RATING_INTERVAL,
        RENTMETER_INVOICE_PERIOD, RENTMETER_INVOICE_GRACE, RENTMETER_ONLINE_WINDOW, RENTMETER_TLS_CERT,
        RENTMETER_TLS_KEY and RENTMETER_TLS_CLIENT_CA, then `overrides` (None values ignored). Durations
        accept 30s, 15m, 1h, 1d."""
        values: dict[str, Any] = {}
        for field in fields(cls):
            raw = env.get(f"RENTMETER_{field.name.upper()}")
            if raw is not None and raw != "":
                values[field.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        for field in fields(cls):
            if field.type == "timedelta" and isinstance(values.get(field.name), str):
                values[field.name] = parse_duration(values[field.name], field.name)
        settings = cls(**values)
        if bool(settings.tls_cert) != bool(settings.tls_key):
            raise SettingsError("tls_cert and tls_key go together")
        if settings.tls_client_ca and not settings.tls_cert:
            raise SettingsError("tls_client_ca (mutual TLS) needs tls_cert and tls_key")
        if not settings.db_url:
            settings = replace(settings, db_url=default_db_url())
        return settings

    def ensure_db_dir(self) -> None:
        """Create the folder of an SQLite database file if needed."""
        if self.db_url.startswith("sqlite:///") and self.db_url != "sqlite:///:memory:":
            Path(self.db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
