"""`rentmeter`: one console script with a subcommand per job.

Exit codes: 0 done; 1 the collector refused the request (its message is printed); 2 bad command line;
3 the collector cannot be reached; 4 the agent or collector cannot start (the reason is printed).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

import grpc

from rentmeter import admin_commands, local_commands
from rentmeter.errors import EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_USAGE, UsageError

DEFAULT_COLLECTOR = "127.0.0.1:50051"


COLLECTOR_HELP = f"collector HOST:PORT (env RENTMETER_COLLECTOR; default {DEFAULT_COLLECTOR})"


def _remote() -> argparse.ArgumentParser:
    """`--collector` accepted after the subcommand too (`rentmeter agent run --collector HOST:PORT`)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--collector", default=argparse.SUPPRESS, help=COLLECTOR_HELP)
    parent.add_argument(
        "--api-token",
        default=argparse.SUPPRESS,
        help="API token (default: $RENTMETER_TOKEN); see `collector token`",
    )
    return parent


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    agent_run = args.command == "agent"
    if args.collector is None and not agent_run:  # the agent reads RENTMETER_AGENT_COLLECTOR itself
        args.collector = os.environ.get("RENTMETER_COLLECTOR", DEFAULT_COLLECTOR)
    if args.api_token is None:
        args.api_token = os.environ.get("RENTMETER_TOKEN", "")
    logging.basicConfig(
        level=logging.DEBUG
        if args.verbose
        else logging.INFO
        if args.command in ("collector", "agent")
        else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.handler(args) or 0)
    except grpc.RpcError as exc:
        return _report_rpc_error(exc, args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _report_rpc_error(exc: grpc.RpcError, args: argparse.Namespace) -> int:
    code = exc.code()  # type: ignore[attr-defined]
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        print(f"error: cannot reach the collector at {args.collector}: {exc.details()}", file=sys.stderr)  # type: ignore[attr-defined]
        return EXIT_UNREACHABLE
    print(f"error: {exc.details()} ({code.name})", file=sys.stderr)  # type: ignore[attr-defined]
    return EXIT_REFUSED


def _terms_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--service-level", default="", help="a service level the plan offers")
    parser.add_argument("--member-tier", default="", help="the renter's member tier")
    parser.add_argument("--coupon", default="", help="a coupon code of the plan")
    parser.add_argument(
        "--resource", action="append", default=[], metavar="NAME=QUANTITY",
        help="an extra resource held for the whole rental, e.g. storage=500 (GB)",
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rentmeter", description="Metering and billing for rented computers."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--collector", default=None, help=COLLECTOR_HELP)
    parser.add_argument(
        "--api-token", default=None, help="API token for the collector (default: $RENTMETER_TOKEN)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _collector_commands(commands)
    _agent_commands(commands)
    _admin_commands(commands)
    certs = commands.add_parser("certs", help="TLS certificates").add_subparsers(dest="action", required=True)
    init = certs.add_parser("init", help="create a CA, a collector certificate and agent certificates")
    init.add_argument("directory", help="where to write ca.pem, collector.pem, AGENT.pem and their keys")
    init.add_argument("--hostname", action="append", default=[], help="collector host name or IP; repeat")
    init.add_argument("--agent", action="append", default=["agent"], help="agent certificate name; repeat")
    init.set_defaults(handler=local_commands.certs_init)
    demo = commands.add_parser(
        "demo", help="run a collector, an agent and a live-billed rental on this machine"
    )
    demo.add_argument("--duration", type=float, default=None, help="seconds to rent (default: until Ctrl-C)")
    demo.add_argument("--data-dir", default=None, help="keep the demo's database and agent state here")
    demo.set_defaults(handler=local_commands.demo)
    return parser


def _collector_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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
    serve.add_argument("--tls-client-ca", help="require agent certificates signed by this CA (mutual TLS)")
    serve.set_defaults(handler=local_commands.collector_serve)
    migrate = collector.add_parser("migrate", help="create or upgrade the database schema")
    migrate.add_argument("--db", dest="db_url", help="SQLAlchemy URL (env RENTMETER_DB_URL)")
    migrate.set_defaults(handler=local_commands.collector_migrate)
    token = collector.add_parser(
        "token", help="create an API token directly in the database (the first admin token; shown once)"
    )
    token.add_argument("--db", dest="db_url", help="SQLAlchemy URL (env RENTMETER_DB_URL)")
    token.add_argument("--role", choices=["admin", "host", "renter"], default="admin")
    token.add_argument("--subject", default="", help="the host account or renter the token speaks for")
    token.add_argument("--label", default="", help="a note, e.g. who holds it")
    token.set_defaults(handler=local_commands.collector_token)
    verify = collector.add_parser("audit-verify", help="check the audit log's hash chain (exit 1 if broken)")
    verify.add_argument("--db", dest="db_url", help="SQLAlchemy URL (env RENTMETER_DB_URL)")
    verify.set_defaults(handler=local_commands.collector_audit_verify)


def _agent_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    agent = commands.add_parser("agent", help="run the agent").add_subparsers(dest="action", required=True)
    run = agent.add_parser(
        "run", parents=[_remote()], help="enroll (first run) and report this machine's usage"
    )
    run.add_argument(
        "--token", help="enrollment token, needed on the first run only (env RENTMETER_AGENT_TOKEN)"
    )
    run.add_argument("--config", help="TOML settings file (env RENTMETER_AGENT_CONFIG)")
    run.add_argument("--state-dir", help="key, identity and spool (env RENTMETER_AGENT_STATE_DIR)")
    run.add_argument("--tls-ca", help="CA that signed the collector's certificate; enables TLS")
    run.add_argument("--interval", type=float, help="seconds between samples (default 1)")
    run.add_argument("--report-every", type=float, help="seconds of samples per report (default 5)")
    run.set_defaults(handler=local_commands.agent_run)
    rotate = agent.add_parser(
        "rotate-key", parents=[_remote()], help="replace this machine's key (stop the agent service first)"
    )
    rotate.add_argument("--config", help="TOML settings file (env RENTMETER_AGENT_CONFIG)")
    rotate.add_argument("--state-dir", help="key, identity and spool (env RENTMETER_AGENT_STATE_DIR)")
    rotate.add_argument("--tls-ca", help="CA that signed the collector's certificate; enables TLS")
    rotate.set_defaults(handler=local_commands.agent_rotate_key)
    status = agent.add_parser(
        "status", help="what the agent's state holds: identity, spool, unsent and set-aside reports"
    )
    status.add_argument("--config", help="TOML settings file (env RENTMETER_AGENT_CONFIG)")
    status.add_argument("--state-dir", help="key, identity and spool (env RENTMETER_AGENT_STATE_DIR)")
    status.add_argument("--output", choices=["text", "json"], default="text", help="text (default) or json")
    status.set_defaults(handler=local_commands.agent_status)
    install = agent.add_parser(
        "install", parents=[_remote()], help="install and start the agent as a service"
    )
    install.add_argument("--token", default="", help="enrollment token for the first start")
    install.add_argument(
        "--tls-ca", default="", help="CA certificate that signed the collector's certificate"
    )
    install.add_argument("--tls-cert", default="", help="this agent's client certificate (mutual TLS)")
    install.add_argument("--tls-key", default="", help="its private key")
    install.add_argument(
        "--root", default="/", help="install under this folder and do not start (images, tests)"
    )
    install.set_defaults(handler=local_commands.agent_install)
    uninstall = agent.add_parser("uninstall", help="stop and remove the agent service")
    uninstall.add_argument(
        "--purge", action="store_true", help="also remove its settings and state (unsent reports!)"
    )
    uninstall.add_argument("--root", default="/", help="uninstall from under this folder")
    uninstall.set_defaults(handler=local_commands.agent_uninstall)


def _admin_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    token = commands.add_parser("token", help="enrollment tokens").add_subparsers(
        dest="action", required=True
    )
    create = token.add_parser("create", parents=[_remote()], help="create a one-time enrollment token")
    create.add_argument(
        "--class", dest="machine_class", default="standard", help="machine class (default standard)"
    )
    create.add_argument("--ttl", default="24h", help="validity, e.g. 30m, 24h, 7d (default 24h)")
    create.add_argument("--label", default="", help="free text shown in listings")
    create.set_defaults(handler=admin_commands.token_create)

    machines = commands.add_parser("machines", help="enrolled machines").add_subparsers(
        dest="action", required=True
    )
    machines.add_parser("list", parents=[_remote()], help="list machines").set_defaults(
        handler=admin_commands.machines_list
    )
    show = machines.add_parser("show", parents=[_remote()], help="show one machine")
    show.add_argument("agent_id")
    show.set_defaults(handler=admin_commands.machines_show)
    revoke = machines.add_parser("revoke", parents=[_remote()], help="refuse a machine's reports from now on")
    revoke.add_argument("agent_id")
    revoke.add_argument("--reason", default="", help="kept in the collector's log")
    revoke.set_defaults(handler=admin_commands.machines_revoke)
    lock = machines.add_parser("lock", parents=[_remote()], help="tell a machine's agent to lock now")
    lock.add_argument("agent_id")
    lock.add_argument("--message", default="", help="text for the person at the machine")
    lock.set_defaults(handler=admin_commands.machines_lock)

    plan = commands.add_parser("plan", help="price plans").add_subparsers(dest="action", required=True)
    create = plan.add_parser("create", parents=[_remote()], help="create a price plan (from flags or --file)")
    create.add_argument("name", nargs="?", help="plan name (with --file: taken from the file)")
    create.add_argument("--file", help="a TOML plan document (see README, Price plans)")
    create.add_argument("--currency", help="ISO 4217 code, e.g. EUR")
    create.add_argument(
        "--hourly",
        action="append",
        default=[],
        metavar="CLASS=PRICE",
        help="price of one hour for a machine class; repeat for more classes",
    )
    create.add_argument("--traffic-in", help="price per GB received (default 0)")
    create.add_argument("--traffic-out", help="price per GB sent (default 0)")
    create.add_argument(
        "--increment", help="bill a session's time in whole increments, e.g. 1m (default 1 µs)"
    )
    create.add_argument("--minimum", help="bill a session at least this long, e.g. 15m, 1h (default none)")
    create.set_defaults(handler=admin_commands.plan_create)
    version = plan.add_parser(
        "add-version", parents=[_remote()], help="add a version of a plan, in force from its effective_from"
    )
    version.add_argument("name")
    version.add_argument("--file", required=True, help="the new version's TOML plan document")
    version.set_defaults(handler=admin_commands.plan_add_version)
    show = plan.add_parser("show", parents=[_remote()], help="show one plan, its versions and rules")
    show.add_argument("name")
    show.set_defaults(handler=admin_commands.plan_show)
    plan.add_parser("list", parents=[_remote()], help="list plans").set_defaults(
        handler=admin_commands.plan_list
    )

    session = commands.add_parser("session", help="rental sessions").add_subparsers(
        dest="action", required=True
    )
    start = session.add_parser("start", parents=[_remote()], help="start renting a machine")
    start.add_argument("--machine", required=True, help="agent id")
    start.add_argument("--renter", required=True)
    start.add_argument("--plan", required=True)
    start.add_argument(
        "--class", dest="machine_class", default="", help="machine class (default: matched from the machine)"
    )
    _terms_arguments(start)
    start.set_defaults(handler=admin_commands.session_start)
    for name, handler in (("stop", admin_commands.session_stop), ("show", admin_commands.session_show)):
        sub = session.add_parser(name, parents=[_remote()], help=f"{name} a session")
        sub.add_argument("session_id")
        sub.set_defaults(handler=handler)
    listing = session.add_parser("list", parents=[_remote()], help="list sessions")
    listing.add_argument("--renter", default="")
    listing.add_argument("--machine", default="")
    listing.add_argument("--open", action="store_true", help="only open sessions")
    listing.set_defaults(handler=admin_commands.session_list)

    usage = commands.add_parser("usage", parents=[_remote()], help="usage of a machine or a session")
    scope = usage.add_mutually_exclusive_group(required=True)
    scope.add_argument("--machine", help="agent id")
    scope.add_argument("--session", help="session id")
    usage.add_argument("--from", dest="start", type=_parse_time, help="ISO 8601 start (UTC if no zone)")
    usage.add_argument("--to", dest="end", type=_parse_time, help="ISO 8601 end (UTC if no zone)")
    usage.set_defaults(handler=admin_commands.usage)

    explain = commands.add_parser("explain", parents=[_remote()], help="how a session's charge comes about")
    explain.add_argument("session_id")
    explain.set_defaults(handler=admin_commands.explain)
    quote = commands.add_parser("quote", parents=[_remote()], help="price a planned rental before it starts")
    quote.add_argument("--plan", required=True)
    quote.add_argument(
        "--class", dest="machine_class", default="standard", help="machine class (default standard)"
    )
    quote.add_argument("--duration", required=True, help="how long, e.g. 90m, 2h, 1d")
    quote.add_argument("--start", type=_parse_time, help="ISO 8601 start (default now)")
    quote.add_argument("--traffic-in", type=float, default=0.0, metavar="GB", help="expected GB received")
    quote.add_argument("--traffic-out", type=float, default=0.0, metavar="GB", help="expected GB sent")
    quote.add_argument("--busy-cores", type=int, default=0, help="expected busy CPU cores, all along")
    quote.add_argument("--memory-gb", type=float, default=0.0, help="expected used memory, GB")
    quote.add_argument(
        "--gpu", action="append", default=[], metavar="MODEL=COUNT", help="GPUs attached, e.g. A100=2"
    )
    _terms_arguments(quote)
    quote.set_defaults(handler=admin_commands.quote)

    invoice = commands.add_parser("invoice", help="invoices").add_subparsers(dest="action", required=True)
    listing = invoice.add_parser("list", parents=[_remote()], help="list invoices")
    listing.add_argument("--renter", default="")
    listing.set_defaults(handler=admin_commands.invoice_list)
    show = invoice.add_parser("show", parents=[_remote()], help="show an invoice with its lines")
    show.add_argument("invoice_id")
    show.set_defaults(handler=admin_commands.invoice_show)
    export = invoice.add_parser("export", parents=[_remote()], help="write an invoice as PDF, HTML or CSV")
    export.add_argument("invoice_id")
    export.add_argument("--format", choices=["pdf", "html", "csv"], default="pdf")
    export.add_argument("-o", "--output", help="file to write (default: NUMBER.FORMAT here)")
    export.set_defaults(handler=admin_commands.invoice_export)
    pay = invoice.add_parser(
        "pay", parents=[_remote()], help="record a payment received (e.g. bank transfer)"
    )
    pay.add_argument("invoice_id")
    pay.add_argument("--reference", required=True, help="the transfer's reference")
    pay.set_defaults(handler=admin_commands.invoice_pay)
    credit = invoice.add_parser("credit", parents=[_remote()], help="correct an invoice with a credit note")
    credit.add_argument("invoice_id")
    credit.add_argument("--reason", required=True, help="printed on the credit note")
    credit.add_argument("--amount", default="", help="how much, tax included (default: all that is left)")
    credit.set_defaults(handler=admin_commands.invoice_credit)
    close = invoice.add_parser("close", parents=[_remote()], help="close finished billing periods now")
    close.add_argument("--renter", default="")
    close.add_argument("--now", action="store_true", help="also close the current period early (invoice now)")
    close.set_defaults(handler=admin_commands.invoice_close)

    wallet = commands.add_parser("wallet", help="prepaid wallets").add_subparsers(
        dest="action", required=True
    )
    topup = wallet.add_parser(
        "topup", parents=[_remote()], help="credit a renter's wallet (makes it prepaid)"
    )
    topup.add_argument("renter")
    topup.add_argument("amount", help="e.g. 20.00")
    topup.add_argument("--currency", default="EUR")
    topup.add_argument("--key", default="", help="idempotency key (default: a new random one)")
    topup.set_defaults(handler=admin_commands.wallet_topup)
    show = wallet.add_parser("show", parents=[_remote()], help="balance, holds and ledger entries")
    show.add_argument("renter")
    show.add_argument("--currency", default="")
    show.set_defaults(handler=admin_commands.wallet_show)
    ledger = commands.add_parser("ledger", help="the double-entry ledger").add_subparsers(
        dest="action", required=True
    )
    ledger.add_parser("check", parents=[_remote()], help="prove that debits equal credits").set_defaults(
        handler=admin_commands.ledger_check
    )
    renter = commands.add_parser("renter", help="renter accounts").add_subparsers(
        dest="action", required=True
    )
    show = renter.add_parser("show", parents=[_remote()], help="a renter's account")
    show.add_argument("renter")
    show.set_defaults(handler=admin_commands.renter_show)
    update = renter.add_parser("set", parents=[_remote()], help="set a renter's billing cycle or e-mail")
    update.add_argument("renter")
    update.add_argument(
        "--cycle", choices=["hourly", "daily", "weekly", "monthly", "session", "default"],
        help="billing cycle; session = pay as you go, invoiced when each session ends",
    )  # fmt: skip
    update.add_argument("--anchor", type=_parse_time, help="ISO 8601 instant the cycle counts from")
    update.add_argument("--email", help="where invoices and alerts go ('' to remove)")
    update.add_argument("--payment-method", choices=["stripe", "transfer"], help="how invoices are paid")
    update.add_argument("--customer", help="the payment provider's customer id (e.g. cus_...)")
    update.add_argument("--source", help="the payment provider's payment method id (e.g. pm_...)")
    update.set_defaults(handler=admin_commands.renter_set)
    access = commands.add_parser("access", help="API tokens (admin)").add_subparsers(
        dest="action", required=True
    )
    grant = access.add_parser("create", parents=[_remote()], help="a new API token, shown once")
    grant.add_argument("--role", choices=["admin", "host", "renter"], required=True)
    grant.add_argument("--subject", default="", help="the host account or renter it speaks for")
    grant.add_argument("--label", default="")
    grant.set_defaults(handler=admin_commands.access_create)
    access.add_parser(
        "list", parents=[_remote()], help="API tokens (never the tokens themselves)"
    ).set_defaults(handler=admin_commands.access_list)
    withdraw = access.add_parser("revoke", parents=[_remote()], help="refuse an API token from now on")
    withdraw.add_argument("id", type=int)
    withdraw.set_defaults(handler=admin_commands.access_revoke)
    export = renter.add_parser("export", parents=[_remote()], help="everything kept about a renter, as JSON")
    export.add_argument("renter")
    export.add_argument("-o", "--output", help="file to write (default: standard output)")
    export.set_defaults(handler=admin_commands.renter_export)
    erase = renter.add_parser("erase", parents=[_remote()], help="erase a renter's data (invoices stay)")
    erase.add_argument("renter")
    erase.set_defaults(handler=admin_commands.renter_erase)
    watch = commands.add_parser("watch", parents=[_remote()], help="a session's cost, live")
    watch.add_argument("session_id")
    watch.set_defaults(handler=admin_commands.watch)


def _parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time such as 2026-11-25T10:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- collector and agent -------------------------------------------------------------------------
