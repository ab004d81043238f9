"""`/`: each role's first page, or the sign-in page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.auth import current_user
from portal.navigation import home_path


async def home(request: Request) -> Response:
    user = current_user(request)
    return RedirectResponse(home_path(user.role) if user else "/signin", status_code=303)


ROUTES = [Route("/", home)]
