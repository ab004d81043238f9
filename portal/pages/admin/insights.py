"""The provider's insights (/admin/insights): the fleet's profile per machine class (InsightsService
.GetFleetProfile: machines, idle ones, sessions, rented time, revenue, utilisation, occupancy by UTC hour of
the week), the offers made to renters (ListOffers without a renter: everyone's), the offer rules (list,
create with CreateOfferRule's fields, delete behind a confirmation) and *Refresh now* (RefreshInsights: the
profile and advice jobs, as their schedule would run them).

The collector keeps no list of recommendations; a renter's is on its page (/insights) and in `rentmeter
insights renter ID`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.auth import User, requires, user_api
from portal.errors import Refused
from portal.i18n import N_
from portal.pages.admin.common import form_fields, status_for
from portal.web import FormError, notice, render, see_other
from portal.week_grid import class_views
from protos.rentmeter.v1 import insights_pb2, plans_pb2

RULE_FIELDS = ("name", "condition", "threshold", "window_days", "plan", "member_tier", "coupon", "valid_days")
CONDITIONS = {
    "rented_hours": N_("rented at least so many hours"),
    "night_share": N_("at least so many percent of the rented time between 23:00 and 07:00"),
}
NEW_RULE = {"condition": "rented_hours", "window_days": "30", "valid_days": "30"}


def rule_from_form(fields: dict[str, str]) -> insights_pb2.OfferRule:
    """The rule the form describes; a day count that is not a whole number is refused as the collector would
    refuse the rule (Refused, with a sentence). An empty count is 0: the collector's default (30 days)."""
    return insights_pb2.OfferRule(
        name=fields["name"], condition=fields["condition"], threshold=fields["threshold"],
        window_days=_days(fields, "window_days"), plan=fields["plan"], member_tier=fields["member_tier"],
        coupon=fields["coupon"], valid_days=_days(fields, "valid_days"),
    )  # fmt: skip


def _days(fields: dict[str, str], name: str) -> int:
    text = fields[name] or "0"
    if not text.isdigit() or len(text) > 6:
        raise Refused(f"{name}: a whole number of days, not {text!r}", "INVALID_ARGUMENT")
    return int(text)


@requires("admin")
async def insights_page(request: Request, user: User) -> Response:
    return await _page(request)


async def _page(
    request: Request, error: FormError | None = None, kept: dict[str, str] | None = None
) -> Response:
    api = user_api(request)
    fleet = await api.insights.GetFleetProfile(insights_pb2.GetFleetProfileRequest())
    rules = (await api.insights.ListOfferRules(insights_pb2.ListOfferRulesRequest())).rules
    offers = (await api.insights.ListOffers(insights_pb2.ListOffersRequest())).offers
    plans = (await api.plans.ListPlans(plans_pb2.ListPlansRequest())).plans
    context: dict[str, object] = {
        "classes": class_views(fleet),
        "rules": sorted(rules, key=lambda r: r.name),
        "offers": list(offers),
        "plans": sorted(p.name for p in plans),
        "conditions": CONDITIONS,
        "new": {**dict.fromkeys(RULE_FIELDS, ""), **NEW_RULE, **(kept or {})},
        "error": error,
    }
    return render(request, "admin/insights.html", context, status=status_for(error))


@requires("admin")
async def create_rule(request: Request, user: User) -> Response:
    fields = await form_fields(request, RULE_FIELDS)
    try:
        made = await user_api(request).insights.CreateOfferRule(rule_from_form(fields))
    except Refused as refusal:  # a name taken, a condition or threshold not valid, a coupon without its plan
        return await _page(request, FormError.from_refusal(refusal), fields)
    notice(request, i18n.gettext("The offer rule %(name)s is created.") % {"name": made.name})
    return see_other("/admin/insights#rules-heading")


@requires("admin")
async def delete_rule(request: Request, user: User) -> Response:
    name = request.path_params["name"]
    await user_api(request).insights.DeleteOfferRule(insights_pb2.DeleteOfferRuleRequest(name=name))
    notice(
        request,
        i18n.gettext("The offer rule %(name)s is deleted; its offers stay until they end.") % {"name": name},
    )
    return see_other("/admin/insights#rules-heading")


@requires("admin")
async def refresh(request: Request, user: User) -> Response:
    done = await user_api(request).insights.RefreshInsights(insights_pb2.RefreshInsightsRequest())
    counts = {"profiled": done.renters_profiled, "advised": done.renters_advised, "failed": done.failed}
    notice(
        request,
        i18n.gettext(
            "Insights refreshed: %(profiled)d renters profiled, %(advised)d advised, %(failed)d failed."
        )
        % counts,
    )
    return see_other("/admin/insights")


ROUTES = [
    Route("/admin/insights", insights_page, methods=["GET"]),
    Route("/admin/insights/rules", create_rule, methods=["POST"]),
    Route("/admin/insights/rules/{name}/delete", delete_rule, methods=["POST"]),
    Route("/admin/insights/refresh", refresh, methods=["POST"]),
]
