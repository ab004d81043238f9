"""The renter's pages: My rental (live), rentals, invoices, wallet, prices, insights. One module per page
group."""

from __future__ import annotations

from starlette.routing import BaseRoute

from portal.pages.renter import (
    autopay,
    disputes,
    insights,
    my_invoices,
    prices,
    qr_pay,
    rental,
    rentals,
    wallet,
)

ROUTES: list[BaseRoute] = [
    *rental.ROUTES, *rentals.ROUTES, *my_invoices.ROUTES, *wallet.ROUTES, *prices.ROUTES, *qr_pay.ROUTES,
    *insights.ROUTES, *autopay.ROUTES, *disputes.ROUTES,
]  # fmt: skip
