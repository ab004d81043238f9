"""The provider's pages (admin role): fleet, sessions, renters and wallets, plans, invoices, payments, alerts,
audit, accounts. One module per page group."""

from __future__ import annotations

from starlette.routing import BaseRoute

ROUTES: list[BaseRoute] = []
