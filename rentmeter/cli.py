"""`rentmeter`: one console script with a subcommand per job (one module per noun in rentmeter.commands).

Exit codes: 0 done; 1 the collector refused the request (its message is printed); 2 bad command line
(one sentence); 3 the collector cannot be reached; 4 the agent or collector cannot start (the reason is
printed); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn, cast

import grpc

from rentmeter.commands import NOUN_NAMES, nouns
from rentmeter.commands.remote import DEFAULT_COLLECTOR, connection_arguments
from rentmeter.errors import EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_USAGE, UsageError
from rentmeter.logformat import FORMATS, handler_for


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_named_noun(argv))
    args = parser.parse_args(argv)
    if args.log_format not in FORMATS:  # from RENTMETER_LOG_FORMAT (argparse checks only given choices)
        parser.error(f"RENTMETER_LOG_FORMAT: {args.log_format!r} is not text or json")
    agent_run = args.command == "agent"
    if args.collector is None and not agent_run:  # the agent reads RENTMETER_AGENT_COLLECTOR itself
        args.collector = os.environ.get("RENTMETER_COLLECTOR", DEFAULT_COLLECTOR)
    if args.api_token is None:
        args.api_token = os.environ.get("RENTMETER_TOKEN", "")
    _configure_logging(args)
    try:
        return int(args.handler(args) or 0)
    except grpc.RpcError as exc:
        return _report_rpc_error(exc, args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


# Libraries whose INFO lines are routine: APScheduler logs every job run (96 % of an idle collector's log),
# Alembic its dialect at every start. `-v` shows them.
CHATTY_LIBRARIES = ("apscheduler", "alembic")


def _configure_logging(args: argparse.Namespace) -> None:
    """Processes (collector, agent, portal) log at INFO, other commands only warnings; `-v`: DEBUG, all."""
    if args.verbose:
        level = logging.DEBUG
    else:
        level = logging.INFO if args.command in ("collector", "agent", "portal") else logging.WARNING
        for name in CHATTY_LIBRARIES:
            logging.getLogger(name).setLevel(logging.WARNING)
    logging.basicConfig(level=level, handlers=[handler_for(args.log_format)])


def _report_rpc_error(exc: grpc.RpcError, args: argparse.Namespace) -> int:
    call = cast(grpc.Call, exc)  # a failed call's error is also its grpc.Call
    code = call.code()
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        hint = " (in plaintext: give --tls-ca if it serves TLS)" if getattr(args, "plaintext", False) else ""
        where = f"{args.collector}{hint}"
        print(f"error: cannot reach the collector at {where}: {call.details()}", file=sys.stderr)
        return EXIT_UNREACHABLE
    print(f"error: {call.details()} ({code.name})", file=sys.stderr)
    return EXIT_REFUSED


class Parser(argparse.ArgumentParser):
    """argparse, but a bad command line is one sentence on standard error (and exit code 2), not the usage
    text: `error: argument --traffic-out: 'nan' is not a finite number (see rentmeter quote --help)`."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {message} (see {self.prog} --help)\n")


def build_parser(names: tuple[str, ...] = NOUN_NAMES) -> argparse.ArgumentParser:
    """The command line of the nouns in `names` (default: all of them)."""
    parser = Parser(prog="rentmeter", description="Metering and billing for rented computers.")
    _global_options(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for noun in nouns(names):
        noun.register(commands)
    return parser


def _global_options(parser: argparse.ArgumentParser, *, version: bool = True) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument(
        "--log-format",
        choices=FORMATS,
        default=os.environ.get("RENTMETER_LOG_FORMAT") or "text",
        help="log lines as text or as one JSON object per line (default: RENTMETER_LOG_FORMAT or text)",
    )
    if version:
        parser.add_argument("--version", action=_Version, help="show the version and exit")
    connection_arguments(parser, None)


def _named_noun(argv: Sequence[str]) -> tuple[str, ...]:
    """Just the agent's noun for `rentmeter agent ...` (its module alone is imported: a lean agent
    process), else every noun."""
    peek = argparse.ArgumentParser(add_help=False)
    _global_options(peek, version=False)
    try:
        _, rest = peek.parse_known_args(argv)
    except SystemExit:  # --version, or a malformed global option: the full parser answers
        return NOUN_NAMES
    return ("agent",) if rest[:1] == ["agent"] else NOUN_NAMES


class _Version(argparse.Action):
    """--version, read from the installed metadata only when asked (importlib.metadata is heavy)."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        print(f"rentmeter {_version()}")
        parser.exit(0)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rentmeter")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"
