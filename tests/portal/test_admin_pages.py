"""The provider's pages (/admin/...) against a real collector: each page shows the API's figures, each form
succeeds and shows a refusal as the collector's sentence, and renters and hosts get 404 on every one."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import grpc
from sqlalchemy import update
from sqlalchemy.orm import Session

import billing
from agent.identity import Identity
from collector.db.models import AuditEntry
from collector.server import Collector
from portal.server import RunningPortal
from protos.rentmeter.v1 import (
    accounts_pb2,
    audit_pb2,
    fleet_pb2,
    invoices_pb2,
    jobs_pb2,
    plans_pb2,
    renters_pb2,
    sessions_pb2,
    wallets_pb2,
)
from rentmeter.client import AdminClient
from tests.collector.helpers import plan_request
from tests.portal.conftest import (
    PASSWORD,
    SignIn,
    client,
    csrf_of,
    open_rental,
    report_usage,
    sign_in_through_page,
)
from tests.portal.test_security import routes


def figure(html: str, name: str) -> str:
    found = re.search(rf'data-figure="{name}">([^<]*)<', html)
    assert found, f"no figure {name}"
    return found.group(1)


def test_renters_and_hosts_get_404_on_every_admin_page(
    collector: Collector, portal: RunningPortal, sign_in: SignIn
) -> None:
    admin_paths = [path for path in routes(portal, "GET") if path.startswith("/admin/")]
    posts = [path for path in routes(portal, "POST") if path.startswith("/admin/")]
    assert "/admin/fleet" in admin_paths and "/admin/sessions" in posts
    for browser in (sign_in("renter", "alice"), sign_in("host", "h1")):
        token = csrf_of(browser.get("/signin", follow_redirects=True))
        for path in admin_paths:
            assert browser.get(path).status_code == 404, path
        for path in posts:
            assert browser.post(path, data={"csrf_token": token}).status_code == 404, path


def test_the_fleet_shows_the_apis_machines_and_revenue(
    collector: Collector, admin: AdminClient, portal: RunningPortal, machine: Identity, sign_in: SignIn
) -> None:
    rental = open_rental(admin, machine.agent_id, "alice")
    fleet = admin.fleet.GetFleet(fleet_pb2.GetFleetRequest())
    page = sign_in("admin").get("/admin/fleet")
    assert page.status_code == 200
    assert figure(page.text, "revenue") == "€36.00/h" and fleet.revenue_per_hour[0].minor_units == 3600
    assert figure(page.text, "open-sessions") == "1"
    assert f'data-machine="{machine.agent_id}"' in page.text
    assert f'href="/admin/sessions/{rental.session_id}"' in page.text and "in use" in page.text


def test_the_admin_starts_and_stops_a_session_and_sees_its_explanation(
    collector: Collector, admin: AdminClient, portal: RunningPortal, machine: Identity, sign_in: SignIn
) -> None:
    admin.plans.CreatePlan(plan_request("hourly", {"standard": "36.00"}))
    browser = sign_in("admin")
    page = browser.get("/admin/sessions")
    assert page.status_code == 200 and "0 sessions" in page.text
    assert f'<option value="{machine.agent_id}"' in page.text and '<option value="hourly"' in page.text
    form = {"csrf_token": csrf_of(page), "agent_id": machine.agent_id, "renter": "bob", "plan": "hourly"}
    started = browser.post("/admin/sessions", data=form)
    assert started.status_code == 303, started.text
    (rental,) = admin.sessions.ListSessions(sessions_pb2.ListSessionsRequest(renter="bob")).sessions
    assert started.headers["location"] == f"/admin/sessions/{rental.session_id}"
    shown = browser.get(started.headers["location"])
    assert "The session is started." in shown.text and "hourly" in shown.text
    assert f'action="/admin/sessions/{rental.session_id}/stop"' in shown.text

    again = browser.post("/admin/sessions", data=form)  # the machine is rented already
    assert again.status_code == 400 and 'role="alert"' in again.text
    said = re.search(r'<p class="said" lang="en">([^<]+)</p>', again.text)
    assert said and said.group(1).strip()

    listed = browser.get("/admin/sessions", params={"renter": "bob"})
    assert f'data-session="{rental.session_id}"' in listed.text and "1 session" in listed.text
    assert "0 sessions" in browser.get("/admin/sessions", params={"renter": "bob", "state": "stopped"}).text

    stopped = browser.post(f"/admin/sessions/{rental.session_id}/stop", data={"csrf_token": csrf_of(shown)})
    assert stopped.status_code == 303
    after = admin.sessions.GetSession(sessions_pb2.GetSessionRequest(session_id=rental.session_id))
    assert after.state == sessions_pb2.RentalSession.STOPPED
    page = browser.get(f"/admin/sessions/{rental.session_id}")
    assert "The session is stopped." in page.text and "/stop" not in page.text
    assert figure(page.text, "cost") == "€" + f"{after.cost.minor_units / 100:,.2f}"
    refused = browser.post(f"/admin/sessions/{rental.session_id}/stop", data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 409 and 'class="said"' in refused.text
    assert browser.get("/admin/sessions/s-unknown").status_code == 404


def test_the_admin_tops_up_and_adjusts_a_renters_wallet_once_per_form(
    collector: Collector, admin: AdminClient, portal: RunningPortal, machine: Identity, sign_in: SignIn
) -> None:
    open_rental(admin, machine.agent_id, "carol")
    admin.renters.UpdateRenter(renters_pb2.UpdateRenterRequest(renter="carol", email="carol@example.net",
                                                               time_zone="Asia/Shanghai"))  # fmt: skip
    browser = sign_in("admin")
    listed = browser.get("/admin/renters")
    assert listed.status_code == 200 and 'data-renter="carol"' in listed.text
    page = browser.get("/admin/renters/carol")
    assert page.status_code == 200
    assert (
        figure(page.text, "time-zone") == "Asia/Shanghai"
        and figure(page.text, "email") == "carol@example.net"
    )
    key = re.search(
        r'action="/admin/renters/carol/top-up">.*?name="idempotency_key" value="([^"]+)"', page.text, re.S
    )
    assert key
    form = {
        "csrf_token": csrf_of(page),
        "amount": "20.00",
        "currency": "EUR",
        "idempotency_key": key.group(1),
    }
    for _ in range(2):  # the same form posted twice is credited once
        assert browser.post("/admin/renters/carol/top-up", data=form).status_code == 303
    wallet = admin.wallets.GetWallet(wallets_pb2.GetWalletRequest(renter="carol"))
    assert wallet.balance.minor_units == 2000
    page = browser.get("/admin/renters/carol")
    assert "The wallet is topped up: the balance is €20.00." in page.text
    assert figure(page.text, "balance") == "€20.00"
    assert re.search(
        r'data-renter="carol">.*?data-figure="balance">€20\.00<', browser.get("/admin/renters").text, re.S
    )

    refused = browser.post(
        "/admin/renters/carol/top-up", data={**form, "amount": "lots", "idempotency_key": "k-2"}
    )
    assert refused.status_code == 400 and 'class="said"' in refused.text and 'value="lots"' in refused.text

    adjust = {"csrf_token": form["csrf_token"], "amount": "-5.00", "currency": "EUR", "reason": "",
              "idempotency_key": "adjust-1"}  # fmt: skip
    refused = browser.post("/admin/renters/carol/adjust", data=adjust)
    assert refused.status_code == 400 and 'class="said"' in refused.text
    done = browser.post("/admin/renters/carol/adjust", data={**adjust, "reason": "goodwill"})
    assert done.status_code == 303
    assert admin.wallets.GetWallet(wallets_pb2.GetWalletRequest(renter="carol")).balance.minor_units == 1500
    assert browser.get("/admin/renters/nobody-here").status_code == 404


def test_the_admin_uploads_a_plan_sees_the_blamed_line_previews_and_adds_a_version(
    collector: Collector, admin: AdminClient, portal: RunningPortal, sign_in: SignIn
) -> None:
    browser = sign_in("admin")
    page = browser.get("/admin/plans")
    assert page.status_code == 200 and "No plan yet." in page.text
    good = billing.simple_document("gold", "EUR", {"standard": "1.20"})
    bad = good.replace('"1.20"', '"x1"')
    form = {"csrf_token": csrf_of(page), "machine_class": "standard", "hours": "2"}
    refused = browser.post("/admin/plans", data={**form, "document": bad, "action": "save"})
    assert refused.status_code == 400 and "is not a decimal number" in refused.text
    line = bad.splitlines().index('"standard" = "x1"') + 1
    blamed = f'<li id="line-{line}" class="blamed" aria-current="true">&#34;standard&#34; = &#34;x1&#34;</li>'
    assert blamed in refused.text
    assert "gold" not in {p.name for p in admin.plans.ListPlans(plans_pb2.ListPlansRequest()).plans}

    preview = browser.post(
        "/admin/plans", data={**form, "action": "preview"}, files={"upload": ("gold.toml", good.encode())}
    )
    assert preview.status_code == 200 and figure(preview.text, "quote-total") == "€2.40"
    assert "gold" not in {p.name for p in admin.plans.ListPlans(plans_pb2.ListPlansRequest()).plans}

    created = browser.post(
        "/admin/plans", data={**form, "action": "save"}, files={"upload": ("gold.toml", good.encode())}
    )
    assert created.status_code == 303 and created.headers["location"] == "/admin/plans/gold"
    page = browser.get("/admin/plans/gold", params={"machine_class": "standard", "hours": "10"})
    assert "The plan gold is created." in page.text and figure(page.text, "quote-total") == "€12.00"
    assert 'data-version="1"' in page.text and "1.20 EUR/h" in page.text
    no_price = browser.get("/admin/plans/gold", params={"machine_class": "gpu-h100", "hours": "1"})
    assert no_price.status_code == 400 and 'class="said"' in no_price.text

    later = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    version = f'effective_from = "{later}"\n' + good.replace('"1.20"', '"1.50"')
    added = browser.post("/admin/plans/gold/versions", data={**form, "document": version, "action": "save"})
    assert added.status_code == 303, added.text
    stored = admin.plans.GetPlan(plans_pb2.GetPlanRequest(name="gold"))
    assert [v.number for v in stored.versions] == [1, 2]
    again = browser.post("/admin/plans/gold/versions", data={**form, "document": good, "action": "save"})
    assert again.status_code == 400 and 'class="said"' in again.text
    assert browser.get("/admin/plans/nothing").status_code == 404


def stopped_rental(admin: AdminClient, channel: grpc.Channel, machine: Identity, renter: str) -> None:
    """A rental of `renter` with 1.5 s of reported use, stopped: something to invoice."""
    rental = open_rental(admin, machine.agent_id, renter)
    report_usage(channel, machine, rental, seconds=1.5)
    admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=rental.session_id))


def test_the_admin_closes_invoices_credits_one_and_records_a_payment(
    collector: Collector, admin: AdminClient, portal: RunningPortal, machine: Identity, channel: grpc.Channel,
    sign_in: SignIn,
) -> None:  # fmt: skip
    stopped_rental(admin, channel, machine, "dave")
    browser = sign_in("admin")
    page = browser.get("/admin/invoices")
    assert page.status_code == 200 and "0 invoices" in page.text
    closed = browser.post("/admin/invoices/close", data={"csrf_token": csrf_of(page), "renter": "dave",
                                                          "invoice_now": "yes"})  # fmt: skip
    assert closed.status_code == 303
    (invoice,) = admin.invoices.ListInvoices(invoices_pb2.ListInvoicesRequest(renter="dave")).invoices
    page = browser.get("/admin/invoices")
    assert "1 invoice is made." in page.text and f'data-invoice="{invoice.number}"' in page.text
    assert f'href="/invoices/{invoice.number}/pdf"' in page.text
    assert "0 invoices" in browser.get("/admin/invoices", params={"state": "paid"}).text

    detail = browser.get(f"/admin/invoices/{invoice.number}")
    assert detail.status_code == 200 and figure(detail.text, "paid") == "unpaid"
    total = invoice.total.minor_units
    assert figure(detail.text, "total") == f"€{total // 100}.{total % 100:02d}"
    token = csrf_of(detail)
    refused = browser.post(
        f"/admin/invoices/{invoice.number}/credit",
        data={"csrf_token": token, "amount": "999.00", "reason": "too much"},
    )
    assert (
        refused.status_code == 400 and 'class="said"' in refused.text and 'value="too much"' in refused.text
    )
    credited = browser.post(
        f"/admin/invoices/{invoice.number}/credit",
        data={"csrf_token": token, "amount": "0.01", "reason": "goodwill"},
    )
    assert credited.status_code == 303
    (note,) = admin.invoices.ListCreditNotes(
        invoices_pb2.ListCreditNotesRequest(invoice_id=invoice.invoice_id)
    ).credit_notes
    detail = browser.get(f"/admin/invoices/{invoice.number}")
    assert f"Credit note {note.number} for €0.01 is issued." in detail.text
    assert f'data-credit-note="{note.number}"' in detail.text and "goodwill" in detail.text

    refused = browser.post(
        f"/admin/invoices/{invoice.number}/pay", data={"csrf_token": token, "reference": ""}
    )
    assert refused.status_code == 400 and 'class="said"' in refused.text
    paid = browser.post(
        f"/admin/invoices/{invoice.number}/pay", data={"csrf_token": token, "reference": "bank-42"}
    )
    assert paid.status_code == 303
    assert admin.invoices.GetInvoice(invoices_pb2.GetInvoiceRequest(invoice_id=invoice.number)).HasField(
        "paid_at"
    )
    detail = browser.get(f"/admin/invoices/{invoice.number}")
    assert (
        "The payment is recorded" in detail.text and "bank-42" in detail.text and '/pay"' not in detail.text
    )
    again = browser.post(
        f"/admin/invoices/{invoice.number}/pay", data={"csrf_token": token, "reference": "x"}
    )
    assert again.status_code == 400 and 'class="said"' in again.text
    assert browser.get("/admin/invoices/RM-999999").status_code == 404


def test_payments_show_what_is_owed_and_each_attempt(
    collector: Collector, admin: AdminClient, portal: RunningPortal, machine: Identity, channel: grpc.Channel,
    sign_in: SignIn,
) -> None:  # fmt: skip
    stopped_rental(admin, channel, machine, "erin")
    close = invoices_pb2.CloseInvoicesRequest(renter="erin", invoice_now=True)
    (invoice,) = admin.invoices.CloseInvoices(close).invoices
    browser = sign_in("admin")
    page = browser.get("/admin/payments")
    total = invoice.total.minor_units
    assert (
        figure(page.text, "owed") == f"€{total // 100}.{total % 100:02d}"
        and figure(page.text, "unpaid") == "1"
    )
    assert figure(page.text, f"collection-{invoice.number}").strip() == "awaiting a transfer"
    assert "No payment." in page.text
    admin.invoices.PayInvoice(invoices_pb2.PayInvoiceRequest(invoice_id=invoice.number, reference="SEPA-7"))
    page = browser.get("/admin/payments")
    assert figure(page.text, "unpaid") == "0" and "Nothing is owed." in page.text
    assert f'data-payment="{invoice.number}"' in page.text and "SEPA-7" in page.text
    assert "No payment." in browser.get("/admin/payments", params={"failed": "yes"}).text


def test_alerts_show_the_apis_alerts_by_kind_and_the_jobs(
    collector: Collector, admin: AdminClient, portal: RunningPortal, machine: Identity, sign_in: SignIn
) -> None:
    browser = sign_in("admin")
    assert "Nothing needs attention now." in browser.get("/admin/alerts").text
    admin.wallets.TopUp(
        wallets_pb2.TopUpRequest(renter="fay", amount="1.00", currency="EUR", idempotency_key="t1")
    )
    open_rental(admin, machine.agent_id, "fay")  # the machine never reports: offline with a session
    alerts = admin.fleet.ListAlerts(fleet_pb2.ListAlertsRequest()).alerts
    assert {"machine_offline", "balance_low"} <= {a.kind for a in alerts}
    page = browser.get("/admin/alerts")
    assert page.status_code == 200 and "Nothing needs attention now." not in page.text
    for alert in alerts:
        assert f'data-kind="{alert.kind}"' in page.text
        assert html.escape(alert.message) in page.text
    assert "Offline machines with an open session" in page.text and "Low prepaid balances" in page.text
    jobs = admin.jobs.GetJobStatus(jobs_pb2.GetJobStatusRequest())
    for job in jobs.jobs:
        assert f'data-job="{job.name}"' in page.text


def test_the_audit_log_pages_back_filters_and_verifies_its_chain(
    collector: Collector, admin: AdminClient, portal: RunningPortal, sign_in: SignIn
) -> None:
    for n in range(30):  # two audit entries each: the call and its ledger transaction
        top_up = wallets_pb2.TopUpRequest(
            renter="gus", amount="1.00", currency="EUR", idempotency_key=f"k{n}"
        )
        admin.wallets.TopUp(top_up)
    browser = sign_in("admin")
    newest = admin.audit.ListAuditEntries(audit_pb2.ListAuditEntriesRequest(limit=50)).entries
    page = browser.get("/admin/audit")
    assert page.status_code == 200 and f'data-entry="{newest[0].id}"' in page.text
    assert page.text.count("data-entry=") == 50
    older = re.search(r'href="(/admin/audit\?[^"]*before=(\d+))"', page.text)
    assert older and int(older.group(2)) == newest[-1].id
    second = browser.get(html.unescape(older.group(1)))
    assert (
        f'data-entry="{newest[-1].id - 1}"' in second.text
        and f'data-entry="{newest[0].id}"' not in second.text
    )
    filtered = browser.get("/admin/audit", params={"action": "WalletService/Top"})  # a prefix
    actions = set(re.findall(r'data-action="([^"]+)"', filtered.text))
    assert actions == {"WalletService/TopUp"}, actions

    verdict = browser.get("/admin/audit/verify")
    expected = admin.audit.VerifyAuditLog(audit_pb2.VerifyAuditLogRequest())
    assert expected.intact and f"The audit log is intact: {expected.entries} entries" in verdict.text

    def tamper(db: Session) -> None:
        db.execute(update(AuditEntry).where(AuditEntry.id == newest[-1].id).values(details="{}"))

    collector.database.call(tamper)
    verdict = browser.get("/admin/audit/verify")
    assert (
        f"The audit log is broken at entry {newest[-1].id}" in verdict.text and 'role="alert"' in verdict.text
    )


def test_the_admin_creates_an_account_sets_its_password_and_disables_it(
    collector: Collector, admin: AdminClient, portal: RunningPortal, sign_in: SignIn
) -> None:
    browser = sign_in("admin")
    page = browser.get("/admin/accounts")
    assert page.status_code == 200
    names = {a.name for a in admin.accounts.ListAccounts(accounts_pb2.ListAccountsRequest()).accounts}
    assert all(f'data-account="{name}"' in page.text for name in names)
    form = {"csrf_token": csrf_of(page), "name": "hana", "role": "renter", "subject": "hana-co",
            "password": "short", "display_name": "Hana", "email": "hana@example.net"}  # fmt: skip
    refused = browser.post("/admin/accounts", data=form)
    assert refused.status_code == 400 and "password: at least 10 characters" in refused.text
    assert 'value="hana-co"' in refused.text and "short" not in refused.text.split("<main")[1]
    made = browser.post("/admin/accounts", data={**form, "password": PASSWORD})
    assert made.status_code == 303 and made.headers["location"] == "/admin/accounts/hana"
    page = browser.get("/admin/accounts/hana")
    assert "The account hana is created." in page.text and figure(page.text, "role") == "renter"
    assert 'href="/admin/renters/hana-co"' in page.text
    assert 'data-account="hana"' not in browser.get("/admin/accounts", params={"role": "host"}).text

    hana = client(portal)
    assert sign_in_through_page(hana, "hana", PASSWORD).status_code == 303
    token = csrf_of(page)
    mismatch = {"csrf_token": token, "password": "a new secret 1", "password_again": "a new secret 2"}
    refused = browser.post("/admin/accounts/hana/password", data=mismatch)
    assert refused.status_code == 400 and "The two passwords are not the same." in refused.text
    new = {**mismatch, "password_again": "a new secret 1"}
    assert browser.post("/admin/accounts/hana/password", data=new).status_code == 303
    assert hana.get("/rental").status_code == 303  # her sign-in ended
    assert sign_in_through_page(client(portal), "hana", "a new secret 1").status_code == 303

    assert browser.post("/admin/accounts/hana/reset", data={"csrf_token": token}).status_code == 303
    assert "A reset link is sent" in browser.get("/admin/accounts/hana").text
    disable = browser.post("/admin/accounts/hana/disabled", data={"csrf_token": token, "disabled": "yes"})
    assert disable.status_code == 303
    page = browser.get("/admin/accounts/hana")
    assert figure(page.text, "state") == "disabled" and "The account is disabled" in page.text
    assert sign_in_through_page(client(portal), "hana", "a new secret 1").status_code == 401
    enable = browser.post("/admin/accounts/hana/disabled", data={"csrf_token": token, "disabled": "no"})
    assert enable.status_code == 303
    assert figure(browser.get("/admin/accounts/hana").text, "state") == "enabled"
    assert browser.get("/admin/accounts/nobody").status_code == 404
