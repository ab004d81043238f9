"""The admin-facing services: machines, plans, sessions, usage and invoices."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import grpc
from sqlalchemy import select
from sqlalchemy.orm import Session

import billing
from collector import auth, wire
from collector.config import CollectorSettings
from collector.controls import ControlHub
from collector.credit_notes import credit_invoice
from collector.database import Database
from collector.db.models import Invoice, Machine, RentalSession
from collector.documents import render_invoice
from collector.enrollment import DEFAULT_TOKEN_TTL, create_token
from collector.errors import CollectorError, FailedPrecondition, InvalidArgument, NotFound
from collector.explain import explain_session
from collector.invoicing import close_invoices, get_invoice, list_invoices
from collector.keys import AgentKeys
from collector.live import live_cost
from collector.payments.collection import mark_paid
from collector.plans import add_version, create_plan, get_plan, list_plans, versions_of
from collector.rentals import (
    get_machine,
    get_session,
    list_sessions,
    revoke_machine,
    start_session,
    stop_session,
)
from collector.services.base import Servicer, maps_errors
from collector.timeutil import to_us
from collector.usage import usage_summary
from protos.rentmeter.v1 import (
    agent_pb2,
    invoices_pb2,
    invoices_pb2_grpc,
    machines_pb2,
    machines_pb2_grpc,
    plans_pb2,
    plans_pb2_grpc,
    sessions_pb2,
    sessions_pb2_grpc,
    usage_pb2,
    usage_pb2_grpc,
)

Ctx = grpc.aio.ServicerContext
MAX_QUOTE = timedelta(days=366)
# How often a watched session is re-rated: within a second of each report that arrives.
WATCH_INTERVAL_S = 1.0


def _own_machine(db: Session, agent_id: str, who: auth.Principal) -> Machine:
    """The machine, when the caller may see it (its host, or an admin); else NOT_FOUND."""
    machine = get_machine(db, agent_id)
    auth.hide_unless(who.may_see_host(machine.host_id), "machine", agent_id)
    return machine


def _own_session(db: Session, session_id: str, who: auth.Principal) -> RentalSession:
    """The session, when the caller is its renter, its machine's host, or an admin; else NOT_FOUND."""
    rental = get_session(db, session_id)
    visible = who.may_see_renter(rental.renter_id) or who.may_see_host(rental.machine.host_id)
    auth.hide_unless(visible, "session", session_id)
    return rental


def _own_invoice(db: Session, invoice_id: str, who: auth.Principal) -> Invoice:
    invoice = get_invoice(db, invoice_id)
    auth.hide_unless(invoice is not None and who.may_see_renter(invoice.renter_id), "invoice", invoice_id)
    return invoice  # type: ignore[return-value]


class MachineService(Servicer, machines_pb2_grpc.MachineServiceServicer):
    def __init__(
        self, database: Database, now, settings: CollectorSettings, hub: ControlHub, keys: AgentKeys
    ) -> None:  # type: ignore[no-untyped-def]
        super().__init__(database, now)
        self._online_window = settings.online_window
        self._hub = hub
        self._keys = keys

    @maps_errors
    async def RevokeMachine(
        self, request: machines_pb2.RevokeMachineRequest, context: Ctx
    ) -> machines_pb2.Machine:
        now, who = self.now(), auth.current()

        def run(db: Session) -> tuple[machines_pb2.Machine, agent_pb2.Control | None]:
            _own_machine(db, request.agent_id, who)
            machine, stopped = revoke_machine(db, request.agent_id, request.reason, now)
            control = None
            if stopped is not None:
                control = wire.session_control(stopped, agent_pb2.Control.SESSION_STOPPED, "machine revoked")
            return self._to_proto(machine), control

        machine, control = await self.db.run(run)
        self._keys.revoke(request.agent_id)
        if control is not None:
            self._hub.publish(request.agent_id, control)
        return machine

    @maps_errors
    async def SendControl(
        self, request: machines_pb2.SendControlRequest, context: Ctx
    ) -> machines_pb2.SendControlResponse:
        if request.kind not in (agent_pb2.Control.LOCK_NOW, agent_pb2.Control.LOW_BALANCE):
            raise InvalidArgument("kind must be LOCK_NOW or LOW_BALANCE; sessions send their own controls")
        if len(request.message) > 500:
            raise InvalidArgument("message must be at most 500 characters")
        await self.db.run(_own_machine, request.agent_id, auth.current())
        control = agent_pb2.Control(kind=request.kind, message=request.message, at=wire.timestamp(self.now()))
        return machines_pb2.SendControlResponse(delivered=self._hub.publish(request.agent_id, control))

    @maps_errors
    async def CreateEnrollmentToken(
        self, request: machines_pb2.CreateEnrollmentTokenRequest, context: Ctx
    ) -> machines_pb2.CreateEnrollmentTokenResponse:
        ttl = wire.ttl(request.ttl, DEFAULT_TOKEN_TTL)
        who = auth.current()
        token, expires_at = await self.db.run(
            create_token,
            machine_class=request.machine_class or "standard",
            ttl=ttl,
            label=request.label,
            now=self.now(),
            host_id=who.subject if who.role == auth.HOST else "",
        )
        return machines_pb2.CreateEnrollmentTokenResponse(token=token, expires_at=wire.timestamp(expires_at))

    @maps_errors
    async def ListMachines(
        self, request: machines_pb2.ListMachinesRequest, context: Ctx
    ) -> machines_pb2.ListMachinesResponse:
        who = auth.current()

        def run(db: Session) -> machines_pb2.ListMachinesResponse:
            query = select(Machine).order_by(Machine.enrolled_at)
            if not who.is_admin:
                query = query.where(Machine.host_id == who.subject)
            machines = db.scalars(query)
            return machines_pb2.ListMachinesResponse(machines=[self._to_proto(m) for m in machines])

        return await self.db.run(run)

    @maps_errors
    async def GetMachine(self, request: machines_pb2.GetMachineRequest, context: Ctx) -> machines_pb2.Machine:
        who = auth.current()
        return await self.db.run(lambda db: self._to_proto(_own_machine(db, request.agent_id, who)))

    def _to_proto(self, machine: Machine) -> machines_pb2.Machine:
        seen = machine.last_seen_at
        return wire.machine_to_proto(
            machine, online=seen is not None and self.now() - seen <= self._online_window
        )


