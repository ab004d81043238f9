"""The menu of each role: what base.html shows at the top of every page for the signed-in user.

Add a page to a menu here (label marked with N_ for the catalogs); its route goes in its pages/ module.
Entries whose page is not built yet answer 404 until it is (README: Development, the portal's to-do list).
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.i18n import N_


@dataclass(frozen=True)
class NavItem:
    label: str  # an N_() msgid, translated where it is shown
    path: str


MENUS: dict[str, tuple[NavItem, ...]] = {
    "renter": (
        NavItem(N_("My rental"), "/rental"),
        NavItem(N_("Rentals"), "/rentals"),
        NavItem(N_("Invoices"), "/invoices"),
        NavItem(N_("Disputes"), "/disputes"),
        NavItem(N_("Wallet"), "/wallet"),
        NavItem(N_("Prices"), "/prices"),
        NavItem(N_("Insights"), "/insights"),
    ),
    "host": (
        NavItem(N_("Machines"), "/host/machines"),
        NavItem(N_("Earnings"), "/host/earnings"),
        NavItem(N_("Enrollment"), "/host/enrollment"),
    ),
    "admin": (
        NavItem(N_("Fleet"), "/admin/fleet"),
        NavItem(N_("Sessions"), "/admin/sessions"),
        NavItem(N_("Renters"), "/admin/renters"),
        NavItem(N_("Plans"), "/admin/plans"),
        NavItem(N_("Invoices"), "/admin/invoices"),
        NavItem(N_("Disputes"), "/admin/disputes"),
        NavItem(N_("Payments"), "/admin/payments"),
        NavItem(N_("Reconciliation"), "/admin/reconciliation"),
        NavItem(N_("Alerts"), "/admin/alerts"),
        NavItem(N_("Audit"), "/admin/audit"),
        NavItem(N_("Accounts"), "/admin/accounts"),
        NavItem(N_("Insights"), "/admin/insights"),
    ),
}


def home_path(role: str) -> str:
    """Where a role lands after sign-in: the first entry of its menu."""
    return MENUS[role][0].path


def menu(role: str | None, current_path: str) -> list[tuple[NavItem, bool]]:
    """The role's entries, each with whether it is the page being shown (or a page under it)."""
    items = MENUS.get(role or "", ())
    return [(item, current_path == item.path or current_path.startswith(item.path + "/")) for item in items]
