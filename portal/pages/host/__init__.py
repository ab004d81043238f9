"""The host's pages: its machines, earnings, enrollment tokens. One module per page group."""

from __future__ import annotations

from starlette.routing import BaseRoute

from portal.pages.host import earnings, enrollment, machine, machines

# machines first: its /host/machines/table would otherwise be taken for a machine's id.
ROUTES: list[BaseRoute] = [*machines.ROUTES, *machine.ROUTES, *earnings.ROUTES, *enrollment.ROUTES]
