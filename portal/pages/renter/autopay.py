"""Paying invoices automatically (/wallet/autopay): the renter signs an agreement for Alipay (agreement pay,
商家扣款) or WeChat Pay (entrusted deduction, 委托代扣) to take each invoice, where the collector has them
switched on (PaymentService.ListGateways' agreement_gateways). Signing (PaymentService.StartAgreement)
answers the gateway's signing page: shown as a QR code to scan and as a link to open on a phone; the page
shows each agreement's state (waiting for the signature, active, cancelled) and cancels an active one
(CancelAgreement, ended at the gateway first).

The payment requests the collector sends when nothing is taken automatically link to /pay/{invoice_id}:
opening it (signed in) makes a fresh QR order for the invoice (qr_pay.py), so the link in an old e-mail
still works after any QR code would have expired; a paid invoice goes to its page instead.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.auth import User, requires, user_api
from portal.errors import Refused
from portal.pages.renter import qr_pay
from portal.web import FormError, notice, render, see_other
from protos.rentmeter.v1 import invoices_pb2, payments_pb2


async def _autopay_page(request: Request, user: User, error: FormError | None = None) -> Response:
    api = user_api(request)
    offered = await api.payments.ListGateways(payments_pb2.ListGatewaysRequest())
    listed = await api.payments.ListAgreements(payments_pb2.ListAgreementsRequest(renter=user.subject))
    gateways = [g for g in await qr_pay.gateways_offered(api) if g.name in offered.agreement_gateways]
    signed = {a.gateway for a in listed.agreements if a.state in ("signing", "active")}
    context = {
        "gateways": [g for g in gateways if g.name not in signed],
        "offered": gateways,
        "agreements": listed.agreements,
        "labels": {name: i18n.gettext(label) for name, label in qr_pay.GATEWAYS.items()},
        "error": error,
    }
    return render(request, "renter/autopay.html", context, status=409 if error else 200)


@requires("renter")
async def autopay_page(request: Request, user: User) -> Response:
    return await _autopay_page(request, user)


@requires("renter")
async def sign(request: Request, user: User) -> Response:
    form = await request.form()
    client_ip = request.client.host if request.client else ""
    ask = payments_pb2.StartAgreementRequest(
        renter=user.subject, gateway=str(form.get("gateway", "")).strip(), client_ip=client_ip
    )
    try:
        await user_api(request).payments.StartAgreement(ask)
    except Refused as refusal:  # not switched on, signed already, the gateway refusing
        return await _autopay_page(request, user, FormError.from_refusal(refusal))
    return see_other("/wallet/autopay")


@requires("renter")
async def cancel(request: Request, user: User) -> Response:
    try:
        agreement_id = int(request.path_params["agreement_id"])
        await user_api(request).payments.CancelAgreement(payments_pb2.CancelAgreementRequest(id=agreement_id))
    except ValueError:
        return await _autopay_page(request, user, FormError(i18n.gettext("There is no such agreement.")))
    except Refused as refusal:
        return await _autopay_page(request, user, FormError.from_refusal(refusal))
    notice(request, i18n.gettext("The agreement is cancelled: invoices are no longer taken automatically."))
    return see_other("/wallet/autopay")


@requires("renter")
async def pay_link(request: Request, user: User) -> Response:
    """A payment request's link: a fresh QR order for the invoice (?gateway=, else the first offered)."""
    api = user_api(request)
    invoice_id = request.path_params["invoice_id"]
    invoice = await api.invoices.GetInvoice(invoices_pb2.GetInvoiceRequest(invoice_id=invoice_id))
    offered = [g.name for g in await qr_pay.gateways_offered(api)]
    chosen = request.query_params.get("gateway", "")
    if invoice.HasField("paid_at") or not offered or invoice.currency != qr_pay.CURRENCY:
        return see_other(f"/invoices/{invoice.invoice_id}")
    gateway = chosen if chosen in offered else offered[0]
    ask = qr_pay.order_request(request, user, gateway, invoice_id=invoice.invoice_id)
    try:
        return await qr_pay.open_order(request, ask)
    except Refused:  # paid meanwhile, or the gateway refusing: the invoice's page says where it stands
        return see_other(f"/invoices/{invoice.invoice_id}")


ROUTES = [
    Route("/wallet/autopay", autopay_page, methods=["GET"]),
    Route("/wallet/autopay/sign", sign, methods=["POST"]),
    Route("/wallet/autopay/{agreement_id}/cancel", cancel, methods=["POST"]),
    Route("/pay/{invoice_id}", pay_link, methods=["GET"]),
]
