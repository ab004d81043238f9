"""Every admin RPC against every role: who may call it, and whose objects each caller can reach.

Callers: the admin; host h1 (owns the machine), host h2; renter r1 (owns the session, invoice and wallet),
renter r2; no token; a made-up token. For each RPC the table says which roles may call it (others:
PERMISSION_DENIED) and whether it reaches an owned object (then a caller who does not own it gets
NOT_FOUND, as if it did not exist). A call that is allowed may still fail for its own reasons (e.g. a
session already stopped), but never with UNAUTHENTICATED, PERMISSION_DENIED or, for the owner, NOT_FOUND.
Open calls (signing in) are allowed to every caller, even without a token. The table runs twice: with API
tokens, and with the sign-in tokens of accounts (names acct-h1, ... acting for h1, ...).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from sqlalchemy import text

from agent.identity import Identity, public_key_bytes
from collector.config import CollectorSettings
from collector.server import Collector
from protos.rentmeter.v1 import (
    access_pb2,
    accounts_pb2,
    agent_pb2,
    agent_pb2_grpc,
    audit_pb2,
    fleet_pb2,
    insights_pb2,
    invoices_pb2,
    jobs_pb2,
    machines_pb2,
    plans_pb2,
    pricing_pb2,
    renters_pb2,
    sessions_pb2,
    usage_pb2,
    wallets_pb2,
)
from rentmeter.client import AdminClient
from tests.collector.helpers import new_identity, plan_request, sample, signed

A, H1, H2, R1, R2 = "admin", "h1", "h2", "r1", "r2"
HOSTS, RENTERS, ALL = {A, H1, H2}, {A, R1, R2}, {A, H1, H2, R1, R2}
OPEN = {*ALL, "none", "forged"}  # calls that need no token
ROLE_OF = {H1: "host", H2: "host", R1: "renter", R2: "renter"}
PASSWORD = "correct horse battery"


def _api_tokens(collector: Collector, admin: AdminClient) -> dict[str, str]:
    tokens = {A: collector.admin_token}  # type: ignore[attr-defined]
    for who, role in ROLE_OF.items():
        request = access_pb2.CreateApiTokenRequest(role=role, subject=who, label=f"test {who}")
        tokens[who] = admin.access.CreateApiToken(request).token
    return tokens


def _sign_in_tokens(collector: Collector, admin: AdminClient) -> dict[str, str]:
    tokens = {}
    for who, role in {A: "admin", **ROLE_OF}.items():
        subject = "" if who == A else who
        request = accounts_pb2.CreateAccountRequest(
            name=f"acct-{who}", role=role, subject=subject, password=PASSWORD
        )
        admin.accounts.CreateAccount(request)
        signed_in = admin.accounts.Login(accounts_pb2.LoginRequest(name=f"acct-{who}", password=PASSWORD))
        tokens[who] = signed_in.token
    return tokens


@pytest.fixture
def collector_settings(collector_settings: CollectorSettings) -> CollectorSettings:
    """Sessions are profiled as soon as they end (RefreshInsights in the world)."""
    return replace(collector_settings, insights_grace=timedelta(0))


@pytest.fixture
def world(collector: Collector, admin: AdminClient) -> Iterator[SimpleNamespace]:
    """Callers with API tokens."""
    yield from _world(collector, admin, _api_tokens(collector, admin))


@pytest.fixture
def signed_in_world(collector: Collector, admin: AdminClient) -> Iterator[SimpleNamespace]:
    """Callers signed in to accounts."""
    yield from _world(collector, admin, _sign_in_tokens(collector, admin))


def _world(collector: Collector, admin: AdminClient, tokens: dict[str, str]) -> Iterator[SimpleNamespace]:
    target = f"127.0.0.1:{collector.port}"
    admin.accounts.CreateAccount(
        accounts_pb2.CreateAccountRequest(name="table-user", role="renter", password=PASSWORD)
    )
    clients = {who: AdminClient.connect(target, token) for who, token in tokens.items()}
    clients["none"] = AdminClient.connect(target)
    clients["forged"] = AdminClient.connect(target, "rmk_not-a-real-token")
    enrollment = clients[H1].machines.CreateEnrollmentToken(machines_pb2.CreateEnrollmentTokenRequest())
    channel = grpc.insecure_channel(target)
    owner = new_identity()
    agent_id = (
        agent_pb2_grpc.AgentServiceStub(channel)
        .Enroll(agent_pb2.EnrollRequest(token=enrollment.token, public_key=public_key_bytes(owner.key)))
        .agent_id
    )
    admin.plans.CreatePlan(plan_request("p", {"standard": "3.60"}))
    admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=PACKS))
    rental = clients[H1].sessions.StartSession(
        sessions_pb2.StartSessionRequest(agent_id=agent_id, renter=R1, plan="p")
    )
    session, begun = rental.session_id, rental.started_at.seconds + rental.started_at.nanos / 1e9
    identity = Identity(agent_id, "standard", owner.key)
    report = signed(identity, 1, [sample(begun, begun + 0.2)])
    list(agent_pb2_grpc.AgentServiceStub(channel).StreamReports(iter([report])))
    time.sleep(0.3)
    admin.wallets.TopUp(wallets_pb2.TopUpRequest(renter=R1, amount="5", currency="EUR", idempotency_key="k"))
    admin.renters.UpdateRenter(renters_pb2.UpdateRenterRequest(renter=R2))
    admin.renters.UpdateRenter(renters_pb2.UpdateRenterRequest(renter="r3"))  # erased by the table
    clients[H1].sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=session))
    close = invoices_pb2.CloseInvoicesRequest(renter=R1, invoice_now=True)
    (invoice,) = admin.invoices.CloseInvoices(close).invoices
    admin.insights.RefreshInsights(insights_pb2.RefreshInsightsRequest())  # r1's profile and recommendation
    yield SimpleNamespace(clients=clients, agent=agent_id, session=session, invoice=invoice.invoice_id)
    for client in clients.values():
        client.close()
    channel.close()


# (name, roles allowed, owners (None: not about an owned object), call)
Call = Callable[[AdminClient, Any], Any]
M, P, S, U, W, R, X = machines_pb2, plans_pb2, sessions_pb2, usage_pb2, wallets_pb2, renters_pb2, access_pb2
IV, J, AC, F, AU, IN = invoices_pb2, jobs_pb2, accounts_pb2, fleet_pb2, audit_pb2, insights_pb2
RULE = IN.OfferRule(name="t", condition="rented_hours", threshold="1", member_tier="gold")
PACKS = (
    'name = "packs"\ncurrency = "EUR"\n[time.hourly]\nstandard = "1"\n'
    '[[packs]]\nname = "1h"\nprice = "0.01"\ntime = "1h"\n'
)
VERSION = 'name = "p"\ncurrency = "EUR"\neffective_from = 2030-01-01\n[time.hourly]\nstandard = "1"\n'
TABLE: list[tuple[str, set[str], set[str] | None, Call]] = [
    ("ListMachines", HOSTS, None, lambda c, w: c.machines.ListMachines(M.ListMachinesRequest())),
    ("GetMachine", HOSTS, {A, H1}, lambda c, w: c.machines.GetMachine(M.GetMachineRequest(agent_id=w.agent))),
    ("CreateEnrollmentToken", HOSTS, None,
     lambda c, w: c.machines.CreateEnrollmentToken(M.CreateEnrollmentTokenRequest())),
    ("SendControl", HOSTS, {A, H1}, lambda c, w: c.machines.SendControl(
        M.SendControlRequest(agent_id=w.agent, kind=agent_pb2.Control.LOCK_NOW))),
    ("CreatePlan", {A}, None, lambda c, w: c.plans.CreatePlan(plan_request("q", {"standard": "1"}))),
    ("AddPlanVersion", {A}, None,
     lambda c, w: c.plans.AddPlanVersion(P.AddPlanVersionRequest(name="p", document=VERSION))),
    ("ListPlans", ALL, None, lambda c, w: c.plans.ListPlans(P.ListPlansRequest())),
    ("GetPlan", ALL, None, lambda c, w: c.plans.GetPlan(P.GetPlanRequest(name="p"))),
    ("Quote", ALL, None, lambda c, w: c.plans.Quote(
        P.QuoteRequest(plan="p", machine_class="standard", duration=Duration(seconds=60)))),
    ("GetSession", ALL, {A, H1, R1},
     lambda c, w: c.sessions.GetSession(S.GetSessionRequest(session_id=w.session))),
    ("ListSessions", ALL, None, lambda c, w: c.sessions.ListSessions(S.ListSessionsRequest())),
    ("ExplainSession", ALL, {A, H1, R1},
     lambda c, w: c.sessions.ExplainSession(S.GetSessionRequest(session_id=w.session))),
    ("WatchSession", ALL, {A, H1, R1},
     lambda c, w: list(c.sessions.WatchSession(S.GetSessionRequest(session_id=w.session)))),
    ("GetUsage", ALL, {A, H1, R1}, lambda c, w: c.usage.GetUsage(U.GetUsageRequest(session_id=w.session))),
    ("GetUsage(machine)", ALL, {A, H1}, lambda c, w: c.usage.GetUsage(U.GetUsageRequest(agent_id=w.agent))),
    ("ListInvoices", RENTERS, None, lambda c, w: c.invoices.ListInvoices(IV.ListInvoicesRequest())),
    ("GetInvoice", RENTERS, {A, R1},
     lambda c, w: c.invoices.GetInvoice(IV.GetInvoiceRequest(invoice_id=w.invoice))),
    ("RenderInvoice", RENTERS, {A, R1},
     lambda c, w: c.invoices.RenderInvoice(IV.RenderInvoiceRequest(invoice_id=w.invoice, format="csv"))),
    ("GetWallet", RENTERS, {A, R1}, lambda c, w: c.wallets.GetWallet(W.GetWalletRequest(renter=R1))),
    ("GetRenter", RENTERS, {A, R1}, lambda c, w: c.renters.GetRenter(R.GetRenterRequest(renter=R1))),
    ("ExportRenter", RENTERS, {A, R1}, lambda c, w: c.renters.ExportRenter(R.GetRenterRequest(renter=R1))),
    ("CheckLedger", {A}, None, lambda c, w: c.wallets.CheckLedger(W.CheckLedgerRequest())),
    ("ListApiTokens", {A}, None, lambda c, w: c.access.ListApiTokens(X.ListApiTokensRequest())),
    ("CreateApiToken", {A}, None,
     lambda c, w: c.access.CreateApiToken(X.CreateApiTokenRequest(role="admin"))),
    ("UpdateRenter", {A}, None, lambda c, w: c.renters.UpdateRenter(R.UpdateRenterRequest(renter=R2))),
    ("TopUp", {A}, None, lambda c, w: c.wallets.TopUp(
        W.TopUpRequest(renter=R2, amount="1", currency="EUR", idempotency_key="t"))),
    ("CloseInvoices", {A}, None, lambda c, w: c.invoices.CloseInvoices(IV.CloseInvoicesRequest())),
    ("CreditInvoice", {A}, None, lambda c, w: c.invoices.CreditInvoice(
        IV.CreditInvoiceRequest(invoice_id=w.invoice, amount="0.01", reason="test"))),
    ("PayInvoice", {A}, None,
     lambda c, w: c.invoices.PayInvoice(IV.PayInvoiceRequest(invoice_id=w.invoice, reference="x"))),
    ("StartSession", HOSTS, {A, H1}, lambda c, w: c.sessions.StartSession(
        S.StartSessionRequest(agent_id=w.agent, renter=R2, plan="p"))),
    ("StopSession", ALL, {A, H1, R1},
     lambda c, w: c.sessions.StopSession(S.StopSessionRequest(session_id=w.session))),
    ("RevokeApiToken", {A}, None, lambda c, w: c.access.RevokeApiToken(X.RevokeApiTokenRequest(id=999))),
    ("RevokeMachine", HOSTS, {A, H1},
     lambda c, w: c.machines.RevokeMachine(M.RevokeMachineRequest(agent_id=w.agent))),
    ("GetJobStatus", {A}, None, lambda c, w: c.jobs.GetJobStatus(J.GetJobStatusRequest())),
    ("GetPriceSchedule", ALL, None, lambda c, w: c.pricing.GetPriceSchedule(
        pricing_pb2.GetPriceScheduleRequest(machine_class="standard", hours=3))),
    ("GetFleet", HOSTS, None, lambda c, w: c.fleet.GetFleet(F.GetFleetRequest())),
    ("GetEarnings", HOSTS, None, lambda c, w: c.fleet.GetEarnings(F.GetEarningsRequest())),
    ("GetEarnings(machine)", HOSTS, {A, H1},
     lambda c, w: c.fleet.GetEarnings(F.GetEarningsRequest(agent_id=w.agent))),
    ("ListAlerts", {A}, None, lambda c, w: c.fleet.ListAlerts(F.ListAlertsRequest())),
    ("ListAuditEntries", {A}, None, lambda c, w: c.audit.ListAuditEntries(AU.ListAuditEntriesRequest())),
    ("VerifyAuditLog", {A}, None, lambda c, w: c.audit.VerifyAuditLog(AU.VerifyAuditLogRequest())),
    ("GetUsageSeries", ALL, {A, H1, R1},
     lambda c, w: c.usage.GetUsageSeries(U.GetUsageSeriesRequest(session_id=w.session))),
    ("GetUsageSeries(machine)", ALL, {A, H1},
     lambda c, w: c.usage.GetUsageSeries(U.GetUsageSeriesRequest(agent_id=w.agent))),
    ("RequestTopUp", RENTERS, {A, R1}, lambda c, w: c.wallets.RequestTopUp(
        W.TopUpRequest(renter=R1, amount="1", currency="EUR", idempotency_key="rt"))),
    ("BuyPack", RENTERS, {A, R1}, lambda c, w: c.wallets.BuyPack(
        W.BuyPackRequest(renter=R1, plan="packs", pack="1h", idempotency_key="bp"))),
    ("ListPacks", RENTERS, {A, R1}, lambda c, w: c.wallets.ListPacks(W.ListPacksRequest(renter=R1))),
    ("AdjustWallet", {A}, None, lambda c, w: c.wallets.AdjustWallet(
        W.AdjustWalletRequest(renter=R1, amount="-0.5", currency="EUR", reason="x", idempotency_key="a"))),
    ("ListRenters", {A}, None, lambda c, w: c.renters.ListRenters(R.ListRentersRequest())),
    ("ListCreditNotes", RENTERS, None, lambda c, w: c.invoices.ListCreditNotes(IV.ListCreditNotesRequest())),
    ("ListCreditNotes(invoice)", RENTERS, {A, R1},
     lambda c, w: c.invoices.ListCreditNotes(IV.ListCreditNotesRequest(invoice_id=w.invoice))),
    ("ListPayments", RENTERS, None, lambda c, w: c.invoices.ListPayments(IV.ListPaymentsRequest())),
    ("ListPayments(invoice)", RENTERS, {A, R1},
     lambda c, w: c.invoices.ListPayments(IV.ListPaymentsRequest(invoice_id=w.invoice))),
    ("Quote(preview)", ALL, None, lambda c, w: c.plans.Quote(
        P.QuoteRequest(document=VERSION, machine_class="standard", duration=Duration(seconds=60)))),
    ("EraseRenter", {A}, None, lambda c, w: c.renters.EraseRenter(R.GetRenterRequest(renter="r3"))),
    ("GetRenterProfile", RENTERS, {A, R1},
     lambda c, w: c.insights.GetRenterProfile(IN.GetRenterProfileRequest(renter=R1))),
    ("GetRecommendation", RENTERS, {A, R1},
     lambda c, w: c.insights.GetRecommendation(IN.GetRecommendationRequest(renter=R1))),
    ("ListOffers", RENTERS, None, lambda c, w: c.insights.ListOffers(IN.ListOffersRequest())),
    ("ListOffers(renter)", RENTERS, {A, R1},
     lambda c, w: c.insights.ListOffers(IN.ListOffersRequest(renter=R1))),
    ("GetFleetProfile", HOSTS, None, lambda c, w: c.insights.GetFleetProfile(IN.GetFleetProfileRequest())),
    ("CreateOfferRule", {A}, None, lambda c, w: c.insights.CreateOfferRule(RULE)),
    ("ListOfferRules", {A}, None, lambda c, w: c.insights.ListOfferRules(IN.ListOfferRulesRequest())),
    ("DeleteOfferRule", {A}, None,
     lambda c, w: c.insights.DeleteOfferRule(IN.DeleteOfferRuleRequest(name="t"))),
    ("RefreshInsights", {A}, None, lambda c, w: c.insights.RefreshInsights(IN.RefreshInsightsRequest())),
    ("Login", OPEN, None,
     lambda c, w: c.accounts.Login(AC.LoginRequest(name="table-user", password=PASSWORD))),
    ("SignUp", OPEN, None,  # self sign-up is off here: FAILED_PRECONDITION, to everyone alike
     lambda c, w: c.accounts.SignUp(AC.SignUpRequest(name="walk-in", password=PASSWORD))),
    ("RequestPasswordReset", OPEN, None,
     lambda c, w: c.accounts.RequestPasswordReset(AC.RequestPasswordResetRequest(name_or_email="t@x.org"))),
    ("ResetPassword", OPEN, None, lambda c, w: c.accounts.ResetPassword(AC.ResetPasswordRequest(token=""))),
    ("WhoAmI", ALL, None, lambda c, w: c.accounts.WhoAmI(AC.WhoAmIRequest())),
    ("CreateAccount", {A}, None, lambda c, w: c.accounts.CreateAccount(
        AC.CreateAccountRequest(name="made-by-table", role="host"))),
    ("ListAccounts", {A}, None, lambda c, w: c.accounts.ListAccounts(AC.ListAccountsRequest())),
    ("UpdateAccount", ALL, {A}, lambda c, w: c.accounts.UpdateAccount(
        AC.UpdateAccountRequest(name="table-user", display_name="T"))),
    ("SetPassword", {A}, None,
     lambda c, w: c.accounts.SetPassword(AC.SetPasswordRequest(name="table-user", password=PASSWORD))),
    ("ChangePassword", ALL, None, lambda c, w: c.accounts.ChangePassword(  # a weak new password: refused
        AC.ChangePasswordRequest(current_password=PASSWORD, new_password="short"))),
    ("Logout", ALL, None, lambda c, w: c.accounts.Logout(AC.LogoutRequest())),  # last: it ends the token
]  # fmt: skip

DENIED = {grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED}


def _code(call: Call, client: AdminClient, world: SimpleNamespace) -> grpc.StatusCode:
    try:
        call(client, world)
    except grpc.RpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


def test_every_rpc_for_every_role(world: SimpleNamespace) -> None:
    assert _wrong_answers(world) == []


def test_every_rpc_for_every_signed_in_role(signed_in_world: SimpleNamespace) -> None:
    assert _wrong_answers(signed_in_world) == []


def _wrong_answers(world: SimpleNamespace) -> list[str]:
    clients, wrong = world.clients, []
    for name, allowed, owners, call in TABLE:
        for who in ("none", "forged", H2, R2, R1, H1, A):  # outsiders first: admin's call may change things
            code = _code(call, clients[who], world)
            if who in ("none", "forged") and allowed is not OPEN:
                expected = "UNAUTHENTICATED"
                ok = code is grpc.StatusCode.UNAUTHENTICATED
            elif who not in allowed:
                expected, ok = "PERMISSION_DENIED", code is grpc.StatusCode.PERMISSION_DENIED
            elif owners is not None and who not in owners:
                expected, ok = "NOT_FOUND", code is grpc.StatusCode.NOT_FOUND
            else:  # allowed; for an owned object the owner must find it
                expected = "allowed"
                ok = code not in DENIED and (owners is None or code is not grpc.StatusCode.NOT_FOUND)
            if not ok:
                wrong.append(f"{name} as {who}: {code.name}, expected {expected}")
    return wrong


def test_lists_show_only_the_callers_own(world: SimpleNamespace) -> None:
    _only_their_own(world)


def test_a_signed_in_renter_or_host_sees_only_its_own(signed_in_world: SimpleNamespace) -> None:
    _only_their_own(signed_in_world)


def _only_their_own(world: SimpleNamespace) -> None:
    clients = world.clients

    def machines(who: str) -> list[str]:
        listed = clients[who].machines.ListMachines(machines_pb2.ListMachinesRequest()).machines
        return [m.agent_id for m in listed]

    def sessions(who: str) -> list[str]:
        listed = clients[who].sessions.ListSessions(sessions_pb2.ListSessionsRequest()).sessions
        return [s.session_id for s in listed]

    assert {who: machines(who) for who in (A, H1, H2)} == {A: [world.agent], H1: [world.agent], H2: []}
    assert {who: sessions(who) for who in (A, H1, H2, R1, R2)} == {
        A: [world.session], H1: [world.session], H2: [], R1: [world.session], R2: [],
    }  # fmt: skip
    asked_for_r1 = clients[R2].invoices.ListInvoices(invoices_pb2.ListInvoicesRequest(renter=R1)).invoices
    assert list(asked_for_r1) == []  # a renter's filter is its own, whatever it asks
    own = clients[R1].invoices.ListInvoices(invoices_pb2.ListInvoicesRequest()).invoices
    assert [i.invoice_id for i in own] == [world.invoice]


def test_a_revoked_token_is_refused(world: SimpleNamespace) -> None:
    clients = world.clients
    admin = clients[A]
    ids = {t.subject: t.id for t in admin.access.ListApiTokens(access_pb2.ListApiTokensRequest()).tokens}
    assert clients[R1].plans.ListPlans(plans_pb2.ListPlansRequest()) is not None
    admin.access.RevokeApiToken(access_pb2.RevokeApiTokenRequest(id=ids[R1]))
    with pytest.raises(grpc.RpcError) as refused:
        clients[R1].plans.ListPlans(plans_pb2.ListPlansRequest())
    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
    listed = admin.access.ListApiTokens(access_pb2.ListApiTokensRequest()).tokens
    assert all("rmk_" not in str(t) for t in listed)  # only hashes are kept; tokens are never shown again


def test_a_renter_exports_its_data_and_the_admin_erases_it(
    world: SimpleNamespace, collector: Collector
) -> None:
    clients = world.clients
    admin = clients[A]
    admin.renters.UpdateRenter(renters_pb2.UpdateRenterRequest(renter=R1, email="r1@example.org"))
    exported = json.loads(clients[R1].renters.ExportRenter(renters_pb2.GetRenterRequest(renter=R1)).json)
    assert exported["renter"]["email"] == "r1@example.org"
    assert [s["id"] for s in exported["sessions"]] == [world.session]
    assert [i["id"] for i in exported["invoices"]] == [world.invoice] and exported["ledger"]
    erased = admin.renters.EraseRenter(renters_pb2.GetRenterRequest(renter=R1))
    assert erased.reports_cleared == 1
    after = json.loads(admin.renters.ExportRenter(renters_pb2.GetRenterRequest(renter=R1)).json)
    assert after["renter"]["email"] == "" and [i["id"] for i in after["invoices"]] == [world.invoice]
    with collector.database.engine.connect() as db:
        payloads = db.execute(text("SELECT length(payload) FROM reports")).scalars().all()
    assert payloads == [0]
    with pytest.raises(grpc.RpcError) as gone:  # the renter's API token went with the erasure
        clients[R1].plans.ListPlans(plans_pb2.ListPlansRequest())
    assert gone.value.code() is grpc.StatusCode.UNAUTHENTICATED


def test_the_table_covers_every_admin_rpc() -> None:
    services = [
        (machines_pb2, "MachineService"), (plans_pb2, "PlanService"), (sessions_pb2, "SessionService"),
        (usage_pb2, "UsageService"), (invoices_pb2, "InvoiceService"), (wallets_pb2, "WalletService"),
        (renters_pb2, "RenterService"), (access_pb2, "AccessService"), (jobs_pb2, "JobService"),
        (accounts_pb2, "AccountService"), (fleet_pb2, "FleetService"), (audit_pb2, "AuditService"),
        (pricing_pb2, "PricingService"),
        (insights_pb2, "InsightsService"),
    ]  # fmt: skip
    every = {m.name for module, name in services for m in module.DESCRIPTOR.services_by_name[name].methods}
    assert {name.split("(")[0] for name, *_ in TABLE} == every
