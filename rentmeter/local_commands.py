"""Commands that run on this machine: the collector and agent processes, certificates, the demo."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime

from rentmeter.errors import EXIT_CANNOT_START, EXIT_REFUSED, UsageError


def collector_settings(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from collector.config import CollectorSettings, SettingsError

    try:
        return CollectorSettings.from_env(
            os.environ,
            listen=getattr(args, "listen", None),
            db_url=args.db_url,
            rating_interval=getattr(args, "rating_interval", None),
            invoice_period=getattr(args, "invoice_period", None),
            invoice_grace=getattr(args, "invoice_grace", None),
            tls_cert=getattr(args, "tls_cert", None),
            tls_key=getattr(args, "tls_key", None),
            tls_client_ca=getattr(args, "tls_client_ca", None),
        )
    except SettingsError as exc:
        raise UsageError(f"{exc}") from None


def collector_serve(args: argparse.Namespace) -> int:
    import asyncio

    from collector.server import serve

    try:
        asyncio.run(serve(collector_settings(args)))
    except OSError as exc:
        print(f"error: the collector cannot start: {exc}", file=sys.stderr)
        return EXIT_CANNOT_START
    return 0


def collector_migrate(args: argparse.Namespace) -> int:
    from collector.db.engine import make_engine, upgrade

    settings = collector_settings(args)
    settings.ensure_db_dir()
    upgrade(make_engine(settings.db_url))
    print(f"database schema is up to date ({settings.db_url})")
    return 0


def collector_token(args: argparse.Namespace) -> int:
    from collector.accounts.tokens import create_api_token
    from collector.core.errors import CollectorError
    from collector.db.database import Database

    settings = collector_settings(args)
    settings.ensure_db_dir()
    database = Database(settings.db_url)
    try:
        print(database.call(create_api_token, args.role, args.subject, args.label, datetime.now(UTC)))
    except CollectorError as exc:
        raise UsageError(str(exc)) from None
    finally:
        database.close()
    return 0


def collector_audit_verify(args: argparse.Namespace) -> int:
    from collector.accounts.audit import verify
    from collector.db.database import Database

    database = Database(collector_settings(args).db_url, migrate=False)
    try:
        result = database.call(verify)
    finally:
        database.close()
    if result.intact:
        print(f"audit log intact: {result.entries} entries")
        return 0
    print(f"audit log BROKEN at entry {result.broken_at}: {result.reason}", file=sys.stderr)
    return EXIT_REFUSED


def agent_run(args: argparse.Namespace) -> int:
    import signal

    from agent.config import AgentSettings
    from agent.errors import AgentError
    from agent.runner import Agent, enroll, open_channel

    try:
        settings = AgentSettings.load(
            os.environ,
            args.config,
            collector=args.collector,
            tls_ca=args.tls_ca,
            token=args.token,
            state_dir=args.state_dir,
            interval=args.interval,
            report_every=args.report_every,
        )
        channel = open_channel(settings)
        agent = Agent(settings, enroll(settings, channel), channel)
    except AgentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CANNOT_START
    signal.signal(signal.SIGTERM, lambda *_: agent.stop())
    signal.signal(signal.SIGINT, lambda *_: agent.stop())
    agent.run()
    return 0


def agent_rotate_key(args: argparse.Namespace) -> int:
    from agent.config import AgentSettings
    from agent.errors import AgentError
    from agent.runner import open_channel, rotate_key

    try:
        settings = AgentSettings.load(
            os.environ, args.config, collector=args.collector, tls_ca=args.tls_ca, state_dir=args.state_dir
        )
        last = rotate_key(settings, open_channel(settings))
    except AgentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CANNOT_START
    print(f"key rotated; reports up to sequence {last} keep the old signature")
    return 0


def agent_status(args: argparse.Namespace) -> int:
    from agent.config import AgentSettings
    from agent.errors import AgentError
    from agent.status import read_status, render

    try:
        settings = AgentSettings.load(os.environ, args.config, state_dir=args.state_dir)
        status = read_status(settings.state_dir)
    except AgentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CANNOT_START
    print(status.to_json() if args.output == "json" else render(status))
    return 0


def certs_init(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rentmeter.certs import init_certs

    try:
        files = init_certs(Path(args.directory), args.hostname, list(dict.fromkeys(args.agent)))
    except FileExistsError as exc:
        raise UsageError(str(exc)) from None
    for path in files:
        print(path)
    return 0


def agent_install(args: argparse.Namespace) -> int:
    from pathlib import Path

    from agent.errors import AgentError
    from agent.service import InstallPlan, install

    if not args.collector:
        raise UsageError("agent install needs --collector HOST:PORT")
    plan = InstallPlan(args.collector, args.token, args.tls_ca, args.tls_cert, args.tls_key, Path(args.root))
    try:
        for path in install(plan):
            print(f"wrote {path}")
    except AgentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CANNOT_START
    return 0


def agent_uninstall(args: argparse.Namespace) -> int:
    from pathlib import Path

    from agent.service import uninstall

    for path in uninstall(Path(args.root), purge=args.purge):
        print(f"removed {path}")
    return 0


def demo(args: argparse.Namespace) -> int:
    from rentmeter.demo import run_demo

    return run_demo(duration=args.duration, data_dir=args.data_dir)
