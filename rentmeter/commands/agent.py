"""`rentmeter agent run|status|rotate-key|install|uninstall`: the agent on a rented machine."""

from __future__ import annotations

import argparse
import os
import sys

from rentmeter import numbers
from rentmeter.commands.remote import Commands, collector_address, remote_options
from rentmeter.errors import EXIT_CANNOT_START, UsageError


def register(commands: Commands) -> None:
    agent = commands.add_parser("agent", help="run the agent").add_subparsers(dest="action", required=True)
    run = agent.add_parser(
        "run", parents=[remote_options(tls=False)], help="enroll (first run) and report this machine's usage"
    )
    run.add_argument(
        "--token", help="enrollment token, needed on the first run only (env RENTMETER_AGENT_TOKEN)"
    )
    run.add_argument("--config", help="TOML settings file (env RENTMETER_AGENT_CONFIG)")
    run.add_argument("--state-dir", help="key, identity and spool (env RENTMETER_AGENT_STATE_DIR)")
    run.add_argument(
        "--tls-ca", default=argparse.SUPPRESS, help="CA that signed the collector's certificate; enables TLS"
    )
    _client_certificate_arguments(run)
    run.add_argument("--interval", type=numbers.seconds, help="seconds between samples (default 1)")
    run.add_argument("--report-every", type=numbers.seconds, help="seconds of samples per report (default 5)")
    run.set_defaults(handler=agent_run)
    rotate = agent.add_parser(
        "rotate-key",
        parents=[remote_options(tls=False)],
        help="replace this machine's key (stop the agent service first)",
    )
    rotate.add_argument("--config", help="TOML settings file (env RENTMETER_AGENT_CONFIG)")
    rotate.add_argument("--state-dir", help="key, identity and spool (env RENTMETER_AGENT_STATE_DIR)")
    rotate.add_argument(
        "--tls-ca", default=argparse.SUPPRESS, help="CA that signed the collector's certificate; enables TLS"
    )
    _client_certificate_arguments(rotate)
    rotate.set_defaults(handler=agent_rotate_key)
    status = agent.add_parser(
        "status", help="what the agent's state holds: identity, spool, unsent and set-aside reports"
    )
    status.add_argument("--config", help="TOML settings file (env RENTMETER_AGENT_CONFIG)")
    status.add_argument("--state-dir", help="key, identity and spool (env RENTMETER_AGENT_STATE_DIR)")
    status.add_argument(
        "-o", "--output", choices=("table", "json"), default="table", help="table (default) or json"
    )
    status.set_defaults(handler=agent_status)
    install = agent.add_parser(
        "install", parents=[remote_options(tls=False)], help="install and start the agent as a service"
    )
    install.add_argument("--token", default="", help="enrollment token for the first start")
    install.add_argument(
        "--tls-ca", default=argparse.SUPPRESS, help="CA certificate that signed the collector's certificate"
    )
    _client_certificate_arguments(install)
    install.add_argument(
        "--root", default="/", help="install under this folder and do not start (images, tests)"
    )
    install.set_defaults(handler=agent_install)
    uninstall = agent.add_parser("uninstall", help="stop and remove the agent service")
    uninstall.add_argument(
        "--purge", action="store_true", help="also remove its settings and state (unsent reports!)"
    )
    uninstall.add_argument("--root", default="/", help="uninstall from under this folder")
    uninstall.set_defaults(handler=agent_uninstall)


def _client_certificate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tls-cert", default=argparse.SUPPRESS,
        help="this agent's client certificate (mutual TLS; env RENTMETER_AGENT_TLS_CERT)",
    )  # fmt: skip
    parser.add_argument(
        "--tls-key", default=argparse.SUPPRESS, help="its private key (RENTMETER_AGENT_TLS_KEY)"
    )


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


def agent_run(args: argparse.Namespace) -> int:
    import signal

    from agent.config import AgentSettings
    from agent.errors import AgentError
    from agent.runner import Agent, enroll, open_channel

    if args.collector:
        collector_address(args.collector)
    try:
        settings = AgentSettings.load(
            os.environ,
            args.config,
            collector=args.collector,
            tls_ca=args.tls_ca,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
            token=args.token,
            state_dir=args.state_dir,
            interval=args.interval,
            report_every=args.report_every,
        )
        collector_address(settings.collector)  # from the environment or the settings file
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

    if args.collector:
        collector_address(args.collector)
    try:
        settings = AgentSettings.load(
            os.environ, args.config, collector=args.collector, tls_ca=args.tls_ca, tls_cert=args.tls_cert,
            tls_key=args.tls_key, state_dir=args.state_dir,
        )  # fmt: skip
        collector_address(settings.collector)
        last = rotate_key(settings, open_channel(settings))
    except AgentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CANNOT_START
    print(f"key rotated; reports up to sequence {last} keep the old signature")
    return 0


def agent_install(args: argparse.Namespace) -> int:
    from pathlib import Path

    from agent.errors import AgentError
    from agent.service import InstallPlan, install

    if not args.collector:
        raise UsageError("agent install needs --collector HOST:PORT")
    tls = (args.tls_ca or "", args.tls_cert or "", args.tls_key or "")
    plan = InstallPlan(collector_address(args.collector), args.token, *tls, Path(args.root))
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
