"""Alerts: what needs attention now, grouped by kind (FleetService.ListAlerts: offline machines with an open
session, rejected reports by reason, reporting gaps, low prepaid balances, failing jobs), and the scheduled
jobs with their failures (JobService.GetJobStatus).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth import User, requires, user_api
from portal.i18n import N_
from portal.web import render
from protos.rentmeter.v1 import fleet_pb2, jobs_pb2

# Each kind of alert, as the page names it, in the order shown; a kind not listed here comes last as sent.
KINDS = {
    "machine_offline": N_("Offline machines with an open session"),
    "reports_rejected": N_("Rejected reports"),
    "report_gaps": N_("Gaps in the reports"),
    "balance_low": N_("Low prepaid balances"),
    "job_failing": N_("Failing jobs"),
}


def grouped(alerts: list[fleet_pb2.Alert]) -> list[tuple[str, list[fleet_pb2.Alert]]]:
    """The alerts by kind: (kind, alerts), known kinds first in KINDS' order."""
    groups: dict[str, list[fleet_pb2.Alert]] = {}
    for alert in alerts:
        groups.setdefault(alert.kind, []).append(alert)
    order = [*KINDS, *sorted(set(groups) - set(KINDS))]
    return [(kind, groups[kind]) for kind in order if kind in groups]


@requires("admin")
async def alerts(request: Request, user: User) -> Response:
    api = user_api(request)
    listed = (await api.fleet.ListAlerts(fleet_pb2.ListAlertsRequest())).alerts
    jobs = await api.jobs.GetJobStatus(jobs_pb2.GetJobStatusRequest())
    context = {"groups": grouped(list(listed)), "count": len(listed), "kinds": KINDS, "jobs": jobs}
    return render(request, "admin/alerts.html", context)


ROUTES = [Route("/admin/alerts", alerts, methods=["GET"])]
