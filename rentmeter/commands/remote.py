"""What the commands that talk to the collector share: their options, their connection, time stamps."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from google.protobuf.message import Message
    from google.protobuf.timestamp_pb2 import Timestamp

    from rentmeter.client import AdminClient

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Handler: TypeAlias = Callable[[argparse.Namespace], int]

DEFAULT_COLLECTOR = "127.0.0.1:50051"
COLLECTOR_HELP = f"collector HOST:PORT (env RENTMETER_COLLECTOR; default {DEFAULT_COLLECTOR})"


def remote_options(*, prints: bool = False) -> argparse.ArgumentParser:
    """`--collector` accepted after the subcommand too (`rentmeter agent run --collector HOST:PORT`);
    `prints`: the command prints what the collector answers, as a table or (`--output json`) as JSON."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--collector", default=argparse.SUPPRESS, help=COLLECTOR_HELP)
    parent.add_argument(
        "--api-token",
        default=argparse.SUPPRESS,
        help="API token (default: $RENTMETER_TOKEN); see `collector token`",
    )
    if prints:
        parent.add_argument(
            "-o", "--output", choices=("table", "json"), default="table",
            help="table (default), or json: the collector's answer as protobuf JSON, for scripts",
        )  # fmt: skip
    return parent


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


def with_client(action: Callable[[AdminClient, argparse.Namespace], int | None]) -> Handler:
    """A handler that connects to the collector, runs `action` and closes the connection."""

    def handler(args: argparse.Namespace) -> int:
        from rentmeter.client import AdminClient

        client = AdminClient.connect(args.collector, args.api_token)
        try:
            return int(action(client, args) or 0)
        finally:
            client.close()

    return handler


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
