"""Pages: templates and how they are rendered, the viewer of each request, and the pages for errors.

    return render(request, "rental.html", {"rentals": rentals})      # 200, the layout of base.html
    return see_other("/rental")                                       # after a POST: 303 to a GET

Every page gets: `user` (or None), `menu`, `viewer`, `languages`, `notices`, `path`, `csrf_token`; the
globals `csrf_field()`, `RENTAL_OPEN` and `qr_svg()`; the filters `money`, `rate`, `datetime`, `time`,
`duration`, `microseconds`, `unit_price`, `data_size`; `_()` and `ngettext()`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal import i18n
from portal.auth import current_user, sign_out
from portal.errors import CollectorFailed, CollectorUnavailable, PageNotFound, Refused, SignInRequired
from portal.navigation import menu
from portal.qr import qr_svg
from portal.security import CSRF_FIELD, csrf_token
from protos.rentmeter.v1 import sessions_pb2

logger = logging.getLogger(__name__)

LANGUAGE_COOKIE = "lang"
TIME_ZONE_COOKIE = "tz"
NOTICES = "notices"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("portal", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The i18n extension adds this method to the environment; jinja2's types do not know it.
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        money=i18n.format_money,
        rate=i18n.format_rate,
        datetime=i18n.format_datetime,
        time=i18n.format_time,
        duration=i18n.format_duration,
        microseconds=i18n.microseconds,
    )
    env.filters.update(unit_price=i18n.format_unit_price, data_size=i18n.format_bytes)
    env.globals["csrf_field"] = csrf_field
    env.globals["RENTAL_OPEN"] = sessions_pb2.RentalSession.OPEN
    env.globals["qr_svg"] = qr_svg
    return env


@jinja2.pass_context
def csrf_field(context: jinja2.runtime.Context) -> Markup:
    """The hidden field every POST form needs (CsrfMiddleware refuses the form without it)."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, context["csrf_token"])


templates = Jinja2Templates(env=_environment())


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    """`template` with the page's context and the layout's (see the module's docstring)."""
    user = current_user(request)
    page = {
        "user": user,
        "menu": menu(user.role if user else None, request.url.path),
        "viewer": i18n.current(),
        "languages": i18n.LANGUAGES,
        "notices": request.session.pop(NOTICES, []),
        "path": request.url.path,
        "csrf_token": csrf_token(request.session),
        **(context or {}),
    }
    return templates.TemplateResponse(request, template, page, status_code=status, headers=headers)


def notice(request: Request, text: str) -> None:
    """A one-line notice shown at the top of the next page rendered (e.g. after a redirect)."""
    request.session[NOTICES] = [*request.session.get(NOTICES, []), text]


def see_other(path: str) -> RedirectResponse:
    """After a POST: the browser GETs `path` (303), so reloading does not post again."""
    return RedirectResponse(path, status_code=303)


def local_path(value: str | None, default: str) -> str:
    """`value` when it is a path on this site (for ?next=), else `default`: never another site."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class ViewerMiddleware:
    """Sets the request's viewer (i18n.viewer_for): language, formats and time zone."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        user = scope.get("session", {}).get("user") or {}
        viewer = i18n.viewer_for(
            chosen=connection.cookies.get(LANGUAGE_COOKIE, ""),
            account_locale=str(user.get("locale", "")),
            accept_language=connection.headers.get("accept-language", ""),
            time_zones=(str(user.get("time_zone", "")), connection.cookies.get(TIME_ZONE_COOKIE, "")),
        )
        token = i18n.use(viewer)
        try:
            await self.app(scope, receive, send)
        finally:
            i18n.reset(token)


class ErrorPageMiddleware:
    """A bug anywhere below becomes the 500 page with an error id (the traceback is logged with it, never
    shown), inside the security headers and in the viewer's language."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            error_id = secrets.token_hex(4)
            logger.exception("error %s serving %s %s", error_id, scope["method"], scope["path"])
            if started:
                raise
            response = render(Request(scope), "errors/500.html", {"error_id": error_id}, status=500)
            await response(scope, receive, send)


async def not_found(request: Request, exc: Exception) -> Response:
    return render(request, "errors/404.html", status=404)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return await not_found(request, exc)
    return render(request, "errors/status.html", {"status": exc.status_code}, status=exc.status_code)


async def sign_in_required(request: Request, exc: Exception) -> Response:
    """To the sign-in page, coming back here after it (htmx: the whole page goes there)."""
    had_user = "user" in request.session
    sign_out(request.session)
    if had_user:
        notice(request, i18n.gettext("Your session has ended. Please sign in again."))
    target = "/signin" + (f"?next={quote(request.url.path)}" if request.method == "GET" else "")
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return see_other(target)


async def unavailable(request: Request, exc: Exception) -> Response:
    return render(request, "errors/503.html", status=503, headers={"Retry-After": "10"})


async def refused(request: Request, exc: Exception) -> Response:
    """A refusal no form caught: the collector's sentence on a page of its own."""
    assert isinstance(exc, Refused)
    return render(request, "errors/refused.html", {"error": exc}, status=409)


async def collector_failed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CollectorFailed)
    return render(request, "errors/502.html", {"code": exc.code}, status=502)


async def csrf_refused(request: Request, status: int) -> Response:
    """CsrfMiddleware's refusal: 403 for a missing or wrong token, 413 for a body too large."""
    return render(request, "errors/forbidden.html", {"status": status}, status=status)


EXCEPTION_HANDLERS = {
    HTTPException: http_error,
    PageNotFound: not_found,
    SignInRequired: sign_in_required,
    CollectorUnavailable: unavailable,
    Refused: refused,
    CollectorFailed: collector_failed,
}


# Longest text kept from an ordinary form field (plan documents and passwords have their own limits).
FIELD_LIMIT = 500


async def form_fields(request: Request, names: Iterable[str], limit: int = FIELD_LIMIT) -> dict[str, str]:
    """The form's text fields `names`, stripped and cut to `limit` characters ("" when absent or a file)."""
    async with request.form() as form:
        values = {name: form.get(name, "") for name in names}
    return {name: v.strip()[:limit] if isinstance(v, str) else "" for name, v in values.items()}


class FormError:
    """What a form shows when it is refused: a translated frame and, when the collector said why, its
    sentence as it said it (the collector speaks English)."""

    def __init__(self, frame: str, sentence: str = "") -> None:
        self.frame = frame
        self.sentence = sentence

    @classmethod
    def from_refusal(cls, refusal: Exception) -> FormError:
        return cls(i18n.gettext("The request was refused:"), str(refusal))
