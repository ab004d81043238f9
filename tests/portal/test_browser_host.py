"""The host in a real browser (Debian's chromium driven by Playwright) against a real collector and a real
agent on this machine, enrolled with the host's own token: machines → the machine's page with its chart →
lock (the agent runs the host's lock action) → an enrollment token with its install command, copied →
earnings. And a screenshot of every host page in English and Chinese at desktop and phone width.
"""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agent.config import AgentSettings
from agent.runner import Agent
from collector.server import Collector
from portal.server import RunningPortal
from protos.rentmeter.v1 import sessions_pb2
from rentmeter.client import AdminClient
from rentmeter.embedded import running_agent
from tests.portal.browsing import DESKTOP, PHONE, Tab, wait_for
from tests.portal.conftest import PASSWORD, open_rental, report_usage
from tests.portal.test_host_pages import account, host_token, hosts_machine, rated

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


@pytest.fixture
def cafe_agent(collector: Collector, tmp_path: Path) -> Iterator[tuple[Agent, Path]]:
    """This machine's agent, enrolled with host "cafe"'s token as "seat 12"; its lock action writes the
    control's message into a file (the path returned with it)."""
    locked = tmp_path / "locked"
    action = tmp_path / "lock.sh"
    action.write_text(f'#!/bin/sh\nprintf %s "$RENTMETER_CONTROL_MESSAGE" > {locked}\n')
    action.chmod(action.stat().st_mode | stat.S_IXUSR)
    settings = AgentSettings(
        collector=f"127.0.0.1:{collector.port}", state_dir=tmp_path / "agent", interval=0.2, report_every=0.4,
        token=host_token(collector, "cafe", label="seat 12"), actions={"lock-now": f"command:{action}"},
    )  # fmt: skip
    with running_agent(settings) as running:
        wait_for(lambda: running.sender.acknowledged > 0)
        yield running, locked


def test_a_host_watches_its_machine_locks_it_enrolls_another_and_sees_its_earnings(
    collector: Collector,
    admin: AdminClient,
    cafe_agent: tuple[Agent, Path],
    tabs: Callable[..., Tab],
) -> None:
    agent, locked = cafe_agent
    agent_id = agent.identity.agent_id
    rental = open_rental(admin, agent_id, "alice")
    tab = tabs("en")
    tab.context.grant_permissions(["clipboard-read", "clipboard-write"])
    tab.sign_in(admin, "host", "cafe")
    assert tab.page.locator("h1").inner_text() == "Machines"
    row = tab.page.locator(f'tr[data-agent="{agent_id}"]')
    assert row.locator('[data-state="online"]').count() == 1
    assert row.locator('[data-figure="renter"]').inner_text() == "alice"
    row.get_by_role("link", name="seat 12").click()
    tab.page.wait_for_url(f"**/host/machines/{agent_id}")
    tab.page.locator(".chart-plot canvas").first.wait_for()  # uPlot drew the usage
    tab.page.get_by_text("Lock the screen").click()
    tab.page.locator("#message").fill("Closing time")
    tab.page.get_by_role("button", name="Lock now").click()
    tab.page.get_by_text("The machine was told to lock its screen.").wait_for()
    wait_for(lambda: locked.exists() and locked.read_text() == "Closing time")  # the host's action ran

    tab.page.get_by_role("link", name="Enrollment").click()
    tab.page.locator("#machine_class").fill("gpu-a100")
    tab.page.locator("#label").fill("seat 13")
    tab.page.get_by_role("button", name="Make the token").click()
    command = tab.page.locator("#install-command").inner_text()
    token = tab.page.locator('[data-figure="token"]').inner_text()
    assert command == f"sudo rentmeter agent install --collector 127.0.0.1:{collector.port} --token {token}"
    copy = tab.page.locator('button[data-copy="install-command"]')
    copy.click()
    assert copy.inner_text() == "Copied"
    assert tab.page.evaluate("navigator.clipboard.readText()") == command

    admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=rental.session_id))
    tab.page.get_by_role("link", name="Earnings").click()
    tab.page.locator(".chart-plot canvas").first.wait_for()

    def page_shows_the_api_cost() -> bool:  # the agent's last report, sent after the stop, may add a cent
        cost = rated(admin, rental.session_id).cost
        tab.page.reload()
        return tab.page.locator('[data-figure="total-EUR"]').inner_text() == f"€{cost.minor_units / 100:.2f}"

    wait_for(page_shows_the_api_cost)


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_host_page_fits_the_screen(
    collector: Collector,
    admin: AdminClient,
    tabs: Callable[..., Tab],
    language: str,
    size: dict[str, int],
) -> None:
    seat = hosts_machine(collector, "cafe", label="seat 12")
    hosts_machine(collector, "cafe", label="seat 14")
    rental = open_rental(admin, seat.agent_id, "alice")
    report_usage(admin.channel, seat, rental, 1.0)
    tab = tabs(language, size)
    tab.sign_in(admin, "host", "cafe")
    tab.shot("host-machines")
    tab.page.goto(f"/host/machines/{seat.agent_id}")
    tab.page.locator(".chart-plot canvas").first.wait_for()
    tab.page.locator("details.stop summary").click()
    tab.shot("host-machine")
    tab.page.goto("/host/enrollment")
    tab.shot("host-enrollment")
    tab.page.locator("button.primary").click()
    tab.page.locator("#install-command").wait_for()
    tab.shot("host-enrollment-token")
    tab.page.goto("/host/earnings")
    tab.shot("host-earnings")


def test_without_javascript_the_command_is_there_to_select_and_no_dead_button(
    collector: Collector, admin: AdminClient, portal: RunningPortal, chromium: object
) -> None:
    context = chromium.new_context(base_url=portal.url, java_script_enabled=False)  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        page.goto("/signin")
        page.locator("#name").fill(account(admin, "host", "cafe"))
        page.locator("#password").fill(PASSWORD)
        page.locator("button.primary").click()
        page.goto("/host/enrollment")
        page.locator("button.primary").click()
        assert page.locator("#install-command").inner_text().startswith("sudo rentmeter agent install")
        assert not page.locator('button[data-copy="install-command"]').is_visible()
    finally:
        context.close()