# Plan documents are small; this bounds what one request can make the collector parse.
MAX_PLAN_DOCUMENT = 256 * 1024


def _document(text: str) -> str:
    if not text.strip():
        raise InvalidArgument("document is required: a price plan in TOML (see README, Price plan files)")
    if len(text.encode()) > MAX_PLAN_DOCUMENT:
        raise InvalidArgument(f"document is larger than {MAX_PLAN_DOCUMENT // 1024} KiB")
    return text


class PlanService(Servicer, plans_pb2_grpc.PlanServiceServicer):
    @maps_errors
    async def CreatePlan(self, request: plans_pb2.CreatePlanRequest, context: Ctx) -> plans_pb2.PricePlan:
        document = _document(request.document)
        return await self.db.run(lambda db: wire.plan_to_proto(create_plan(db, document, self.now())))

    @maps_errors
    async def AddPlanVersion(
        self, request: plans_pb2.AddPlanVersionRequest, context: Ctx
    ) -> plans_pb2.PricePlan:
        document = _document(request.document)
        return await self.db.run(
            lambda db: wire.plan_to_proto(add_version(db, request.name, document, self.now()))
        )

    @maps_errors
    async def ListPlans(
        self, request: plans_pb2.ListPlansRequest, context: Ctx
    ) -> plans_pb2.ListPlansResponse:
        return await self.db.run(
            lambda db: plans_pb2.ListPlansResponse(plans=[wire.plan_to_proto(p) for p in list_plans(db)])
        )

    @maps_errors
    async def Quote(self, request: plans_pb2.QuoteRequest, context: Ctx) -> plans_pb2.PriceQuote:
        """Price a planned rental: the same rating as a real session whose machine reports all along."""
        start = wire.moment(request.start) if request.HasField("start") else self.now()
        duration = request.duration.ToTimedelta()
        if not timedelta(0) < duration <= MAX_QUOTE:
            raise InvalidArgument(f"duration must be positive and at most {MAX_QUOTE.days} days")
        terms = wire.terms_from_proto(request.terms, request.machine_class)
        if not terms.machine_class:
            raise InvalidArgument("machine_class is required")

        def run(db: Session) -> plans_pb2.PriceQuote:
            plan = get_plan(db, request.plan)
            try:
                charges = billing.quote(
                    versions_of(plan), terms, start, start + duration,
                    rx_bytes=request.expected_rx_bytes, tx_bytes=request.expected_tx_bytes,
                    busy_cores=request.expected_busy_cores, memory_bytes=request.expected_memory_bytes,
                    gpus=dict(request.gpus),
                )  # fmt: skip
            except billing.BillingError as exc:
                raise FailedPrecondition(str(exc)) from None
            lines = billing.build_lines("", charges)
            return wire.quote_to_proto(plan, terms.machine_class, start, start + duration, lines)

        return await self.db.run(run)

    @maps_errors
    async def GetPlan(self, request: plans_pb2.GetPlanRequest, context: Ctx) -> plans_pb2.PricePlan:
        return await self.db.run(lambda db: wire.plan_to_proto(get_plan(db, request.name)))


