"""Signing in and out, password resets, self sign-up and the language switch.

The pattern of a form page: GET renders the form; POST reads it (CsrfMiddleware has checked its token),
calls the collector, and either redirects (303) on success or renders the form again with a FormError.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from datetime import UTC
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.auth import anonymous_api, current_user, sign_in, sign_out, user_api
from portal.errors import (
    CollectorFailed,
    CollectorUnavailable,
    PageNotFound,
    PortalError,
    Refused,
    SignInRequired,
)
from portal.navigation import home_path
from portal.web import (
    LANGUAGE_COOKIE,
    FormError,
    client_address,
    local_path,
    notice,
    render,
    see_other,
)
from protos.rentmeter.v1 import accounts_pb2

# How long the portal trusts its last look at whether self sign-up is open.
SIGNUP_PROBE_S = 60.0


def _text(form: Mapping[str, Any], name: str, limit: int = 200) -> str:
    """A form field's text, stripped and cut to `limit` characters ("" when absent or a file)."""
    value = form.get(name, "")
    return value.strip()[:limit] if isinstance(value, str) else ""


def _too_many(request: Request) -> float:
    """Seconds this client must wait before another sign-in, reset or sign-up post (0: go ahead)."""
    return float(request.app.state.limiter.retry_after(client_address(request)))


def _wait_error(seconds: float) -> FormError:
    minutes = max(1, round(seconds / 60))
    return FormError(
        i18n.ngettext(
            "Too many attempts from this address. Try again in %(num)d minute.",
            "Too many attempts from this address. Try again in %(num)d minutes.",
            minutes,
        )
        % {"num": minutes}
    )


async def signin_page(request: Request) -> Response:
    if current_user(request):
        return see_other(local_path(request.query_params.get("next"), "/"))
    return await _signin_form(request)


async def _signin_form(
    request: Request, error: FormError | None = None, name: str = "", status: int = 200
) -> Response:
    return render(
        request,
        "account/signin.html",
        {
            "error": error,
            "name": name,
            "next": local_path(request.query_params.get("next"), ""),
            "signup_open": await signup_open(request),
        },
        status=status,
    )


async def signin(request: Request) -> Response:
    async with request.form() as form:
        name, password = _text(form, "name", 64), _text(form, "password", 1024)
        next_path = _text(form, "next", 2000)
    wait = _too_many(request)
    if wait:
        return await _signin_form(request, _wait_error(wait), name, status=429)
    if not name or not password:
        return await _signin_form(
            request, FormError(i18n.gettext("Enter your name and password.")), name, 400
        )
    try:
        answer = await anonymous_api(request).accounts.Login(
            accounts_pb2.LoginRequest(name=name, password=password)
        )
    except (SignInRequired, PageNotFound, Refused) as refusal:  # wrong password, disabled, locked
        error = FormError(i18n.gettext("You could not be signed in:"), str(refusal))
        return await _signin_form(request, error, name, status=401)
    expires = answer.expires_at.ToDatetime(tzinfo=UTC) if answer.HasField("expires_at") else None
    sign_in(request.session, answer.token, answer.account, expires)
    return see_other(local_path(next_path, home_path(answer.account.role)))


async def signout(request: Request) -> Response:
    """Revoke the token at the collector (AccountService.Logout), then forget it here."""
    if current_user(request):
        # Already invalid, or the collector is away: the session ends here all the same.
        with contextlib.suppress(SignInRequired, CollectorUnavailable, CollectorFailed):
            await user_api(request).accounts.Logout(accounts_pb2.LogoutRequest())
    sign_out(request.session)
    notice(request, i18n.gettext("You are signed out."))
    return see_other("/signin")


async def reset_request_page(request: Request) -> Response:
    return render(request, "account/reset_request.html", {"error": None, "value": ""})


async def reset_request(request: Request) -> Response:
    async with request.form() as form:
        value = _text(form, "name_or_email", 254)
    wait = _too_many(request)
    if wait or not value:
        error = _wait_error(wait) if wait else FormError(i18n.gettext("Enter your name or e-mail address."))
        return render(request, "account/reset_request.html", {"error": error, "value": value}, status=400)
    try:
        await anonymous_api(request).accounts.RequestPasswordReset(
            accounts_pb2.RequestPasswordResetRequest(name_or_email=value)
        )
    except Refused as refusal:
        error = FormError.from_refusal(refusal)
        return render(request, "account/reset_request.html", {"error": error, "value": value}, status=400)
    return render(request, "account/reset_sent.html")


