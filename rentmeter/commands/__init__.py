"""The `rentmeter` subcommands, one module per noun: each registers its sub-parser and owns its handlers
and how it prints what the collector answers.

Nouns are imported when asked for: `rentmeter agent run` loads the agent's noun only, so that the agent
process does not carry every other command's imports (megabytes of resident memory, see README.md "The
agent", "Footprint")."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

# In the order `rentmeter --help` lists them.
NOUN_NAMES: tuple[str, ...] = (
    "collector", "agent", "tokens", "machines", "fleet", "plans", "pricing", "sessions", "usage",
    "explain", "quote", "invoices", "disputes", "wallets", "packs", "ledger", "payments", "renters",
    "insights", "offers", "access", "accounts", "audit", "jobs", "watch", "portal", "certs", "demo",
    "simulate", "loadgen",
)  # fmt: skip


def nouns(names: tuple[str, ...] = NOUN_NAMES) -> tuple[ModuleType, ...]:
    """The command modules of `names` (default: all), imported now."""
    return tuple(import_module(f"rentmeter.commands.{name}") for name in names)
