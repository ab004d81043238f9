"""Who is signed in: the collector's token and account in the session cookie, and the API as that user.

    @requires("renter")                      # 302 to sign-in when nobody is; 404 for another role
    async def my_page(request: Request, user: User) -> Response:
        api = user_api(request)              # every call with user.token
        ...

sign_in() is the one way into a session: the Login page calls it with AccountService.Login's answer (and
tests call it with an API token made in their database, until they sign in through that page).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from portal.api import Api, CollectorLink
from portal.errors import PageNotFound, SignInRequired
from portal.security import csrf_token
from protos.rentmeter.v1 import accounts_pb2

ROLES = ("renter", "host", "admin")


@dataclass(frozen=True)
class User:
    name: str
    role: str  # renter, host or admin
    subject: str  # the renter id or host account ("" for admins)
    display_name: str
    locale: str  # "" = the browser's
    time_zone: str  # "" = the browser's
    token: str
    expires_at: float  # POSIX seconds; 0 = the collector did not say

    @property
    def shown_name(self) -> str:
        return self.display_name or self.name


def signed_in_state(token: str, account: accounts_pb2.Account, expires_at: datetime | None) -> dict[str, Any]:
    """What the session holds for a signed-in user (a fresh CSRF token is added by sign_in)."""
    return {
        "user": {
            "name": account.name,
            "role": account.role,
            "subject": account.subject,
            "display_name": account.display_name,
            "locale": account.locale,
            "time_zone": account.time_zone,
            "token": token,
            "expires_at": expires_at.timestamp() if expires_at else 0.0,
        }
    }


def sign_in(
    session: dict[str, Any], token: str, account: accounts_pb2.Account, expires_at: datetime | None
) -> None:
    """Start a new session for `account`: the old one (and its CSRF token) is dropped, so a session id
    planted before sign-in is worth nothing after it."""
    session.clear()
    session.update(signed_in_state(token, account, expires_at))
    csrf_token(session)


def sign_out(session: dict[str, Any]) -> None:
    session.clear()


def current_user(request: Request) -> User | None:
    """The signed-in user, or None (also when the token's time is up)."""
    stored = request.session.get("user")
    if not isinstance(stored, dict):
        return None
    try:
        user = User(**stored)
    except TypeError:  # a session from another version of the portal
        return None
    if user.role not in ROLES:
        return None
    if user.expires_at and user.expires_at <= datetime.now(UTC).timestamp():
        return None
    return user


def collector_link(request: Request) -> CollectorLink:
    link: CollectorLink = request.app.state.collector
    return link


def user_api(request: Request) -> Api:
    """The collector's API as the signed-in user; SignInRequired when nobody is."""
    user = current_user(request)
    if user is None:
        raise SignInRequired("sign in first")
    return collector_link(request).as_user(user.token)


def anonymous_api(request: Request) -> Api:
    """The collector's API without a token: sign-in, password resets, sign-up."""
    return collector_link(request).as_user("")


Endpoint = Callable[[Request], Awaitable[Response]]
UserEndpoint = Callable[[Request, User], Awaitable[Response]]


def requires(*roles: str) -> Callable[[UserEndpoint], Endpoint]:
    """Only for signed-in users of `roles`: others are sent to sign in, other roles get 404 (a page that
    is not theirs is as absent as one that does not exist)."""

    def decorate(endpoint: UserEndpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            user = current_user(request)
            if user is None:
                raise SignInRequired("sign in first")
            if user.role not in roles:
                raise PageNotFound(request.url.path)
            return await endpoint(request, user)

        return guarded

    return decorate


def refresh_account(session: dict[str, Any], account: accounts_pb2.Account) -> None:
    """Keep the signed-in user's name, language and time zone as the collector now has them (after the
    person changed them), without a new sign-in."""
    stored = session.get("user")
    if isinstance(stored, dict):
        profile = {
            "display_name": account.display_name,
            "locale": account.locale,
            "time_zone": account.time_zone,
        }
        session["user"] = {**stored, **profile}
