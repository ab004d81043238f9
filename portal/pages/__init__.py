"""The portal's pages, one module per area; each module lists its routes in ROUTES.

To add a page: a route in the area's module (or a new module listed here), a template under templates/,
its strings through `_()`, a test in tests/portal/ and a screenshot in tests/portal/test_browser.py
(README: Development, "Adding a portal page").
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from portal.pages import account, home, invoices, rental

ROUTES: list[BaseRoute] = [*home.ROUTES, *account.ROUTES, *rental.ROUTES, *invoices.ROUTES]
