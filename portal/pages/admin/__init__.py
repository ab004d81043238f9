"""The provider's pages (admin role): fleet, sessions, renters and wallets, plans, invoices, disputes,
payments, alerts, audit, accounts, insights. One module per page group."""

from __future__ import annotations

from starlette.routing import BaseRoute

from portal.pages.admin import (
    accounts,
    alerts,
    audit,
    disputes,
    fleet,
    insights,
    invoicing,
    payments,
    plans,
    reconciliation,
    renters,
    sessions,
)

ROUTES: list[BaseRoute] = [
    *fleet.ROUTES,
    *sessions.ROUTES,
    *renters.ROUTES,
    *plans.ROUTES,
    *invoicing.ROUTES,
    *disputes.ROUTES,
    *payments.ROUTES,
    *reconciliation.ROUTES,
    *alerts.ROUTES,
    *audit.ROUTES,
    *accounts.ROUTES,
    *insights.ROUTES,
]