class SessionService(Servicer, sessions_pb2_grpc.SessionServiceServicer):
    """Sessions; starting and stopping one tells the machine's agent (SESSION_STARTED / SESSION_STOPPED)."""

    def __init__(self, database: Database, now, hub: ControlHub, settings: CollectorSettings) -> None:  # type: ignore[no-untyped-def]
        super().__init__(database, now)
        self._hub = hub
        self._settings = settings

    @maps_errors
    async def StartSession(
        self, request: sessions_pb2.StartSessionRequest, context: Ctx
    ) -> sessions_pb2.RentalSession:
        who = auth.current()

        def run(db: Session) -> tuple[sessions_pb2.RentalSession, agent_pb2.Control]:
            _own_machine(db, request.agent_id, who)
            rental = start_session(
                db,
                agent_id=request.agent_id,
                renter_id=request.renter,
                plan_name=request.plan,
                now=self.now(),
                terms=wire.terms_from_proto(request.terms),
                hold_for=self._settings.hold_for,
            )
            return wire.session_to_proto(rental), wire.session_control(
                rental, agent_pb2.Control.SESSION_STARTED
            )

        started, control = await self.db.run(run)
        self._hub.publish(started.agent_id, control)
        return started

    @maps_errors
    async def StopSession(
        self, request: sessions_pb2.StopSessionRequest, context: Ctx
    ) -> sessions_pb2.RentalSession:
        who = auth.current()

        def run(db: Session) -> tuple[sessions_pb2.RentalSession, agent_pb2.Control]:
            _own_session(db, request.session_id, who)
            rental = stop_session(db, request.session_id, self.now())
            return wire.session_to_proto(rental), wire.session_control(
                rental, agent_pb2.Control.SESSION_STOPPED
            )

        stopped, control = await self.db.run(run)
        self._hub.publish(stopped.agent_id, control)
        return stopped

    @maps_errors
    async def ExplainSession(
        self, request: sessions_pb2.GetSessionRequest, context: Ctx
    ) -> sessions_pb2.SessionExplanation:
        now, who = self.now(), auth.current()

        def run(db: Session) -> sessions_pb2.SessionExplanation:
            _own_session(db, request.session_id, who)
            return wire.explanation_to_proto(explain_session(db, request.session_id, now))

        return await self.db.run(run)

    async def WatchSession(
        self, request: sessions_pb2.GetSessionRequest, context: Ctx
    ) -> AsyncIterator[sessions_pb2.LiveCost]:
        """The live cost at once, then every second while the session runs; a last message when it stops."""
        try:
            await self.db.run(_own_session, request.session_id, auth.current())
        except CollectorError as exc:
            await context.abort(exc.code, str(exc))
            return
        while True:
            try:
                live = await self.db.run(
                    lambda db: wire.live_cost_to_proto(live_cost(db, request.session_id, self.now()))
                )
            except CollectorError as exc:
                await context.abort(exc.code, str(exc))
                return
            yield live
            if live.state != sessions_pb2.RentalSession.OPEN:
                return
            await asyncio.sleep(WATCH_INTERVAL_S)

    @maps_errors
    async def GetSession(
        self, request: sessions_pb2.GetSessionRequest, context: Ctx
    ) -> sessions_pb2.RentalSession:
        who = auth.current()
        return await self.db.run(lambda db: wire.session_to_proto(_own_session(db, request.session_id, who)))

    @maps_errors
    async def ListSessions(
        self, request: sessions_pb2.ListSessionsRequest, context: Ctx
    ) -> sessions_pb2.ListSessionsResponse:
        who = auth.current()
        renter = who.subject if who.role == auth.RENTER else request.renter
        host = who.subject if who.role == auth.HOST else None

        def run(db: Session) -> sessions_pb2.ListSessionsResponse:
            rentals = list_sessions(
                db, renter_id=renter, agent_id=request.agent_id, open_only=request.open_only, host_id=host
            )
            return sessions_pb2.ListSessionsResponse(sessions=[wire.session_to_proto(r) for r in rentals])

        return await self.db.run(run)


