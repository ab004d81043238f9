"""The renter's disputes: a line of an invoice disputed from the invoice's page (POST
/invoices/{number}/disputes: DisputeService.OpenDispute, then /disputes), the list of disputes with what
the evidence re-rates the line to and how the provider resolved it (/disputes), and each dispute's evidence
bundle to keep and check offline (/disputes/{id}/evidence: `rentmeter verify-evidence FILE`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.auth import User, requires, user_api
from portal.errors import Refused
from portal.pages.invoices import attachment
from portal.pages.renter.my_invoices import invoice_page
from portal.web import FormError, form_fields, render, see_other
from protos.rentmeter.v1 import disputes_pb2


@requires("renter")
async def dispute_list(request: Request, user: User) -> Response:
    answer = await user_api(request).disputes.ListDisputes(disputes_pb2.ListDisputesRequest())
    opened = request.query_params.get("opened", "")
    return render(request, "renter/disputes.html", {"disputes": answer.disputes, "opened": opened})


@requires("renter")
async def open_dispute(request: Request, user: User) -> Response:
    """Dispute one line; a refusal (window over, already disputed, no reason) shows on the invoice."""
    fields = await form_fields(request, ("line", "reason"), limit=1000)
    invoice_id = request.path_params["invoice_id"]
    if not fields["line"].isdigit():
        return await invoice_page(request, FormError(_invalid_line()))
    ask = disputes_pb2.OpenDisputeRequest(
        invoice_id=invoice_id, line=int(fields["line"]), reason=fields["reason"]
    )
    try:
        dispute = await user_api(request).disputes.OpenDispute(ask)
    except Refused as refusal:
        return await invoice_page(request, FormError.from_refusal(refusal))
    return see_other(f"/disputes?opened={dispute.dispute_id}")


def _invalid_line() -> str:
    return i18n.gettext("Choose a line of the invoice to dispute.")


@requires("renter")
async def evidence(request: Request, user: User) -> Response:
    ask = disputes_pb2.GetDisputeRequest(dispute_id=request.path_params["dispute_id"], with_evidence=True)
    dispute = await user_api(request).disputes.GetDispute(ask)
    headers = {"content-disposition": attachment(dispute.evidence_filename)}
    return Response(dispute.evidence, media_type="application/json", headers=headers)


ROUTES = [
    Route("/disputes", dispute_list, methods=["GET"]),
    Route("/disputes/{dispute_id}/evidence", evidence, methods=["GET"]),
    Route("/invoices/{invoice_id}/disputes", open_dispute, methods=["POST"]),
]
