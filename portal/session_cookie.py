"""The browser session: a JSON dict in one cookie, signed (itsdangerous, with a time stamp) so that it cannot
be forged or changed, HttpOnly so that no script reads the collector token in it, SameSite=Lax, Secure and
`__Host-` prefixed when the portal is reached over HTTPS. Starlette's `request.session` is this dict.

It holds the signed-in user (portal/auth.py), the CSRF token (portal/security.py) and one-time notices.
"""

from __future__ import annotations

import json
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SALT = "rentmeter.portal.session"


def cookie_name(secure: bool) -> str:
    # `__Host-`: browsers accept it only with Secure, Path=/ and no Domain, so no sub-domain can set it.
    return "__Host-rentmeter" if secure else "rentmeter"


def encode_session(secret: str, data: dict[str, Any]) -> str:
    """The cookie value for `data` (tests use it to hold a session the portal made)."""
    return URLSafeTimedSerializer(secret, salt=SALT).dumps(data)


def decode_session(secret: str, value: str, max_age_s: int) -> dict[str, Any]:
    """The dict in a cookie value; empty when the signature is wrong or older than `max_age_s`."""
    try:
        data = URLSafeTimedSerializer(secret, salt=SALT).loads(value, max_age=max_age_s)
    except BadSignature:  # also SignatureExpired
        return {}
    return data if isinstance(data, dict) else {}


class SessionCookieMiddleware:
    def __init__(self, app: ASGIApp, *, secret: str, secure: bool, max_age_s: int) -> None:
        self.app = app
        self.secret = secret
        self.secure = secure
        self.max_age_s = max_age_s
        self.name = cookie_name(secure)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        value = HTTPConnection(scope).cookies.get(self.name, "")
        scope["session"] = decode_session(self.secret, value, self.max_age_s) if value else {}
        before = json.dumps(scope["session"], sort_keys=True)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                after = json.dumps(scope["session"], sort_keys=True)
                if after != before:
                    MutableHeaders(scope=message).append("set-cookie", self._cookie(scope["session"]))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie(self, session: dict[str, Any]) -> str:
        flags = "Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if self.secure else "")
        if not session:
            return f"{self.name}=; Max-Age=0; {flags}"
        return f"{self.name}={encode_session(self.secret, session)}; Max-Age={self.max_age_s}; {flags}"
