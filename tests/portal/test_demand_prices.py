"""The renter's Prices page shows the demand prices a plan has published for the next hours, each as the
price an hour of rental costs when started then (PricingService.GetPriceSchedule)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from agent.identity import Identity
from collector.pricing.schedule import publish_prices
from collector.server import Collector
from protos.rentmeter.v1 import plans_pb2, pricing_pb2, pricing_pb2_grpc
from rentmeter.client import AdminClient
from tests.portal.conftest import SignIn

SURGE = """\
name = "surge"
currency = "CNY"

[time.hourly]
standard = "10.00"

[dynamic]
class = "standard"
floor = "0.50"
cap = "2.00"
max_change = "0.20"
low = "0.2"
high = "0.8"
publish_ahead = "3h"
"""


def test_the_prices_page_shows_the_published_demand_prices(
    collector: Collector, admin: AdminClient, machine: Identity, sign_in: SignIn
) -> None:
    admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=SURGE))
    collector.database.call(publish_prices, datetime.now(UTC), timedelta(minutes=5))
    request = pricing_pb2.GetPriceScheduleRequest(machine_class="standard", hours=24)
    (schedule,) = pricing_pb2_grpc.PricingServiceStub(admin.channel).GetPriceSchedule(request).schedules
    assert schedule.steps  # an idle fleet: the price steps down from the static one
    page = sign_in("renter", "alice", "zh_CN").get("/prices")
    assert page.status_code == 200 and 'data-schedule="surge/standard"' in page.text
    assert "按需价格" in page.text
    for step in schedule.steps:
        assert f'data-step="{step.multiplier}"' in page.text
        assert f"¥{Decimal(step.price_per_hour):.2f}/小时" in page.text  # as the API computed it, per hour
