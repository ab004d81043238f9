"""`rentmeter account create|list|set|disable|enable|set-password|login|logout|whoami`: accounts of the
people who sign in (the web portal) with a name and password."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rentmeter.commands.remote import Commands, remote_options, show, with_client
from rentmeter.passwords import password_options, read_password

if TYPE_CHECKING:
    from protos.rentmeter.v1 import accounts_pb2
    from rentmeter.client import AdminClient

ROLES = ("admin", "host", "renter")


def register(commands: Commands) -> None:
    account = commands.add_parser("account", help="accounts that sign in with a password").add_subparsers(
        dest="action", required=True
    )
    create = account.add_parser("create", parents=[remote_options(prints=True)], help="a new account (admin)")
    create.add_argument("name", help="3 to 64 letters, digits, '.', '_', '-' or '@' (kept in lower case)")
    create.add_argument("--role", choices=ROLES, required=True)
    create.add_argument("--subject", default="", help="the renter or host id it acts for (default: the name)")
    profile_options(create)
    password_options(create, required=False)
    create.set_defaults(handler=account_create)
    listing = account.add_parser("list", parents=[remote_options(prints=True)], help="accounts (admin)")
    listing.add_argument("--role", choices=ROLES, help="only this role")
    listing.set_defaults(handler=account_list)
    change = account.add_parser(
        "set", parents=[remote_options(prints=True)], help="change an account's profile ('' clears a value)"
    )
    change.add_argument("name", help="the account (admin: any; others: their own)")
    profile_options(change)
    change.set_defaults(handler=account_set)
    for action, disabled, text in (("disable", True, "refuse its sign-ins and tokens from now on"),
                                   ("enable", False, "let a disabled account sign in again")):  # fmt: skip
        one = account.add_parser(action, parents=[remote_options(prints=True)], help=f"{text} (admin)")
        one.add_argument("name")
        one.set_defaults(handler=account_disable, disabled=disabled)
    new_password = account.add_parser(
        "set-password",
        parents=[remote_options()],
        help="set an account's password (admin); ends its sign-ins",
    )
    new_password.add_argument("name")
    password_options(new_password, required=True)
    new_password.set_defaults(handler=account_set_password)
    login = account.add_parser(
        "login",
        parents=[remote_options(prints=True)],
        help="sign in: prints a sign-in token (RENTMETER_TOKEN)",
    )
    login.add_argument("name")
    password_options(login, required=True)
    login.set_defaults(handler=account_login)
    account.add_parser(
        "logout", parents=[remote_options()], help="revoke the token this command is given"
    ).set_defaults(handler=account_logout)
    account.add_parser(
        "whoami", parents=[remote_options(prints=True)], help="the account (or role) of the token given"
    ).set_defaults(handler=account_whoami)


def profile_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--display-name", help="the name shown to people")
    parser.add_argument("--email", help="where password reset links go")
    parser.add_argument("--locale", help="preferred language: en or zh-CN ('' = the browser's)")
    parser.add_argument("--time-zone", help="IANA time zone such as Asia/Shanghai ('' = the browser's)")


@with_client
def account_create(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import accounts_pb2

    request = accounts_pb2.CreateAccountRequest(
        name=args.name, role=args.role, subject=args.subject, password=read_password(args),
        display_name=args.display_name or "", email=args.email or "", locale=args.locale or "",
        time_zone=args.time_zone or "",
    )  # fmt: skip
    created = client.accounts.CreateAccount(request, timeout=30)
    show(args, created, lambda: render_accounts([created]))


@with_client
def account_list(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import accounts_pb2

    listed = client.accounts.ListAccounts(accounts_pb2.ListAccountsRequest(role=args.role or ""), timeout=30)
    show(args, listed, lambda: render_accounts(list(listed.accounts)))


@with_client
def account_set(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import accounts_pb2

    request = accounts_pb2.UpdateAccountRequest(name=args.name)
    for field in ("display_name", "email", "locale", "time_zone"):
        if getattr(args, field) is not None:
            setattr(request, field, getattr(args, field))
    updated = client.accounts.UpdateAccount(request, timeout=30)
    show(args, updated, lambda: render_accounts([updated]))


@with_client
def account_disable(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import accounts_pb2

    request = accounts_pb2.UpdateAccountRequest(name=args.name, disabled=args.disabled)
    updated = client.accounts.UpdateAccount(request, timeout=30)
    show(args, updated, lambda: render_accounts([updated]))


@with_client
def account_set_password(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import accounts_pb2

    request = accounts_pb2.SetPasswordRequest(name=args.name, password=read_password(args))
    client.accounts.SetPassword(request, timeout=30)
    print(f"password of {args.name} set; its sign-ins are ended")


@with_client
def account_login(client: AdminClient, args: argparse.Namespace) -> None:
    import sys
    from datetime import UTC

    from protos.rentmeter.v1 import accounts_pb2

    request = accounts_pb2.LoginRequest(name=args.name, password=read_password(args, confirm=False))
    signed_in = client.accounts.Login(request, timeout=30)

    def render() -> None:
        print(signed_in.token)
        until = signed_in.expires_at.ToDatetime(tzinfo=UTC).isoformat()
        print(
            f"signed in as {signed_in.account.name} ({signed_in.account.role}) until {until}", file=sys.stderr
        )

    show(args, signed_in, render)


@with_client
def account_logout(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import accounts_pb2

    client.accounts.Logout(accounts_pb2.LogoutRequest(), timeout=30)
    print("signed out: the token is revoked")


@with_client
def account_whoami(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import accounts_pb2

    me = client.accounts.WhoAmI(accounts_pb2.WhoAmIRequest(), timeout=30)
    show(args, me, lambda: render_accounts([me]))


def render_accounts(items: list[accounts_pb2.Account]) -> None:
    from rich.table import Table

    from rentmeter.output import console, when

    table = Table("name", "role", "subject", "display name", "e-mail", "state", "created", "last sign-in")
    for a in items:
        state = "disabled" if a.disabled else "active"
        table.add_row(a.name or "-", a.role, a.subject or "-", a.display_name, a.email, state,
                      when(a.created_at), when(a.last_login_at))  # fmt: skip
    console.print(table)
