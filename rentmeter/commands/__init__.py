"""The `rentmeter` subcommands, one module per noun: each registers its sub-parser and owns its handlers
and how it prints what the collector answers."""

from __future__ import annotations

from types import ModuleType

from rentmeter.commands import (
    access,
    accounts,
    agent,
    audit,
    certs,
    collector,
    demo,
    explain,
    fleet,
    insights,
    invoices,
    jobs,
    ledger,
    loadgen,
    machines,
    offers,
    payments,
    plans,
    portal,
    pricing,
    quote,
    renters,
    sessions,
    simulate,
    tokens,
    usage,
    wallets,
    watch,
)

# In the order `rentmeter --help` lists them.
NOUNS: tuple[ModuleType, ...] = (
    collector, agent, tokens, machines, fleet, plans, pricing, sessions, usage, explain, quote, invoices,
    wallets, ledger, payments, renters, insights, offers, access, accounts, audit, jobs, watch, portal, certs,
    demo, simulate, loadgen,
)  # fmt: skip
