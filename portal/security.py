"""What protects every page: security headers on every response, a CSRF token on every state-changing
request, and a limit on sign-in attempts per client address.

CSRF: each browser session holds a random token (csrf_token()); every form carries it in a hidden field
`csrf_token` (templates: `{{ csrf_field() }}`) and htmx sends it as the `X-CSRF-Token` header (base.html
puts it in hx-headers). CsrfMiddleware refuses any POST, PUT, PATCH or DELETE without the right one with
403, before a route sees it, so a new route cannot forget it.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
# A form larger than this is refused (413) before it is read: plan files and forms are far smaller.
MAX_FORM_BYTES = 1 << 20

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)


def security_headers(secure: bool) -> list[tuple[str, str]]:
    headers = [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),  # a reset link's token never leaves in a Referer
        ("x-frame-options", "DENY"),
        ("cross-origin-opener-policy", "same-origin"),
        ("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()"),
    ]
    if secure:
        headers.append(("strict-transport-security", "max-age=31536000"))
    return headers


class SecurityHeadersMiddleware:
    """Adds security_headers() to every response; pages are `no-store` (a café's next customer pressing
    Back sees nothing of the previous one's), static files may be cached."""

    def __init__(self, app: ASGIApp, *, secure: bool, static_prefix: str = "/static/") -> None:
        self.app = app
        self.headers = security_headers(secure)
        self.static_prefix = static_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith(self.static_prefix)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers:
                    headers[name] = value
                headers["cache-control"] = "public, max-age=3600" if static else "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def csrf_token(session: dict[str, object]) -> str:
    """The session's CSRF token, made on first use."""
    token = session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


Refusal = Callable[[Request, int], Awaitable[Response]]


class CsrfMiddleware:
    """Refuses a state-changing request whose CSRF token (header or form field) is not the session's.

    `refuse(request, status)` makes the page: 403 for a missing or wrong token, 413 for a body over
    MAX_FORM_BYTES. The body read here is handed on unchanged to the route."""

    def __init__(self, app: ASGIApp, *, refuse: Refusal, exempt: frozenset[str] = frozenset()) -> None:
        """`exempt`: exact paths that take no CSRF token (the payment gateways' notifications, which come
        from the gateways' servers, not a browser, and are verified by their signatures instead)."""
        self.app = app
        self.refuse = refuse
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        expected = scope.get("session", {}).get("csrf")
        submitted = request.headers.get(CSRF_HEADER)
        body, too_large = await _read_body(receive)
        if too_large:
            await (await self.refuse(request, 413))(scope, receive, send)
            return
        if submitted is None:
            submitted = await _form_field(scope, body)
        if not (expected and submitted and secrets.compare_digest(str(expected), submitted)):
            await (await self.refuse(request, 403))(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"", False
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), False


async def _form_field(scope: Scope, body: bytes) -> str | None:
    """The csrf_token field of an urlencoded or multipart body."""
    content_type = dict(scope["headers"]).get(b"content-type", b"").decode("latin-1")
    if content_type.startswith("application/x-www-form-urlencoded"):
        values = parse_qs(body.decode("utf-8", "replace")).get(CSRF_FIELD)
        return values[0] if values else None
    if content_type.startswith("multipart/form-data"):
        async with Request(scope, _replay(body, None)).form() as form:
            value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def _replay(body: bytes, receive: Receive | None) -> Receive:
    """A `receive` that gives `body` once, then waits on the real one (for the client's disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if receive is None:
            return {"type": "http.disconnect"}
        return await receive()

    return replay


class SignInLimiter:
    """At most `attempts` sign-in (and reset, sign-up) posts per client address in a sliding window of
    `window_s` seconds. In memory, per portal process: each portal limits its own clients; the collector
    also locks an account after repeated failures, whichever portal they come through."""

    def __init__(self, attempts: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}

    def retry_after(self, address: str) -> float:
        """0 when `address` may try now (and counts the attempt), else the seconds until it may."""
        now = self.clock()
        seen = self._seen.setdefault(address, deque())
        while seen and seen[0] <= now - self.window_s:
            seen.popleft()
        if len(seen) >= self.attempts:
            return seen[0] + self.window_s - now
        seen.append(now)
        if len(self._seen) > 10_000:  # forget idle addresses so that memory stays bounded
            self._seen = {a: s for a, s in self._seen.items() if s and s[-1] > now - self.window_s}
        return 0.0
