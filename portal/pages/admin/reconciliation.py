"""Reconciliation (/admin/reconciliation): the latest runs (a gateway's statement of a China day matched
with the ledger: lines matched, mismatches) and the open mismatches, per gateway and day, with what each
side has (PaymentService.ListReconciliations, ListMismatches). A mismatch is resolved with a reason
(ResolveMismatch: `credit` applies a payment the gateway has and the ledger lacks, `accept` keeps the
reason; audited by the collector); "reconcile now" runs a gateway's statement of a day (Reconcile)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.auth import User, requires, user_api
from portal.errors import Refused
from portal.i18n import N_
from portal.web import FormError, notice, render, see_other
from protos.rentmeter.v1 import payments_pb2

KINDS = {
    "paid_not_credited": N_("Paid at the gateway, not credited"),
    "credited_not_paid": N_("Credited, not in the statement"),
    "amount_differs": N_("Amounts differ"),
    "refund_not_recorded": N_("Refund not recorded"),
}
GATEWAYS = {"alipay": N_("Alipay"), "wechatpay": N_("WeChat Pay")}
ACTIONS = ("credit", "accept")


async def _page(
    request: Request, error: FormError | None = None, form: dict[str, str] | None = None
) -> Response:
    api = user_api(request)
    runs = await api.payments.ListReconciliations(payments_pb2.ListReconciliationsRequest())
    report = await api.payments.ListMismatches(payments_pb2.ListMismatchesRequest())
    offered = await api.payments.ListGateways(payments_pb2.ListGatewaysRequest())
    gateway, day = request.query_params.get("gateway", ""), request.query_params.get("date", "")
    mismatches = [
        m for m in report.mismatches if (not gateway or m.gateway == gateway) and (not day or m.date == day)
    ]
    context = {
        "runs": runs.runs,
        "mismatches": mismatches,
        "gateways": [(name, i18n.gettext(GATEWAYS.get(name, name))) for name in offered.gateways],
        "kinds": {kind: i18n.gettext(label) for kind, label in KINDS.items()},
        "filters": {"gateway": gateway, "date": day},
        "error": error,
        "form": form or {},
    }
    return render(request, "admin/reconciliation.html", context, status=409 if error else 200)


@requires("admin")
async def reconciliation(request: Request, user: User) -> Response:
    return await _page(request)


@requires("admin")
async def resolve(request: Request, user: User) -> Response:
    form = {key: str(value).strip() for key, value in (await request.form()).items()}
    note, action = form.get("note", ""), form.get("action", "")
    if not note or action not in ACTIONS or not form.get("id", "").isdigit():
        frame = i18n.gettext("Give the reason and choose credit or accept to resolve a mismatch.")
        return await _page(request, FormError(frame), form)
    ask = payments_pb2.ResolveMismatchRequest(id=int(form["id"]), action=action, note=note[:500])
    try:
        await user_api(request).payments.ResolveMismatch(ask)
    except Refused as refusal:  # resolved already, not creditable
        return await _page(request, FormError.from_refusal(refusal), form)
    notice(request, i18n.gettext("The mismatch is resolved."))
    return see_other("/admin/reconciliation")


@requires("admin")
async def run_now(request: Request, user: User) -> Response:
    form = {key: str(value).strip() for key, value in (await request.form()).items()}
    ask = payments_pb2.ReconcileRequest(gateway=form.get("gateway", ""), date=form.get("date", ""))
    try:
        report = await user_api(request).payments.Reconcile(ask)
    except Refused as refusal:  # a bad date, a gateway not configured, a statement that cannot be read
        return await _page(request, FormError.from_refusal(refusal), form)
    text = i18n.gettext("%(matched)d lines matched, %(mismatches)d mismatches.")
    notice(request, text % {"matched": report.matched, "mismatches": len(report.mismatches)})
    return see_other(f"/admin/reconciliation?gateway={ask.gateway}&date={ask.date}")


ROUTES = [
    Route("/admin/reconciliation", reconciliation, methods=["GET"]),
    Route("/admin/reconciliation/resolve", resolve, methods=["POST"]),
    Route("/admin/reconciliation/run", run_now, methods=["POST"]),
]