class UsageService(Servicer, usage_pb2_grpc.UsageServiceServicer):
    @maps_errors
    async def GetUsage(self, request: usage_pb2.GetUsageRequest, context: Ctx) -> usage_pb2.UsageSummary:
        now, who = self.now(), auth.current()

        def run(db: Session) -> usage_pb2.UsageSummary:
            if request.WhichOneof("scope") == "session_id":
                rental = _own_session(db, request.session_id, who)
                agent_id, start, end = rental.agent_id, rental.started_at, rental.ended_at or now
            elif request.WhichOneof("scope") == "agent_id":
                agent_id, start, end = (
                    _own_machine(db, request.agent_id, who).agent_id,
                    now - timedelta(hours=1),
                    now,
                )
            else:
                raise InvalidArgument("give agent_id or session_id")
            if request.HasField("start"):
                start = wire.moment(request.start)
            if request.HasField("end"):
                end = wire.moment(request.end)
            if end <= start:
                raise InvalidArgument("end must be after start")
            return wire.usage_to_proto(usage_summary(db, agent_id, to_us(start), to_us(end)))

        return await self.db.run(run)


class InvoiceService(Servicer, invoices_pb2_grpc.InvoiceServiceServicer):
    def __init__(self, database: Database, now, settings: CollectorSettings) -> None:  # type: ignore[no-untyped-def]
        super().__init__(database, now)
        self._settings = settings

    @maps_errors
    async def PayInvoice(self, request: invoices_pb2.PayInvoiceRequest, context: Ctx) -> invoices_pb2.Invoice:
        return await self.db.run(
            lambda db: wire.invoice_to_proto(mark_paid(db, request.invoice_id, request.reference, self.now()))
        )

    @maps_errors
    async def CreditInvoice(
        self, request: invoices_pb2.CreditInvoiceRequest, context: Ctx
    ) -> invoices_pb2.CreditNote:
        def run(db: Session) -> invoices_pb2.CreditNote:
            amount = None
            if request.amount.strip():
                invoice = get_invoice(db, request.invoice_id)
                if invoice is None:
                    raise NotFound("invoice", request.invoice_id)
                try:
                    amount = billing.Money.of(
                        billing.plan.parse_price(request.amount, "amount"), invoice.currency
                    )
                except billing.BillingError as exc:
                    raise InvalidArgument(str(exc)) from None
            note = credit_invoice(db, request.invoice_id, amount, request.reason, self.now())
            return wire.credit_note_to_proto(note)

        return await self.db.run(run)

    @maps_errors
    async def RenderInvoice(
        self, request: invoices_pb2.RenderInvoiceRequest, context: Ctx
    ) -> invoices_pb2.InvoiceDocument:
        who = auth.current()

        def run(db: Session) -> invoices_pb2.InvoiceDocument:
            invoice = _own_invoice(db, request.invoice_id, who)
            document = render_invoice(invoice, request.format.lower() or "pdf")
            return invoices_pb2.InvoiceDocument(
                filename=document.filename, content_type=document.content_type, content=document.content
            )

        return await self.db.run(run)

    @maps_errors
    async def ListInvoices(
        self, request: invoices_pb2.ListInvoicesRequest, context: Ctx
    ) -> invoices_pb2.ListInvoicesResponse:
        who = auth.current()
        renter = who.subject if who.role == auth.RENTER else request.renter
        return await self.db.run(
            lambda db: invoices_pb2.ListInvoicesResponse(
                invoices=[wire.invoice_to_proto(i) for i in list_invoices(db, renter)]
            )
        )

    @maps_errors
    async def GetInvoice(self, request: invoices_pb2.GetInvoiceRequest, context: Ctx) -> invoices_pb2.Invoice:
        who = auth.current()

        def run(db: Session) -> invoices_pb2.Invoice:
            return wire.invoice_to_proto(_own_invoice(db, request.invoice_id, who))

        return await self.db.run(run)

    @maps_errors
    async def CloseInvoices(
        self, request: invoices_pb2.CloseInvoicesRequest, context: Ctx
    ) -> invoices_pb2.CloseInvoicesResponse:
        now = self.now()
        until = wire.moment(request.until) if request.HasField("until") else now
        if until > now:
            raise InvalidArgument("until must not be in the future")

        def run(db: Session) -> invoices_pb2.CloseInvoicesResponse:
            invoices = close_invoices(
                db,
                now,
                period=self._settings.invoice_period,
                grace=self._settings.invoice_grace,
                renter_id=request.renter,
                invoice_now=request.invoice_now,
                until=until,
                prefix=self._settings.invoice_prefix,
            )
            return invoices_pb2.CloseInvoicesResponse(invoices=[wire.invoice_to_proto(i) for i in invoices])

        return await self.db.run(run)
