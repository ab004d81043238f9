"""`rentmeter collector serve|migrate|token|account|audit-verify`: the collector process and its database."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rentmeter.commands.remote import Commands
from rentmeter.errors import EXIT_CANNOT_START, EXIT_REFUSED, UsageError
from rentmeter.passwords import password_options, read_password

if TYPE_CHECKING:
    from collector.config import CollectorSettings


def register(commands: Commands) -> None:
    collector = commands.add_parser("collector", help="run the collector").add_subparsers(
        dest="action", required=True
    )
    serve = collector.add_parser("serve", help="serve agents and admins over gRPC")
    serve.add_argument("--listen", help="address to bind (env RENTMETER_LISTEN; default 127.0.0.1:50051)")
    serve.add_argument(
        "--db", dest="db_url", help="SQLAlchemy URL (env RENTMETER_DB_URL; default SQLite file)"
    )
    serve.add_argument("--rating-interval", help="how often live costs are refreshed (default 5s)")
    serve.add_argument("--invoice-period", help="billing period, e.g. 1h, 1d (default 1d)")
    serve.add_argument("--invoice-grace", help="wait for late reports before closing a period (default 5m)")
    serve.add_argument("--tls-cert", help="server certificate (PEM); enables TLS (env RENTMETER_TLS_CERT)")
    serve.add_argument("--tls-key", help="server private key (PEM) (env RENTMETER_TLS_KEY)")
    serve.add_argument(
        "--name", dest="collector_name",
        help="this collector's name in job leases and logs (env RENTMETER_COLLECTOR_NAME; default HOST:PID)",
    )  # fmt: skip
    serve.add_argument("--tls-client-ca", help="require agent certificates signed by this CA (mutual TLS)")
    serve.set_defaults(handler=collector_serve)
    migrate = collector.add_parser("migrate", help="create or upgrade the database schema")
    migrate.add_argument("--db", dest="db_url", help="SQLAlchemy URL (env RENTMETER_DB_URL)")
    migrate.set_defaults(handler=collector_migrate)
    token = collector.add_parser(
        "token", help="create an API token directly in the database (the first admin token; shown once)"
    )
    token.add_argument("--db", dest="db_url", help="SQLAlchemy URL (env RENTMETER_DB_URL)")
    token.add_argument("--role", choices=["admin", "host", "renter"], default="admin")
    token.add_argument("--subject", default="", help="the host account or renter the token speaks for")
    token.add_argument("--label", default="", help="a note, e.g. who holds it")
    token.set_defaults(handler=collector_token)
    account = collector.add_parser(
        "account", help="create an account directly in the database (the first admin account)"
    )
    account.add_argument("--db", dest="db_url", help="SQLAlchemy URL (env RENTMETER_DB_URL)")
    account.add_argument("--name", required=True, help="the sign-in name")
    account.add_argument("--role", choices=["admin", "host", "renter"], default="admin")
    account.add_argument(
        "--subject", default="", help="the renter or host id it acts for (default: the name)"
    )
    account.add_argument("--email", default="", help="where password reset links go")
    password_options(account, required=True)
    account.set_defaults(handler=collector_account)
    verify = collector.add_parser("audit-verify", help="check the audit log's hash chain (exit 1 if broken)")
    verify.add_argument("--db", dest="db_url", help="SQLAlchemy URL (env RENTMETER_DB_URL)")
    verify.set_defaults(handler=collector_audit_verify)


def collector_settings(args: argparse.Namespace) -> CollectorSettings:
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
            collector_name=getattr(args, "collector_name", None),
            log_format=getattr(args, "log_format", None),
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
        where = database.engine.url.render_as_string(hide_password=True)
        print(f"{args.role} API token stored in {where} (shown once, above)", file=sys.stderr)
    except CollectorError as exc:
        raise UsageError(str(exc)) from None
    finally:
        database.close()
    return 0


def collector_account(args: argparse.Namespace) -> int:
    from collector.accounts.profiles import create_account_offline
    from collector.core.errors import CollectorError
    from collector.db.database import Database

    password = read_password(args)
    settings = collector_settings(args)
    settings.ensure_db_dir()
    database = Database(settings.db_url)
    try:
        now = datetime.now(UTC)
        account = database.call(
            create_account_offline, args.name, args.role, args.subject, args.email, password, now
        )
        where = database.engine.url.render_as_string(hide_password=True)
        print(f"{account.role} account {account.name} stored in {where}")
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
