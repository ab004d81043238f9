"""Reading a password for a command: from standard input (`--password-stdin`, for scripts) or typed twice
at a prompt that does not echo (`--password-prompt`). Never from the command line itself, where other
users could read it in the process list and it would stay in the shell's history."""

from __future__ import annotations

import argparse
import getpass
import sys

from rentmeter.errors import UsageError


def password_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    """--password-stdin and --password-prompt (one of them when `required`)."""
    way = parser.add_mutually_exclusive_group(required=required)
    way.add_argument(
        "--password-stdin", action="store_true",
        help="read the password from the first line of standard input",
    )  # fmt: skip
    way.add_argument("--password-prompt", action="store_true", help="type the password (twice, not shown)")


def read_password(args: argparse.Namespace, *, confirm: bool = True) -> str:
    """The password the options ask for ("" when neither was given); a UsageError when none arrives or the
    two typed ones differ."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UsageError("--password-stdin: standard input held no password")
        return password
    if args.password_prompt:
        password = getpass.getpass("password: ")
        if confirm and getpass.getpass("again: ") != password:
            raise UsageError("the two passwords differ")
        if not password:
            raise UsageError("no password was typed")
        return password
    return ""
