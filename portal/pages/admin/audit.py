"""Audit: the audit log, newest first, a page at a time (AuditService.ListAuditEntries; filtered by actor and
action), and checking its hash chain (VerifyAuditLog: a read, so a GET that shows the verdict).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth import User, requires, user_api
from portal.web import render
from protos.rentmeter.v1 import audit_pb2

PAGE = 50


def _whole_number(text: str) -> int:
    return int(text) if text.isdigit() and len(text) < 20 else 0


@requires("admin")
async def audit(request: Request, user: User) -> Response:
    return await _audit_page(request)


async def _audit_page(request: Request, verdict: audit_pb2.AuditVerification | None = None) -> Response:
    query = request.query_params
    filters = {"actor": query.get("actor", "").strip()[:200], "action": query.get("action", "").strip()[:200]}
    before = _whole_number(query.get("before", ""))
    listed = await user_api(request).audit.ListAuditEntries(
        audit_pb2.ListAuditEntriesRequest(before_id=before, limit=PAGE, **filters)
    )
    entries = list(listed.entries)
    context = {
        "entries": entries,
        "filters": filters,
        "older": entries[-1].id if len(entries) == PAGE else 0,
        "paged": before > 0,
        "verdict": verdict,
    }
    return render(request, "admin/audit.html", context)


@requires("admin")
async def verify(request: Request, user: User) -> Response:
    verdict = await user_api(request).audit.VerifyAuditLog(audit_pb2.VerifyAuditLogRequest())
    return await _audit_page(request, verdict)


ROUTES = [
    Route("/admin/audit", audit, methods=["GET"]),
    Route("/admin/audit/verify", verify, methods=["GET"]),
]
