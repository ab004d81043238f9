"""What the commands that talk to the collector share: their options, their connection, time stamps."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from google.protobuf.message import Message
    from google.protobuf.timestamp_pb2 import Timestamp

    from rentmeter.client import AdminClient, ClientTls

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Handler: TypeAlias = Callable[[argparse.Namespace], int]

DEFAULT_COLLECTOR = "127.0.0.1:50051"
# gRPC targets with a scheme are passed through as they are (e.g. unix:/run/rentmeter.sock).
GRPC_SCHEMES = ("dns:", "unix:", "unix-abstract:", "ipv4:", "ipv6:", "vsock:")
TLS_ENVIRONMENT = {
    "tls_ca": "RENTMETER_TLS_CA",
    "tls_cert": "RENTMETER_TLS_CERT",
    "tls_key": "RENTMETER_TLS_KEY",
}


def connection_arguments(parser: argparse.ArgumentParser, default: object, *, tls: bool = True) -> None:
    """The options that say how to reach the collector. The top-level parser takes them with default
    None, each subcommand again with SUPPRESS (so that they work on either side of the subcommand)."""
    parser.add_argument(
        "--collector",
        default=default,
        help=f"collector HOST:PORT (env RENTMETER_COLLECTOR; default {DEFAULT_COLLECTOR})",
    )
    parser.add_argument(
        "--api-token", default=default, help="API token (env RENTMETER_TOKEN); see `collector token`"
    )
    if tls:
        parser.add_argument(
            "--tls-ca", default=default,
            help="use TLS; the CA (PEM) that signed the collector's certificate (env RENTMETER_TLS_CA)",
        )  # fmt: skip
        parser.add_argument(
            "--tls-cert", default=default,
            help="a client certificate (PEM), for a collector that requires one (env RENTMETER_TLS_CERT)",
        )  # fmt: skip
        parser.add_argument("--tls-key", default=default, help="its private key (env RENTMETER_TLS_KEY)")


def remote_options(*, prints: bool = False, tls: bool = True) -> argparse.ArgumentParser:
    """The connection options of a subcommand; `prints`: it prints what the collector answers, as a table
    or (`--output json`) as JSON; `tls`: it dials as an admin client (the agent has its own TLS options)."""
    parent = argparse.ArgumentParser(add_help=False)
    connection_arguments(parent, argparse.SUPPRESS, tls=tls)
    if prints:
        parent.add_argument(
            "-o", "--output", choices=("table", "json"), default="table",
            help="table (default), or json: the collector's answer as protobuf JSON, for scripts",
        )  # fmt: skip
    return parent


def collector_address(text: str) -> str:
    """`text` if it is HOST:PORT (or a gRPC target with a scheme); a UsageError otherwise, rather than
    gRPC's silent default of port 443."""
    from rentmeter.errors import UsageError

    if text.startswith(GRPC_SCHEMES):
        return text
    host, colon, port = text.rpartition(":")
    if not colon or not host:
        raise UsageError(f"the collector address {text!r} has no port: write HOST:PORT, e.g. {text}:50051")
    if ":" in host and not (host.startswith("[") and host.endswith("]")):
        raise UsageError(f"write an IPv6 collector address in brackets with a port, e.g. [{text}]:50051")
    if not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        raise UsageError(f"the collector address {text!r} needs a port from 1 to 65535 after the colon")
    return text


def client_tls(args: argparse.Namespace, environ: Mapping[str, str]) -> ClientTls | None:
    """TLS files from the flags, else from RENTMETER_TLS_*; None (plaintext) when none is given."""
    from rentmeter.client import ClientTls

    files = {
        name: value if (value := getattr(args, name, None)) is not None else environ.get(variable, "")
        for name, variable in TLS_ENVIRONMENT.items()
    }
    if not any(files.values()):
        return None
    return ClientTls(ca=files["tls_ca"], cert=files["tls_cert"], key=files["tls_key"])


def with_client(action: Callable[[AdminClient, argparse.Namespace], int | None]) -> Handler:
    """A handler that connects to the collector, runs `action` and closes the connection."""

    def handler(args: argparse.Namespace) -> int:
        import os

        from rentmeter.client import AdminClient

        tls = client_tls(args, os.environ)
        args.plaintext = tls is None  # for the hint when the collector cannot be reached
        client = AdminClient.connect(collector_address(args.collector), args.api_token, tls)
        try:
            return int(action(client, args) or 0)
        finally:
            client.close()

    return handler


def show(args: argparse.Namespace, message: Message, render: Callable[[], None]) -> None:
    """Print the collector's answer: as JSON (proto field names, every field) with `--output json`,
    else as `render` draws it."""
    if args.output == "json":
        print(as_json(message), flush=True)
    else:
        render()


def as_json(message: Message, indent: int | None = 2) -> str:
    from google.protobuf import json_format

    return json_format.MessageToJson(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True,
        ensure_ascii=False, indent=indent,
    )  # fmt: skip


def timestamp(moment: datetime) -> Timestamp:
    from google.protobuf.timestamp_pb2 import Timestamp

    ts = Timestamp()
    ts.FromDatetime(moment)
    return ts


def parse_time(text: str) -> datetime:
    """An argparse type: ISO 8601, UTC when no zone is given."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time such as 2026-11-25T10:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def pairs(items: list[str], flag: str, example: str) -> list[tuple[str, str]]:
    """`KEY=VALUE` flags as pairs; a malformed one is a UsageError naming the flag."""
    from rentmeter.errors import UsageError

    found = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise UsageError(f"{flag} takes {example}, not {item!r}")
        found.append((key.strip(), value.strip()))
    return found
