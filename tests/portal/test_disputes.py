"""Disputes in the portal: each invoice line says how it was measured and can be disputed; the Disputes
page lists them with the evidence to download; nobody else's. Routes through httpx, and the pages in a real
browser in English and Chinese at both widths (screenshots in test-artifacts/screenshots/)."""

from __future__ import annotations

import json
from collections.abc import Callable

import grpc
import pytest

from agent.identity import Identity
from collector.server import Collector
from portal.server import RunningPortal
from protos.rentmeter.v1 import disputes_pb2, invoices_pb2, sessions_pb2
from rentmeter.client import AdminClient
from tests.portal.browsing import DESKTOP, PHONE, Tab
from tests.portal.conftest import SignIn, csrf_of, open_rental, report_usage


def _invoice(
    admin: AdminClient, machine: Identity, channel: grpc.Channel, renter: str
) -> invoices_pb2.Invoice:
    rental = open_rental(admin, machine.agent_id, renter)
    report_usage(channel, machine, rental, seconds=1.5)
    admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=rental.session_id))
    (closed,) = admin.invoices.CloseInvoices(
        invoices_pb2.CloseInvoicesRequest(renter=renter, invoice_now=True)
    ).invoices
    return closed


def test_a_renter_disputes_a_line_and_downloads_its_evidence(
    collector: Collector, admin: AdminClient, portal: RunningPortal, machine: Identity, channel: grpc.Channel,
    sign_in: SignIn,
) -> None:  # fmt: skip
    invoice = _invoice(admin, machine, channel, "alice")
    renter = sign_in("renter", "alice")
    page = renter.get(f"/invoices/{invoice.number}")
    assert page.status_code == 200
    assert (
        'data-basis="measured"' in page.text and "Measured: 0 min 01 s covered by signed reports" in page.text
    )
    assert 'data-basis="gap"' in page.text  # the rental outlasted its 1.5 s of reports
    refused = renter.post(f"/invoices/{invoice.number}/disputes",
                          data={"csrf_token": csrf_of(page), "line": "0", "reason": ""})  # fmt: skip
    assert refused.status_code == 409 and "reason is required" in refused.text
    opened = renter.post(
        f"/invoices/{invoice.number}/disputes",
        data={"csrf_token": csrf_of(page), "line": "0", "reason": "I did not use it that long"},
    )
    assert opened.status_code == 303 and opened.headers["location"].startswith("/disputes?opened=dsp-")
    (dispute,) = admin.disputes.ListDisputes(disputes_pb2.ListDisputesRequest(renter="alice")).disputes
    listing = renter.get("/disputes")
    assert (
        f'data-dispute="{dispute.dispute_id}"' in listing.text
        and "I did not use it that long" in listing.text
    )
    assert 'data-disputed="0"' in renter.get(f"/invoices/{invoice.number}").text
    evidence = renter.get(f"/disputes/{dispute.dispute_id}/evidence")
    assert evidence.status_code == 200
    assert evidence.headers["content-disposition"].startswith("attachment;")
    bundle = json.loads(evidence.content)
    assert (bundle["format"], len(bundle["reports"]), bundle["invoice"]["number"]) == (
        "rentmeter-evidence/1",
        1,
        invoice.number,
    )
    mallory = sign_in("renter", "mallory")
    assert mallory.get(f"/disputes/{dispute.dispute_id}/evidence").status_code == 404
    assert dispute.dispute_id not in mallory.get("/disputes").text


@pytest.mark.browser
@pytest.mark.timeout(120)
@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_disputing_a_line_in_the_browser(
    collector: Collector, admin: AdminClient, machine: Identity, channel: grpc.Channel,
    tabs: Callable[..., Tab], language: str, size: dict[str, int],
) -> None:  # fmt: skip
    invoice = _invoice(admin, machine, channel, "li")
    tab = tabs(language, size)
    tab.sign_in(admin, "renter", "li")
    page = tab.page
    page.goto(f"/invoices/{invoice.number}")
    page.locator("details.dispute summary").first.click()
    tab.shot("renter-invoice-dispute")
    page.locator("details.dispute textarea").first.fill(
        "机器卡住了" if language == "zh" else "The machine froze"
    )
    page.locator("details.dispute button[type=submit]").first.click()
    page.wait_for_url("**/disputes?opened=*")
    status = page.locator("[data-status]").first
    assert status.get_attribute("data-status") == "open"
    assert status.inner_text() == ("进行中" if language == "zh" else "open")
    heading = page.locator("h1").inner_text()
    assert heading == ("申诉" if language == "zh" else "Disputes")
    tab.shot("renter-disputes")


