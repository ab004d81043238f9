"""Account settings (/settings), for every role: display name, language and time zone
(AccountService.UpdateAccount, the caller's own account), and a new password (ChangePassword, giving the
current one). A new password ends every sign-in of the account, this one too: the portal signs in again
with it, so the person stays signed in here while other devices are signed out."""

from __future__ import annotations

from datetime import UTC
from functools import cache
from zoneinfo import available_timezones

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.auth import ROLES, User, anonymous_api, refresh_account, requires, sign_in, user_api
from portal.errors import Refused, SignInRequired
from portal.web import LANGUAGE_COOKIE, FormError, notice, render, see_other
from protos.rentmeter.v1 import accounts_pb2

# The account's language as the collector keeps it ("" = the browser's) -> the portal's language.
LOCALES = {"en": "en", "zh-CN": "zh_CN"}


@cache
def time_zones() -> list[str]:
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))


@requires(*ROLES)
async def settings_page(request: Request, user: User) -> Response:
    return await _settings_page(request)


async def _settings_page(
    request: Request, profile_error: FormError | None = None, password_error: FormError | None = None
) -> Response:
    account = await user_api(request).accounts.WhoAmI(accounts_pb2.WhoAmIRequest())
    context = {
        "account": account,
        "locales": {code: i18n.LANGUAGES[language] for code, language in LOCALES.items()},
        "time_zones": time_zones(),
        "profile_error": profile_error,
        "password_error": password_error,
    }
    return render(
        request, "account/settings.html", context, status=409 if profile_error or password_error else 200
    )


@requires(*ROLES)
async def save_profile(request: Request, user: User) -> Response:
    async with request.form() as form:
        display_name, locale, time_zone = (
            str(form.get(name, "")).strip()[:200] for name in ("display_name", "locale", "time_zone")
        )
    update = accounts_pb2.UpdateAccountRequest(
        name=user.name, display_name=display_name, locale=locale, time_zone=time_zone
    )
    try:
        account = await user_api(request).accounts.UpdateAccount(update)
    except Refused as refusal:  # an unknown time zone or language, a name too long
        return await _settings_page(request, profile_error=FormError.from_refusal(refusal))
    refresh_account(request.session, account)
    chosen = i18n.viewer_for(
        chosen=LOCALES.get(account.locale, ""), accept_language=request.headers.get("accept-language", "")
    )
    language = i18n.use(chosen)  # the notice in the language the next page is in
    try:
        notice(request, i18n.gettext("Your settings are saved."))
    finally:
        i18n.reset(language)
    response = see_other("/settings")
    secure = request.app.state.settings.secure_cookies
    if account.locale in LOCALES:  # the switch's choice would otherwise outrank the account's
        response.set_cookie(
            LANGUAGE_COOKIE, LOCALES[account.locale], max_age=365 * 86400, httponly=True, samesite="lax",
            secure=secure,
        )  # fmt: skip
    else:
        response.delete_cookie(LANGUAGE_COOKIE, httponly=True, samesite="lax", secure=secure)
    return response


@requires(*ROLES)
async def change_password(request: Request, user: User) -> Response:
    async with request.form() as form:
        current, new = (str(form.get(name, ""))[:1024] for name in ("current_password", "new_password"))
    api = user_api(request)
    change = accounts_pb2.ChangePasswordRequest(current_password=current, new_password=new)
    try:
        await api.accounts.ChangePassword(change)
    except Refused as refusal:  # a weak new password
        return await _settings_page(request, password_error=FormError.from_refusal(refusal))
    except SignInRequired as wrong:
        await api.accounts.WhoAmI(accounts_pb2.WhoAmIRequest())  # still signed in? else to sign-in
        error = FormError(i18n.gettext("The password was not changed:"), str(wrong))
        return await _settings_page(request, password_error=error)
    answer = await anonymous_api(request).accounts.Login(
        accounts_pb2.LoginRequest(name=user.name, password=new)
    )
    expires = answer.expires_at.ToDatetime(tzinfo=UTC) if answer.HasField("expires_at") else None
    sign_in(request.session, answer.token, answer.account, expires)
    notice(request, i18n.gettext("Your password is changed. Everywhere else you are signed out."))
    return see_other("/settings")


ROUTES = [
    Route("/settings", settings_page, methods=["GET"]),
    Route("/settings/profile", save_profile, methods=["POST"]),
    Route("/settings/password", change_password, methods=["POST"]),
]
