"""Price plans: the list with their versions, a plan's page (versions, rules, documents, a quote), and
uploading a plan document (TOML, typed or as a file) as a new plan (PlanService.CreatePlan) or a plan's
next version (AddPlanVersion). A draft can be previewed with a quote first (Quote with `document`: priced
as it would be, not stored). A refused document is shown again, numbered, with the collector's line
marked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import quote as url_quote

from google.protobuf.duration_pb2 import Duration
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.auth import User, requires, user_api
from portal.errors import Refused
from portal.web import FormError, notice, render, see_other
from protos.rentmeter.v1 import plans_pb2

# The collector's limit on a plan document (plans_servicer.MAX_PLAN_DOCUMENT).
MAX_DOCUMENT = 256 * 1024
# "<plan>:7: standard: 'x1' is not a decimal number": the line a refused document is blamed on.
BLAMED_LINE = re.compile(r":(\d+):")
MAX_QUOTE_HOURS = Decimal(24 * 366)


@dataclass
class Draft:
    """What the upload form holds: the document and the rental a preview prices."""

    document: str = ""
    machine_class: str = "standard"
    hours: str = "1"

    def lines(self) -> list[str]:
        return self.document.splitlines()


def blamed_line(sentence: str) -> int:
    """The document's line the collector's sentence names (0: none)."""
    found = BLAMED_LINE.search(sentence)
    return int(found.group(1)) if found else 0


async def _draft(request: Request) -> tuple[Draft, str]:
    """The form's draft (an uploaded file wins over the text box) and which button was pressed."""
    async with request.form() as form:
        text, upload = form.get("document", ""), form.get("upload")
        document = text if isinstance(text, str) else ""
        if isinstance(upload, UploadFile) and upload.filename:
            document = (await upload.read(MAX_DOCUMENT + 1)).decode("utf-8", errors="replace")
        machine_class, hours, action = (
            str(form.get(k, "")).strip()[:100] for k in ("machine_class", "hours", "action")
        )
    return Draft(document.replace("\r\n", "\n"), machine_class or "standard", hours or "1"), action


def _duration(hours: str) -> Duration:
    """`hours` (decimal text) as a Duration; Refused for anything else, in the collector's manner."""
    try:
        value = Decimal(hours)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value <= 0 or value > MAX_QUOTE_HOURS:
        raise Refused("hours: a number of hours above 0, at most a year", "INVALID_ARGUMENT")
    duration = Duration()
    duration.FromTimedelta(timedelta(seconds=float(value * 3600)))
    return duration


async def _quote(request: Request, draft: Draft, plan: str = "") -> plans_pb2.PriceQuote:
    """A quote of `draft.hours` on `draft.machine_class`: under the draft's document, or the stored `plan`."""
    quote_request = plans_pb2.QuoteRequest(
        plan=plan, machine_class=draft.machine_class, duration=_duration(draft.hours),
        document="" if plan else draft.document,
    )  # fmt: skip
    answer: plans_pb2.PriceQuote = await user_api(request).plans.Quote(quote_request)
    return answer


@requires("admin")
async def plans(request: Request, user: User) -> Response:
    return await _plans_page(request, Draft())


async def _plans_page(
    request: Request, draft: Draft, error: FormError | None = None, quote: plans_pb2.PriceQuote | None = None
) -> Response:
    listed = (await user_api(request).plans.ListPlans(plans_pb2.ListPlansRequest())).plans
    context = {"plans": sorted(listed, key=lambda p: p.name), **_form_context(draft, error, quote)}
    return render(request, "admin/plans.html", context, status=400 if error else 200)


def _form_context(
    draft: Draft, error: FormError | None, quote: plans_pb2.PriceQuote | None
) -> dict[str, object]:
    return {
        "draft": draft,
        "error": error,
        "quote": quote,
        "blamed": blamed_line(error.sentence) if error else 0,
    }


@requires("admin")
async def create(request: Request, user: User) -> Response:
    draft, action = await _draft(request)
    try:
        if action == "preview":
            return await _plans_page(request, draft, quote=await _quote(request, draft))
        plan = await user_api(request).plans.CreatePlan(plans_pb2.CreatePlanRequest(document=draft.document))
    except Refused as refusal:  # the document's line and problem, a name taken
        return await _plans_page(request, draft, FormError.from_refusal(refusal))
    notice(request, i18n.gettext("The plan %(name)s is created.") % {"name": plan.name})
    return see_other(f"/admin/plans/{url_quote(plan.name)}")


@requires("admin")
async def plan(request: Request, user: User) -> Response:
    """A plan's page; ?machine_class=...&hours=... adds a quote under the stored plan."""
    query = request.query_params
    draft = Draft(
        machine_class=query.get("machine_class", "standard")[:100], hours=query.get("hours", "1")[:20]
    )
    quote, error = None, None
    if "hours" in query:
        try:
            quote = await _quote(request, draft, plan=request.path_params["name"])
        except Refused as refusal:  # no price for the class
            error = FormError.from_refusal(refusal)
    return await _plan_page(request, Draft(), saved_quote=(draft, quote, error))


async def _plan_page(
    request: Request,
    draft: Draft,
    error: FormError | None = None,
    quote: plans_pb2.PriceQuote | None = None,
    saved_quote: tuple[Draft, plans_pb2.PriceQuote | None, FormError | None] | None = None,
) -> Response:
    name = request.path_params["name"]
    found = await user_api(request).plans.GetPlan(plans_pb2.GetPlanRequest(name=name))
    if not draft.document and found.versions:
        draft.document = found.versions[-1].document  # the next version starts from the latest
    asked, saved, saved_error = saved_quote or (Draft(), None, None)
    context = {
        "plan": found,
        "versions": list(reversed(found.versions)),
        "asked": asked,
        "saved_quote": saved,
        "saved_error": saved_error,
        **_form_context(draft, error, quote),
    }
    return render(request, "admin/plan.html", context, status=400 if error or saved_error else 200)


@requires("admin")
async def add_version(request: Request, user: User) -> Response:
    name = request.path_params["name"]
    draft, action = await _draft(request)
    try:
        if action == "preview":
            return await _plan_page(request, draft, quote=await _quote(request, draft))
        added = await user_api(request).plans.AddPlanVersion(
            plans_pb2.AddPlanVersionRequest(name=name, document=draft.document)
        )
    except Refused as refusal:  # the document's line and problem, not later than the latest version
        return await _plan_page(request, draft, FormError.from_refusal(refusal))
    notice(request, i18n.gettext("Version %(number)d of %(name)s is added.")
           % {"number": added.versions[-1].number, "name": name})  # fmt: skip
    return see_other(f"/admin/plans/{url_quote(name)}")


ROUTES = [
    Route("/admin/plans", plans, methods=["GET"]),
    Route("/admin/plans", create, methods=["POST"]),
    Route("/admin/plans/{name}", plan, methods=["GET"]),
    Route("/admin/plans/{name}/versions", add_version, methods=["POST"]),
]
