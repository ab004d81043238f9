"""The host's pages: its machines, earnings, enrollment tokens. One module per page group."""

from __future__ import annotations

from starlette.routing import BaseRoute

ROUTES: list[BaseRoute] = []
