"""The portal as an ASGI application: create_app(settings).

Middleware, outermost first: security headers, the session cookie, the viewer (language, time zone), the
500 page, CSRF; then Starlette's exception handlers (portal/web.py) and the routes of portal/pages/.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from portal import notifications, web
from portal.api import CollectorLink
from portal.pages import ROUTES
from portal.security import CsrfMiddleware, SecurityHeadersMiddleware, SignInLimiter
from portal.session_cookie import SessionCookieMiddleware
from portal.settings import PortalSettings

STATIC = Path(__file__).resolve().parent / "static"


def create_app(settings: PortalSettings) -> Starlette:
    """The application; its lifespan opens and closes the channel to the collector. `app.state` holds
    settings, collector (CollectorLink), limiter (SignInLimiter) and watches (the open WatchSession
    calls, see portal/live.py)."""
    link = CollectorLink(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await link.open()
        try:
            yield
        finally:
            for call in list(app.state.watches):
                call.cancel()
            await link.close()

    app = Starlette(
        routes=[
            *ROUTES,
            *notifications.ROUTES,
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[
            Middleware(SecurityHeadersMiddleware, secure=settings.secure_cookies),
            Middleware(
                SessionCookieMiddleware,
                secret=settings.secret_key,
                secure=settings.secure_cookies,
                max_age_s=settings.session_max_age_s,
            ),
            Middleware(web.ViewerMiddleware),
            Middleware(web.ErrorPageMiddleware),
            Middleware(CsrfMiddleware, refuse=web.csrf_refused, exempt=notifications.PATHS),
        ],
        exception_handlers=web.EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.collector = link
    app.state.limiter = SignInLimiter(settings.signin_attempts, settings.signin_window_s)
    app.state.watches = set()
    return app
