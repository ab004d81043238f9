"""Invoice documents as downloads: the pattern of a file response.

/invoices/{invoice}/{pdf|html|csv}: InvoiceService.RenderInvoice with the user's token; another renter's
invoice (or a guessed number) is the collector's NOT_FOUND, so a 404 here.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth import ROLES, User, requires, user_api
from portal.errors import PageNotFound
from protos.rentmeter.v1 import invoices_pb2

FORMATS = ("pdf", "html", "csv")


def attachment(filename: str) -> str:
    """A Content-Disposition that saves the file under `filename` (RFC 6266: ASCII fallback + UTF-8)."""
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


@requires(*ROLES)  # who may see which invoice is the collector's decision
async def download(request: Request, user: User) -> Response:
    invoice_id, form = request.path_params["invoice_id"], request.path_params["format"]
    if form not in FORMATS:
        raise PageNotFound(request.url.path)
    document = await user_api(request).invoices.RenderInvoice(
        invoices_pb2.RenderInvoiceRequest(invoice_id=invoice_id, format=form)
    )
    return Response(
        document.content,
        media_type=document.content_type,
        headers={"content-disposition": attachment(document.filename or f"{invoice_id}.{form}")},
    )


ROUTES = [Route("/invoices/{invoice_id}/{format}", download, methods=["GET"])]
