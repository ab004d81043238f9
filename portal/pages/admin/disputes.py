"""Disputes for the provider: the open disputes with the line, its amount, the renter, what the evidence
re-rates it to and the evidence bundle to download; each resolved here by a credit note or a reasoned
rejection (DisputeService.ResolveDispute); the resolved ones below."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.auth import User, requires, user_api
from portal.errors import Refused
from portal.pages.admin.common import form_fields, status_for
from portal.pages.invoices import attachment
from portal.web import FormError, notice, render, see_other
from protos.rentmeter.v1 import disputes_pb2


@requires("admin")
async def dispute_list(request: Request, user: User) -> Response:
    return await _page(request)


async def _page(request: Request, error: FormError | None = None, failed: str = "") -> Response:
    listed = (await user_api(request).disputes.ListDisputes(disputes_pb2.ListDisputesRequest())).disputes
    context = {
        "open": [d for d in listed if d.status == "open"],
        "resolved": [d for d in listed if d.status != "open"],
        "error": error,
        "failed": failed,
    }
    return render(request, "admin/disputes.html", context, status=status_for(error))


@requires("admin")
async def resolve(request: Request, user: User) -> Response:
    """Credit or reject one dispute; a refusal (no reason, an amount beyond the line) shows on the page."""
    dispute_id = request.path_params["dispute_id"]
    fields = await form_fields(request, ("decision", "amount", "reason"), limit=1000)
    ask = disputes_pb2.ResolveDisputeRequest(dispute_id=dispute_id, **fields)
    try:
        await user_api(request).disputes.ResolveDispute(ask)
    except Refused as refusal:
        return await _page(request, FormError.from_refusal(refusal), dispute_id)
    notice(request, i18n.gettext("The dispute %(id)s is resolved.") % {"id": dispute_id})
    return see_other("/admin/disputes")


@requires("admin")
async def evidence(request: Request, user: User) -> Response:
    ask = disputes_pb2.GetDisputeRequest(dispute_id=request.path_params["dispute_id"], with_evidence=True)
    dispute = await user_api(request).disputes.GetDispute(ask)
    headers = {"content-disposition": attachment(dispute.evidence_filename)}
    return Response(dispute.evidence, media_type="application/json", headers=headers)


ROUTES = [
    Route("/admin/disputes", dispute_list, methods=["GET"]),
    Route("/admin/disputes/{dispute_id}/resolve", resolve, methods=["POST"]),
    Route("/admin/disputes/{dispute_id}/evidence", evidence, methods=["GET"]),
]
