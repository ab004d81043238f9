"""The portal's pages: the pages anyone signed in (or nobody) sees here, each role's in its package
(renter/, host/, admin/); each module lists its routes in ROUTES.

To add a page: a route in the area's module (or a new module listed in its package), a template under
templates/AREA/, its strings through `_()`, a test in tests/portal/ and a screenshot in a browser test
(README: Development, "Adding a portal page").
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from portal.pages import account, admin, home, host, invoices, my_account, renter

ROUTES: list[BaseRoute] = [
    *home.ROUTES, *account.ROUTES, *invoices.ROUTES, *renter.ROUTES, *host.ROUTES, *admin.ROUTES,
    *my_account.ROUTES,
]  # fmt: skip
