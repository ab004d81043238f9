"""Accounts: the people who sign in (AccountService.ListAccounts, filtered by role), creating one (renter,
host or admin, with its subject: CreateAccount), and an account's page: set its password (SetPassword),
send it a reset link (RequestPasswordReset), disable or enable it (UpdateAccount).
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.auth import ROLES, User, requires, user_api
from portal.errors import PageNotFound, Refused
from portal.pages.admin.common import form_fields, status_for
from portal.web import FormError, notice, render, see_other
from protos.rentmeter.v1 import accounts_pb2

CREATE_FIELDS = ("name", "role", "subject", "password", "display_name", "email")


@requires("admin")
async def accounts(request: Request, user: User) -> Response:
    return await _accounts_page(request)


async def _accounts_page(
    request: Request, error: FormError | None = None, kept: dict[str, str] | None = None
) -> Response:
    role = request.query_params.get("role", "")
    role = role if role in ROLES else ""
    listed = await user_api(request).accounts.ListAccounts(accounts_pb2.ListAccountsRequest(role=role))
    new = {**dict.fromkeys(CREATE_FIELDS, ""), "role": "renter", **(kept or {}), "password": ""}
    context = {"accounts": sorted(listed.accounts, key=lambda a: a.name), "role": role, "roles": ROLES,
               "new": new, "error": error}  # fmt: skip
    return render(request, "admin/accounts.html", context, status=status_for(error))


@requires("admin")
async def create(request: Request, user: User) -> Response:
    fields = await form_fields(request, CREATE_FIELDS, limit=1024)
    try:
        made = await user_api(request).accounts.CreateAccount(accounts_pb2.CreateAccountRequest(**fields))
    except Refused as refusal:  # a name taken or not valid, a weak password, a role unknown
        return await _accounts_page(request, FormError.from_refusal(refusal), fields)
    notice(request, i18n.gettext("The account %(name)s is created.") % {"name": made.name})
    return see_other(f"/admin/accounts/{quote(made.name)}")


async def _account(request: Request) -> accounts_pb2.Account:
    """The account named in the path (ListAccounts: there is no single-account call); PageNotFound if none."""
    name = request.path_params["name"]
    listed = await user_api(request).accounts.ListAccounts(accounts_pb2.ListAccountsRequest())
    for account in listed.accounts:
        if account.name == name:
            return account
    raise PageNotFound(request.url.path)


@requires("admin")
async def account(request: Request, user: User) -> Response:
    return await _account_page(request)


async def _account_page(request: Request, error: FormError | None = None, failed_form: str = "") -> Response:
    context = {"account": await _account(request), "error": error, "failed_form": failed_form}
    return render(request, "admin/account.html", context, status=status_for(error))


@requires("admin")
async def set_password(request: Request, user: User) -> Response:
    found = await _account(request)
    fields = await form_fields(request, ("password", "password_again"), limit=1024)
    if fields["password"] != fields["password_again"]:
        error = FormError(i18n.gettext("The two passwords are not the same."))
        return await _account_page(request, error, "password")
    try:
        await user_api(request).accounts.SetPassword(
            accounts_pb2.SetPasswordRequest(name=found.name, password=fields["password"])
        )
    except Refused as refusal:  # a weak password
        return await _account_page(request, FormError.from_refusal(refusal), "password")
    # Setting a password ends every sign-in of the account: one's own too (then the next page asks for it).
    notice(request, i18n.gettext("The password is set; the account's sign-ins have ended."))
    return see_other(f"/admin/accounts/{quote(found.name)}")


@requires("admin")
async def send_reset(request: Request, user: User) -> Response:
    found = await _account(request)
    try:
        await user_api(request).accounts.RequestPasswordReset(
            accounts_pb2.RequestPasswordResetRequest(name_or_email=found.name)
        )
    except Refused as refusal:  # too many requests on this collector
        return await _account_page(request, FormError.from_refusal(refusal), "reset")
    notice(request, i18n.gettext("A reset link is sent to the account's e-mail address."))
    return see_other(f"/admin/accounts/{quote(found.name)}")


@requires("admin")
async def set_disabled(request: Request, user: User) -> Response:
    found = await _account(request)
    disable = (await form_fields(request, ("disabled",)))["disabled"] == "yes"
    try:
        await user_api(request).accounts.UpdateAccount(
            accounts_pb2.UpdateAccountRequest(name=found.name, disabled=disable)
        )
    except Refused as refusal:
        return await _account_page(request, FormError.from_refusal(refusal), "disabled")
    if disable:
        notice(request, i18n.gettext("The account is disabled; its sign-ins have ended."))
    else:
        notice(request, i18n.gettext("The account is enabled."))
    return see_other(f"/admin/accounts/{quote(found.name)}")


ROUTES = [
    Route("/admin/accounts", accounts, methods=["GET"]),
    Route("/admin/accounts", create, methods=["POST"]),
    Route("/admin/accounts/{name}", account, methods=["GET"]),
    Route("/admin/accounts/{name}/password", set_password, methods=["POST"]),
    Route("/admin/accounts/{name}/reset", send_reset, methods=["POST"]),
    Route("/admin/accounts/{name}/disabled", set_disabled, methods=["POST"]),
]
