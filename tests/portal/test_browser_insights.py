"""The insight pages in a real browser (Debian's chromium driven by Playwright) with real history: the
renter's /insights and the provider's /admin/insights, in English and Chinese at desktop and phone width,
without sideways scrolling or a Content-Security-Policy violation; the provider deletes a rule through its
confirmation. Screenshots go to test-artifacts/screenshots/ (git-ignored)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from collector.server import Collector
from protos.rentmeter.v1 import insights_pb2
from rentmeter.client import AdminClient
from tests.portal.browsing import DESKTOP, PHONE, Tab
from tests.portal.test_insight_pages import collector_settings, history  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_insight_pages_fit_the_screen(
    collector: Collector, admin: AdminClient, tabs: Callable[..., Tab], language: str, size: dict[str, int]
) -> None:
    history(collector, admin)
    renter = tabs(language, size)
    renter.sign_in(admin, "renter", "alice")
    renter.page.goto("/insights")
    renter.page.locator(".chart-plot canvas").first.wait_for()  # uPlot drew the spend per week
    renter.shot("renter-insights")
    provider = tabs(language, size)
    provider.sign_in(admin, "admin")
    provider.page.goto("/admin/insights")
    provider.shot("admin-insights")
    if language == "en" and size is DESKTOP:
        provider.page.locator('tr[data-rule="regulars"] details.delete summary').click()
        provider.page.get_by_role("button", name="Yes, delete regulars").click()
        provider.page.get_by_text("The offer rule regulars is deleted").wait_for()
        rules = admin.insights.ListOfferRules(insights_pb2.ListOfferRulesRequest()).rules
        assert list(rules) == []
