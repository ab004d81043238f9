"""`rentmeter portal serve`: the web portal for renters, hosts and the provider (README: The web portal)."""

from __future__ import annotations

import argparse
import os
import sys

from rentmeter.commands.remote import Commands, client_tls, collector_address, remote_options


def register(commands: Commands) -> None:
    portal = commands.add_parser("portal", help="the web portal (renters, hosts, the provider)")
    actions = portal.add_subparsers(dest="action", required=True, metavar="ACTION")
    serve = actions.add_parser(
        "serve", parents=[remote_options()], help="serve the portal over HTTP, as a client of the collector"
    )
    serve.add_argument(
        "--listen", default=None, help="HOST:PORT (env RENTMETER_PORTAL_LISTEN; default 127.0.0.1:8080)"
    )
    serve.add_argument(
        "--public-url", default=None,
        help="the address people open, e.g. https://portal.example.net (env RENTMETER_PORTAL_PUBLIC_URL)",
    )  # fmt: skip
    serve.add_argument(
        "--secret-key-file", default=None,
        help="file with the key that signs session cookies (env RENTMETER_PORTAL_SECRET_KEY or _FILE)",
    )  # fmt: skip
    serve.add_argument(
        "--trusted-proxies", default=None,
        help="comma-separated addresses of proxies whose X-Forwarded-* are believed "
        "(env RENTMETER_PORTAL_TRUSTED_PROXIES)",
    )  # fmt: skip
    serve.add_argument(
        "--agent-collector", default=None,
        help="HOST:PORT that agents dial, for the install command of the Enrollment page "
        "(env RENTMETER_PORTAL_AGENT_COLLECTOR; default --collector)",
    )  # fmt: skip
    serve.set_defaults(handler=serve_portal)


def serve_portal(args: argparse.Namespace) -> int:
    from portal.errors import SettingsError
    from portal.server import serve
    from portal.settings import settings_from
    from rentmeter.errors import EXIT_CANNOT_START

    tls = client_tls(args, os.environ)
    try:
        settings = settings_from(
            os.environ,
            collector=collector_address(args.collector),
            listen=args.listen,
            public_url=args.public_url,
            secret_key_file=args.secret_key_file,
            trusted_proxies=args.trusted_proxies,
            agent_collector=args.agent_collector,
            tls_ca=tls.ca if tls else None,
            tls_cert=tls.cert if tls else None,
            tls_key=tls.key if tls else None,
        )
        serve(settings)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CANNOT_START
    return 0