async def reset_page(request: Request) -> Response:
    """The e-mailed link: /reset?token=..."""
    token = request.query_params.get("token", "")
    return render(request, "account/reset.html", {"error": None, "token": token})


async def reset(request: Request) -> Response:
    async with request.form() as form:
        token, password = _text(form, "token", 512), _text(form, "password", 1024)
        again = _text(form, "password_again", 1024)
    wait = _too_many(request)
    error = None
    if wait:
        error = _wait_error(wait)
    elif password != again:
        error = FormError(i18n.gettext("The two passwords are not the same."))
    else:
        try:
            await anonymous_api(request).accounts.ResetPassword(
                accounts_pb2.ResetPasswordRequest(token=token, password=password)
            )
        except PageNotFound as unknown:  # PERMISSION_DENIED: unknown, used or expired link
            error = FormError(i18n.gettext("This reset link is not valid any more:"), str(unknown))
        except Refused as refusal:
            error = FormError.from_refusal(refusal)
    if error:
        return render(request, "account/reset.html", {"error": error, "token": token}, status=400)
    notice(request, i18n.gettext("Your password is changed. Sign in with the new one."))
    return see_other("/signin")


async def signup_open(request: Request) -> bool:
    """Whether the collector takes self sign-ups. Probed with an empty SignUp (FAILED_PRECONDITION: off;
    anything else, e.g. INVALID_ARGUMENT for the empty name: on), remembered for SIGNUP_PROBE_S."""
    state = request.app.state
    known = getattr(state, "signup_probe", None)
    if known and known[1] > time.monotonic():
        return bool(known[0])
    try:
        await anonymous_api(request).accounts.SignUp(accounts_pb2.SignUpRequest())
        is_open = True
    except Refused as refusal:
        is_open = refusal.code != "FAILED_PRECONDITION"
    except PortalError:  # unreachable, or a collector without AccountService: no sign-up link
        is_open = False
    state.signup_probe = (is_open, time.monotonic() + SIGNUP_PROBE_S)
    return is_open


def _signup_context(
    form: Mapping[str, Any] | None = None, error: FormError | None = None
) -> dict[str, object]:
    keep = ("name", "display_name", "email")
    return {"error": error, **{k: (_text(form, k) if form is not None else "") for k in keep}}


async def signup_page(request: Request) -> Response:
    if not await signup_open(request):
        raise PageNotFound(request.url.path)
    return render(request, "account/signup.html", _signup_context())


async def signup(request: Request) -> Response:
    async with request.form() as form:
        fields = {k: _text(form, k) for k in ("name", "display_name", "email", "password", "password_again")}
    wait = _too_many(request)
    error = None
    if wait:
        error = _wait_error(wait)
    elif fields["password"] != fields["password_again"]:
        error = FormError(i18n.gettext("The two passwords are not the same."))
    else:
        try:
            answer = await anonymous_api(request).accounts.SignUp(
                accounts_pb2.SignUpRequest(
                    name=fields["name"],
                    password=fields["password"],
                    display_name=fields["display_name"],
                    email=fields["email"],
                    locale=i18n.current().html_lang,
                )
            )
        except Refused as refusal:
            error = FormError.from_refusal(refusal)
    if error:
        return render(request, "account/signup.html", _signup_context(fields, error), status=400)
    expires = answer.expires_at.ToDatetime(tzinfo=UTC) if answer.HasField("expires_at") else None
    sign_in(request.session, answer.token, answer.account, expires)
    return see_other(home_path(answer.account.role))


async def language(request: Request) -> Response:
    """Switch the language; remembered in the browser for a year (the `lang` cookie)."""
    async with request.form() as form:
        chosen, next_path = _text(form, "language", 10), _text(form, "next", 2000)
    response = see_other(local_path(next_path, "/"))
    if chosen in i18n.LANGUAGES:
        secure = request.app.state.settings.secure_cookies
        response.set_cookie(
            LANGUAGE_COOKIE, chosen, max_age=365 * 86400, httponly=True, samesite="lax", secure=secure
        )
    return response


ROUTES = [
    Route("/signin", signin_page, methods=["GET"]),
    Route("/signin", signin, methods=["POST"]),
    Route("/signout", signout, methods=["POST"]),
    Route("/reset/request", reset_request_page, methods=["GET"]),
    Route("/reset/request", reset_request, methods=["POST"]),
    Route("/reset", reset_page, methods=["GET"]),
    Route("/reset", reset, methods=["POST"]),
    Route("/signup", signup_page, methods=["GET"]),
    Route("/signup", signup, methods=["POST"]),
    Route("/language", language, methods=["POST"]),
]
