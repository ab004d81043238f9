"""Enrollment: the host makes a one-time token (MachineService.CreateEnrollmentToken with the host's token, so
that the machine enrolled with it is the host's) and gets the command that installs the agent with it.

GET `/host/enrollment` shows the form (machine class, label, how long the token may be used); POST makes the
token and shows it once, in the install command, with the collector address the agents dial (the setting
`agent_collector`, default the portal's collector). The page is not stored anywhere: the collector keeps only
the token's hash, and pages are `Cache-Control: no-store`.
"""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.auth import User, requires, user_api
from portal.errors import Refused
from portal.i18n import N_
from portal.pages.host.view import duration
from portal.settings import PortalSettings
from portal.web import FormError, form_fields, render
from protos.rentmeter.v1 import machines_pb2

# How long a token may be used: the choices offered (the collector allows up to 30 days).
VALIDITIES = {
    "1h": (timedelta(hours=1), N_("1 hour")),
    "24h": (timedelta(hours=24), N_("24 hours")),
    "7d": (timedelta(days=7), N_("7 days")),
    "30d": (timedelta(days=30), N_("30 days")),
}
DEFAULT_VALIDITY = "24h"
DEFAULT_CLASS = "standard"
# Where the agent's TLS trust anchor goes on the machine when the collector serves TLS (README: "Running
# collector and agents on separate machines").
CA_ON_MACHINE = "/etc/rentmeter/ca.pem"


def install_commands(settings: PortalSettings, token: str) -> dict[str, str]:
    """The README's commands for a machine: install as a service (Linux, systemd), or run in the
    foreground; with `--tls-ca` when the portal itself reaches the collector over TLS."""
    tls = f" --tls-ca {CA_ON_MACHINE}" if settings.tls is not None else ""
    dial = f"--collector {settings.agents_dial} --token {token}{tls}"
    return {"install": f"sudo rentmeter agent install {dial}", "run": f"rentmeter agent run {dial}"}


async def _form_values(request: Request) -> dict[str, str]:
    """The form's values; an empty class is the default, an unknown validity the default."""
    values = await form_fields(request, ("machine_class", "label", "validity"), limit=200)
    values["machine_class"] = values["machine_class"] or DEFAULT_CLASS  # the collector says what is too long
    values["validity"] = values["validity"] if values["validity"] in VALIDITIES else DEFAULT_VALIDITY
    return values


async def _form_page(
    request: Request, values: dict[str, str], error: FormError | None = None, status: int = 200
) -> Response:
    machines = (await user_api(request).machines.ListMachines(machines_pb2.ListMachinesRequest())).machines
    context = {
        "values": values,
        "validities": {key: label for key, (_, label) in VALIDITIES.items()},
        "classes": sorted({DEFAULT_CLASS, *(m.machine_class for m in machines)}),
        "error": error,
    }
    return render(request, "host/enrollment.html", context, status=status)


@requires("host")
async def enrollment_page(request: Request, user: User) -> Response:
    values = {"machine_class": DEFAULT_CLASS, "label": "", "validity": DEFAULT_VALIDITY}
    return await _form_page(request, values)


@requires("host")
async def create_token(request: Request, user: User) -> Response:
    values = await _form_values(request)
    creating = machines_pb2.CreateEnrollmentTokenRequest(
        machine_class=values["machine_class"],
        label=values["label"],
        ttl=duration(VALIDITIES[values["validity"]][0]),
    )
    try:
        made = await user_api(request).machines.CreateEnrollmentToken(creating)
    except Refused as refusal:  # e.g. a machine class the collector does not accept
        return await _form_page(request, values, FormError.from_refusal(refusal), status=400)
    context = {
        "token": made,
        "values": values,
        "commands": install_commands(request.app.state.settings, made.token),
        "copied": i18n.gettext("Copied"),
    }
    return render(request, "host/enrollment_token.html", context)


ROUTES = [
    Route("/host/enrollment", enrollment_page, methods=["GET"]),
    Route("/host/enrollment", create_token, methods=["POST"]),
]