def _disputed(
    admin: AdminClient, machine: Identity, channel: grpc.Channel, renter: str
) -> tuple[invoices_pb2.Invoice, disputes_pb2.Dispute]:
    invoice = _invoice(admin, machine, channel, renter)
    ask = disputes_pb2.OpenDisputeRequest(invoice_id=invoice.number, line=0, reason="the machine froze")
    return invoice, admin.disputes.OpenDispute(ask)


def test_the_provider_credits_or_rejects_a_dispute_on_its_page(
    collector: Collector, admin: AdminClient, portal: RunningPortal, machine: Identity, channel: grpc.Channel,
    sign_in: SignIn,
) -> None:  # fmt: skip
    invoice, dispute = _disputed(admin, machine, channel, "alice")
    _, other = _disputed(admin, machine, channel, "bob")
    provider = sign_in("admin")
    page = provider.get("/admin/disputes")
    assert page.status_code == 200
    assert f'data-dispute="{dispute.dispute_id}"' in page.text and "the machine froze" in page.text
    assert invoice.number in page.text and "alice" in page.text
    bundle = json.loads(provider.get(f"/admin/disputes/{dispute.dispute_id}/evidence").content)
    assert bundle["format"] == "rentmeter-evidence/1"
    csrf = csrf_of(page)
    refused = provider.post(f"/admin/disputes/{dispute.dispute_id}/resolve",
                            data={"csrf_token": csrf, "decision": "reject", "reason": ""})  # fmt: skip
    assert refused.status_code == 400 and "reason" in refused.text
    no_token = provider.post(f"/admin/disputes/{dispute.dispute_id}/resolve",
                             data={"decision": "reject", "reason": "x"})  # fmt: skip
    assert no_token.status_code == 403
    credit = {"csrf_token": csrf, "decision": "credit", "reason": "froze, credited"}
    credited = provider.post(f"/admin/disputes/{dispute.dispute_id}/resolve", data=credit)
    assert credited.status_code == 303 and credited.headers["location"] == "/admin/disputes"
    reject = {"csrf_token": csrf, "decision": "reject", "reason": "ran fine"}
    rejected = provider.post(f"/admin/disputes/{other.dispute_id}/resolve", data=reject)
    assert rejected.status_code == 303
    states = {d.dispute_id: (d.status, d.resolution) for d in admin.disputes.ListDisputes(
        disputes_pb2.ListDisputesRequest()).disputes}  # fmt: skip
    assert states[dispute.dispute_id][0] == "credited" and states[other.dispute_id] == (
        "rejected",
        "ran fine",
    )
    after = provider.get("/admin/disputes").text
    assert "No dispute is open." in after and f'data-resolved="{other.dispute_id}"' in after
    assert sign_in("renter", "alice").get("/admin/disputes").status_code == 404  # not the renter's page


@pytest.mark.browser
@pytest.mark.timeout(120)
@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_resolving_a_dispute_in_the_browser(
    collector: Collector, admin: AdminClient, machine: Identity, channel: grpc.Channel,
    tabs: Callable[..., Tab], language: str, size: dict[str, int],
) -> None:  # fmt: skip
    _, dispute = _disputed(admin, machine, channel, "li")
    tab = tabs(language, size)
    tab.sign_in(admin, "admin")
    page = tab.page
    page.goto("/admin/disputes")
    assert page.locator("h1").inner_text() == ("申诉" if language == "zh" else "Disputes")
    tab.shot("admin-disputes")
    row = page.locator(f'[data-dispute="{dispute.dispute_id}"]')
    row.locator("select[name=decision]").select_option("reject")
    row.locator("textarea[name=reason]").fill("运行正常" if language == "zh" else "it ran fine")
    row.locator("button[type=submit]").click()
    page.wait_for_selector(f'[data-resolved="{dispute.dispute_id}"]')
    status = page.locator(f'[data-resolved="{dispute.dispute_id}"] [data-status]')
    assert status.inner_text() == ("已驳回" if language == "zh" else "rejected")
    tab.shot("admin-disputes-resolved")
