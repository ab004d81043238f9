"""Prices (/prices): the plans on offer (PlanService.ListPlans) with their prices per machine class, the
demand prices published for the next hours (PricingService.GetPriceSchedule: what a rental started then
pays, locked at its start), and the quote calculator (PlanService.Quote: plan, class, hours, expected
traffic and GPUs → the total and each line explained). The calculator is a GET form: it works without
JavaScript, and a quote's address can be kept."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.api import Api
from portal.auth import User, requires, user_api
from portal.charts import Chart, Line, money_chart
from portal.errors import PageNotFound, Refused
from portal.pages.renter.price_list import METERS, PlanPrices, plan_prices
from portal.pages.renter.quote_form import QuoteForm, QuoteInputError
from portal.web import FormError, render
from protos.rentmeter.v1 import plans_pb2, pricing_pb2

SCHEDULE_HOURS = 24


@requires("renter")
async def prices(request: Request, user: User) -> Response:
    api = user_api(request)
    listed = (await api.plans.ListPlans(plans_pb2.ListPlansRequest())).plans
    now = datetime.now(UTC)
    plans = [shown for plan in sorted(listed, key=lambda p: p.name) if (shown := plan_prices(plan, now))]
    form = QuoteForm.from_query(request.query_params)
    quote, error = await _quote(api, form) if form.submitted else (None, None)
    schedules = await _demand_prices(api, _all_classes(plans))
    context = {
        "plans": plans,
        "schedules": schedules,
        "schedule_charts": [_schedule_chart(schedule) for schedule in schedules],
        "meters": METERS,
        "form": form,
        "classes": _all_classes(plans),
        "quote": quote,
        "error": error,
    }
    return render(request, "renter/prices.html", context, status=409 if error else 200)


async def _quote(api: Api, form: QuoteForm) -> tuple[plans_pb2.PriceQuote | None, FormError | None]:
    try:
        return await api.plans.Quote(form.request()), None
    except QuoteInputError as wrong:
        return None, FormError(str(wrong))
    except Refused as refusal:  # no price for the class, an unknown coupon, beyond the limits
        return None, FormError.from_refusal(refusal)
    except PageNotFound:  # a plan name typed into the address
        return None, FormError(i18n.gettext("There is no price plan of that name."))


async def _demand_prices(api: Api, classes: list[str]) -> list[pricing_pb2.PriceSchedule]:
    """The published demand prices of the next day for each class (plans without [dynamic]: none)."""
    found: list[pricing_pb2.PriceSchedule] = []
    for machine_class in classes:
        request = pricing_pb2.GetPriceScheduleRequest(machine_class=machine_class, hours=SCHEDULE_HOURS)
        answer = await api.pricing.GetPriceSchedule(request)
        found.extend(schedule for schedule in answer.schedules if schedule.steps)
    return found


def _schedule_chart(schedule: pricing_pb2.PriceSchedule) -> Chart:
    times = [step.starts_at.ToDatetime(tzinfo=UTC) for step in schedule.steps]
    per_hour = [float(Decimal(step.price_per_hour)) for step in schedule.steps]
    title = i18n.gettext("Price per hour, class %(class)s") % {"class": schedule.machine_class}
    return money_chart(title, schedule.currency, times, [Line(schedule.plan, per_hour)])


def _all_classes(plans: list[PlanPrices]) -> list[str]:
    return list(dict.fromkeys(name for plan in plans for name in plan.machine_classes))


ROUTES = [Route("/prices", prices, methods=["GET"])]
