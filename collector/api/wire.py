"""Where the collector converts between protobuf messages and its own types (InsightsService's in
insights_wire.py, PaymentService's in payments_wire.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf import json_format
from google.protobuf.timestamp_pb2 import Timestamp

import billing
import billing.numbers
import billing.plan
from collector.accounts.audit import Verification
from collector.accounts.wallets import LedgerCheck, WalletState
from collector.core.errors import InvalidArgument
from collector.core.job_board import JobState
from collector.db import models
from collector.delivery.documents import invoice_tax_minor
from collector.invoicing.earnings import EarningsRow
from collector.metering.ingest import (
    Ack,
    AckStatus,
    IncomingGap,
    IncomingGpu,
    IncomingReport,
    IncomingSample,
)
from collector.metering.series import UsagePoint
from collector.metering.usage import GpuUsage, UsageSummary
from collector.pricing.schedule import Schedule
from collector.sessions.alerts import Alert
from collector.sessions.explain import Explanation, plan_rules
from collector.sessions.fleet import Fleet
from collector.sessions.live import LiveCost
from collector.sessions.live_ticks import LiveTick
from collector.sessions.plans import parse_document
from protos.rentmeter.v1 import (
    access_pb2,
    accounts_pb2,
    agent_pb2,
    audit_pb2,
    common_pb2,
    fleet_pb2,
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

_ACK_STATUS = {
    AckStatus.ACCEPTED: agent_pb2.ReportAck.ACCEPTED,
    AckStatus.DUPLICATE: agent_pb2.ReportAck.DUPLICATE,
    AckStatus.REJECTED: agent_pb2.ReportAck.REJECTED,
    AckStatus.CONFLICT: agent_pb2.ReportAck.CONFLICT,
    AckStatus.FORGED: agent_pb2.ReportAck.FORGED,
}
_GAP_KIND = {
    agent_pb2.ReportGap.FORGED: "forged",
    agent_pb2.ReportGap.UNREADABLE: "unreadable",
    agent_pb2.ReportGap.SPOOL_LOST: "spool_lost",
}


def timestamp(moment: datetime | None) -> Timestamp | None:
    if moment is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(moment.astimezone(UTC))
    return ts


def timestamp_us(micros: int | None) -> Timestamp | None:
    if micros is None:
        return None
    return Timestamp(seconds=micros // 1_000_000, nanos=(micros % 1_000_000) * 1000)


def us(ts: Timestamp) -> int:
    return ts.seconds * 1_000_000 + ts.nanos // 1000


def moment(ts: Timestamp) -> datetime:
    return ts.ToDatetime(tzinfo=UTC)


def money(minor: int, currency: str) -> common_pb2.Money:
    return common_pb2.Money(minor_units=minor, currency=currency, display=str(billing.Money(minor, currency)))


def facts_to_dict(facts: common_pb2.MachineFacts) -> dict[str, Any]:
    return json_format.MessageToDict(facts, preserving_proto_field_name=True)


def facts_from_dict(facts: dict[str, Any]) -> common_pb2.MachineFacts:
    return json_format.ParseDict(facts, common_pb2.MachineFacts(), ignore_unknown_fields=True)


def report_from_proto(envelope: agent_pb2.SignedReport, report: agent_pb2.UsageReport) -> IncomingReport:
    return IncomingReport(
        agent_id=report.agent_id,
        sequence=report.sequence,
        start_us=us(report.start),
        end_us=us(report.end),
        samples=tuple(
            IncomingSample(
                start_us=us(s.start),
                end_us=us(s.end),
                cpu_busy_us=s.cpu_busy_us,
                cpu_utilization=s.cpu_utilization,
                memory_used_bytes=s.memory_used_bytes,
                memory_total_bytes=s.memory_total_bytes,
                disk_read_bytes=s.disk_read_bytes,
                disk_write_bytes=s.disk_write_bytes,
                net_rx_bytes=s.net_rx_bytes,
                net_tx_bytes=s.net_tx_bytes,
                gpus=tuple(
                    IncomingGpu(
                        gpu_index=g.index,
                        uuid=g.uuid,
                        utilization_percent=min(g.utilization_percent, 100),
                        memory_utilization_percent=min(g.memory_utilization_percent, 100),
                        memory_used_bytes=g.memory_used_bytes,
                        memory_total_bytes=g.memory_total_bytes,
                        power_mw=g.power_mw,
                        energy_mj=g.energy_mj,
                        processes=tuple((p.pid, p.used_memory_bytes) for p in g.processes),
                    )
                    for g in s.gpus
                ),
            )
            for s in report.samples
        ),
        logins=tuple(
            json_format.MessageToDict(login, preserving_proto_field_name=True) for login in report.logins
        ),
        boot_time_us=us(report.boot_time) if report.HasField("boot_time") else None,
        payload=envelope.payload,
        signature=envelope.signature,
        rental_session_id=report.rental_session_id,
        gaps=tuple(_gap_from_proto(gap) for gap in report.gaps),
    )


def live_tick_from_proto(agent_id: str, tick: agent_pb2.LiveTick) -> LiveTick:
    """A live tick as the agent sent it (not signed: collector/sessions/live_ticks.py bounds it)."""
    usage = tick.usage
    return LiveTick(
        agent_id=agent_id,
        session_id=tick.rental_session_id,
        start_us=us(usage.start),
        end_us=us(usage.end),
        cpu_busy_us=usage.cpu_busy_us,
        net_rx_bytes=usage.net_rx_bytes,
        net_tx_bytes=usage.net_tx_bytes,
        memory_used_bytes=usage.memory_used_bytes,
        energy_mj=sum(gpu.energy_mj for gpu in usage.gpus),
        gpu_uuids=tuple(gpu.uuid for gpu in usage.gpus),
    )


def _gap_to_proto(gap: models.ReportGap) -> agent_pb2.ReportGap:
    kinds = {name: kind for kind, name in _GAP_KIND.items()}
    return agent_pb2.ReportGap(
        kind=kinds.get(gap.kind, agent_pb2.ReportGap.KIND_UNSPECIFIED),
        sequence=gap.sequence or 0,
        start=timestamp_us(gap.start_us),
        end=timestamp_us(gap.end_us),
        reason=gap.reason,
    )


def _gap_from_proto(gap: agent_pb2.ReportGap) -> IncomingGap:
    return IncomingGap(
        kind=_GAP_KIND.get(gap.kind, "unspecified"),
        sequence=gap.sequence or None,
        start_us=us(gap.start) if gap.HasField("start") else None,
        end_us=us(gap.end) if gap.HasField("end") else None,
        reason=gap.reason,
    )


def acks_to_proto(acks: list[Ack]) -> agent_pb2.CollectorMessage:
    return agent_pb2.CollectorMessage(
        acks=[
            agent_pb2.ReportAck(sequence=a.sequence, status=_ACK_STATUS[a.status], reason=a.reason)
            for a in acks
        ]
    )


def session_control(
    rental: models.RentalSession, kind: agent_pb2.Control.Kind, message: str = ""
) -> agent_pb2.Control:
    """A SESSION_STARTED / SESSION_STOPPED (or other) control about `rental`."""
    return agent_pb2.Control(
        kind=kind,
        session_id=rental.id,
        renter=rental.renter_id,
        message=message,
        at=timestamp(rental.ended_at or rental.started_at),
    )


def ttl(duration: Any, default: timedelta) -> timedelta:
    if duration.seconds == 0 and duration.nanos == 0:
        return default
    return duration.ToTimedelta()


def machine_to_proto(
    machine: models.Machine, online: bool, gap_count: int = 0, gaps: Sequence[models.ReportGap] = ()
) -> machines_pb2.Machine:
    return machines_pb2.Machine(
        gap_count=gap_count,
        gaps=[_gap_to_proto(gap) for gap in gaps],
        agent_id=machine.agent_id,
        machine_class=machine.machine_class,
        label=machine.label,
        facts=facts_from_dict(machine.facts),
        enrolled_at=timestamp(machine.enrolled_at),
        last_seen=timestamp(machine.last_seen_at),
        last_report_end=timestamp_us(machine.last_report_end_us),
        last_sequence=machine.last_sequence,
        online=online,
        revoked_at=timestamp(machine.revoked_at),
    )


def plan_to_proto(row: models.PricePlan) -> plans_pb2.PricePlan:
    return plans_pb2.PricePlan(
        name=row.name,
        currency=row.currency,
        created_at=timestamp(row.created_at),
        versions=[
            plans_pb2.PlanVersion(
                number=version.number,
                effective_from=timestamp(version.effective_from),
                document=version.document,
                rules=plan_rules(parse_document(version.document)),
                created_at=timestamp(version.created_at),
            )
            for version in row.versions
        ],
    )


def money_from_text(text: str, currency: str) -> billing.Money:
    """A positive amount such as "12.50" in `currency` (a top-up, a credit): at most the currency's
    decimals and the money range's largest amount; InvalidArgument with a sentence otherwise."""
    try:
        return billing.parse_money(text, currency.strip().upper(), "amount")
    except billing.BillingError as exc:
        raise InvalidArgument(str(exc)) from None


def signed_money_from_text(text: str, currency: str) -> billing.Money:
    """An amount such as "12.50" or "-3.00" (an adjustment): money_from_text's rules for its size."""
    negative = text.strip().startswith("-")
    magnitude = text.strip().removeprefix("-") if negative else text
    try:
        zero = not billing.numbers.parse_decimal(magnitude, "amount")
    except billing.BillingError as exc:
        raise InvalidArgument(str(exc)) from None
    if zero:
        raise InvalidArgument("amount: must not be zero (positive credits the wallet, negative debits it)")
    amount = money_from_text(magnitude, currency)
    return billing.Money(-amount.minor, amount.currency) if negative else amount


MAX_RESOURCES = 16
MAX_RESOURCE_NAME = 100


def terms_from_proto(terms: plans_pb2.RentalTerms, machine_class: str = "") -> billing.RentalTerms:
    if len(terms.resources) > MAX_RESOURCES:
        raise InvalidArgument(f"resources: at most {MAX_RESOURCES} of them")
    resources = {}
    for name, quantity in terms.resources.items():
        if not name.strip() or len(name) > MAX_RESOURCE_NAME:
            raise InvalidArgument(f"resources: a name has 1 to {MAX_RESOURCE_NAME} characters")
        try:
            resources[name] = billing.parse_quantity(quantity, f"resource {name}")
        except billing.BillingError as exc:
            raise InvalidArgument(str(exc)) from None
    return billing.RentalTerms(
        machine_class=machine_class or terms.machine_class,
        service_level=terms.service_level,
        member_tier=terms.member_tier,
        coupon=terms.coupon,
        resources=resources,
    )


def terms_to_proto(rental: models.RentalSession) -> plans_pb2.RentalTerms:
    return plans_pb2.RentalTerms(
        machine_class=rental.machine_class,
        service_level=rental.service_level,
        member_tier=rental.member_tier,
        coupon=rental.coupon,
        resources=rental.resources or {},
    )


def session_to_proto(rental: models.RentalSession) -> sessions_pb2.RentalSession:
    state = sessions_pb2.RentalSession.OPEN if rental.ended_at is None else sessions_pb2.RentalSession.STOPPED
    return sessions_pb2.RentalSession(
        session_id=rental.id,
        agent_id=rental.agent_id,
        renter=rental.renter_id,
        plan=rental.plan.name,
        state=state,
        started_at=timestamp(rental.started_at),
        ended_at=timestamp(rental.ended_at),
        cost=money(rental.cost_minor, rental.plan.currency),
        covered_us=rental.covered_us,
        rated_at=timestamp(rental.rated_at),
        terms=terms_to_proto(rental),
    )


def quote_to_proto(
    plan: models.PricePlan | billing.PricePlan,
    machine_class: str,
    start: datetime,
    end: datetime,
    lines: list[billing.InvoiceLine],
) -> plans_pb2.PriceQuote:
    return plans_pb2.PriceQuote(
        plan=plan.name,
        machine_class=machine_class,
        start=timestamp(start),
        end=timestamp(end),
        lines=[
            invoices_pb2.InvoiceLine(
                meter=line.meter,
                description=line.description,
                quantity=billing.plain(line.quantity),
                unit=line.unit,
                rate=format(line.rate, "f"),
                rate_unit=line.rate_unit,
                amount=money(line.amount.minor, line.amount.currency),
            )
            for line in lines
        ],
        total=money(billing.invoice_total(lines, plan.currency).minor, plan.currency),
    )


def explanation_to_proto(x: Explanation) -> sessions_pb2.SessionExplanation:
    currency = x.rental.plan.currency
    lines = billing.build_lines(x.rental.id, x.charges)
    return sessions_pb2.SessionExplanation(
        session=session_to_proto(x.rental),
        plan=x.rental.plan.name,
        machine_class=x.rental.machine_class,
        rules="\n".join(rule for plan in x.plans for rule in plan_rules(plan)),
        covered_us=x.usage.covered_us,
        net_rx_bytes=x.usage.net_rx_bytes,
        net_tx_bytes=x.usage.net_tx_bytes,
        charges=[
            sessions_pb2.ChargeTrace(
                meter=c.meter,
                description=c.description,
                quantity=billing.plain(c.quantity),
                unit=c.unit,
                rate=format(c.rate, "f"),
                rate_unit=c.rate_unit,
                exact_amount=billing.plain(c.amount),
                amount=money(line.amount.minor, currency),
                pieces=[
                    sessions_pb2.ChargePiece(
                        start=timestamp(p.start),
                        end=timestamp(p.end),
                        window=p.window,
                        quantity=billing.plain(p.quantity),
                        exact_amount=billing.plain(p.amount),
                        note=p.note,
                    )
                    for p in c.pieces
                ],
            )
            for c, line in zip(x.charges, lines, strict=True)
        ],
        total=money(billing.invoice_total(lines, currency).minor, currency),
        reports=[
            sessions_pb2.ReportRange(
                first_sequence=r.first_sequence,
                last_sequence=r.last_sequence,
                start=timestamp_us(r.start_us),
                end=timestamp_us(r.end_us),
            )
            for r in x.reports
        ],
        invoiced=[
            sessions_pb2.InvoicedLine(
                invoice_id=invoice.id,
                period_start=timestamp(invoice.period_start),
                period_end=timestamp(invoice.period_end),
                meter=line.meter,
                description=line.description,
                amount=money(line.amount_minor, invoice.currency),
            )
            for invoice, line in x.invoiced
        ],
    )


def _gpu_usage(g: GpuUsage) -> usage_pb2.GpuUsage:
    return usage_pb2.GpuUsage(
        index=g.gpu_index,
        uuid=g.uuid,
        average_utilization_percent=g.average_utilization_percent,
        energy_mj=g.energy_mj,
        peak_memory_used_bytes=g.peak_memory_used_bytes,
    )


def usage_to_proto(summary: UsageSummary) -> usage_pb2.UsageSummary:
    return usage_pb2.UsageSummary(
        agent_id=summary.agent_id,
        start=timestamp_us(summary.start_us),
        end=timestamp_us(summary.end_us),
        covered_us=summary.covered_us,
        cpu_busy_us=summary.cpu_busy_us,
        net_rx_bytes=summary.net_rx_bytes,
        net_tx_bytes=summary.net_tx_bytes,
        disk_read_bytes=summary.disk_read_bytes,
        disk_write_bytes=summary.disk_write_bytes,
        peak_memory_used_bytes=summary.peak_memory_used_bytes,
        sample_count=summary.sample_count,
        gpus=[_gpu_usage(g) for g in summary.gpus],
    )


def usage_series_to_proto(
    agent_id: str, start_us: int, end_us: int, step_us: int, points: Sequence[UsagePoint]
) -> usage_pb2.UsageSeries:
    series = usage_pb2.UsageSeries(
        agent_id=agent_id,
        start=timestamp_us(start_us),
        end=timestamp_us(end_us),
        points=[
            usage_pb2.UsagePoint(
                start=timestamp_us(p.start_us),
                covered_us=p.covered_us,
                cpu_utilization=p.cpu_utilization,
                net_rx_bytes=p.net_rx_bytes,
                net_tx_bytes=p.net_tx_bytes,
                peak_memory_used_bytes=p.peak_memory_used_bytes,
                gpus=[_gpu_usage(g) for g in p.gpus],
            )
            for p in points
        ],
    )
    series.step.FromMicroseconds(step_us)
    return series


def invoice_to_proto(invoice: models.Invoice) -> invoices_pb2.Invoice:
    tax = invoice_tax_minor(invoice)
    return invoices_pb2.Invoice(
        invoice_id=invoice.id,
        number=invoice.number,
        net=money(invoice.total_minor - tax, invoice.currency),
        tax=money(tax, invoice.currency),
        paid_at=timestamp(invoice.paid_at),
        collection_attempts=invoice.collection_attempts,
        next_collection_at=timestamp(invoice.next_collection_at),
        renter=invoice.renter_id,
        currency=invoice.currency,
        period_start=timestamp(invoice.period_start),
        period_end=timestamp(invoice.period_end),
        time_zone=invoice.time_zone,
        issued_at=timestamp(invoice.issued_at),
        total=money(invoice.total_minor, invoice.currency),
        lines=[
            invoices_pb2.InvoiceLine(
                session_id=line.session_id,
                meter=line.meter,
                description=line.description,
                quantity=line.quantity,
                unit=line.unit,
                rate=line.rate,
                rate_unit=line.rate_unit,
                amount=money(line.amount_minor, invoice.currency),
                basis=line.basis,
                covered_us=line.covered_us,
                uncovered_us=line.uncovered_us,
                position=line.position,
            )
            for line in invoice.lines
        ],
    )


def live_cost_to_proto(live: LiveCost) -> sessions_pb2.LiveCost:
    rental, currency = live.rental, live.rental.plan.currency
    state = sessions_pb2.RentalSession.OPEN if rental.ended_at is None else sessions_pb2.RentalSession.STOPPED
    message = sessions_pb2.LiveCost(
        session_id=rental.id,
        state=state,
        cost=money(live.estimated_minor, currency),
        rated_cost=money(rental.cost_minor, currency),
        rate_per_hour=money(live.rate_per_hour_minor, currency),
        prepaid=live.prepaid,
        covered_us=rental.covered_us,
        at=timestamp(live.at),
        provisional=money(live.provisional_minor, currency),
    )
    if live.prepaid:
        message.balance.CopyFrom(money(live.spendable_minor, currency))
    if live.time_left is not None:
        message.time_left.FromTimedelta(live.time_left)
    if live.burn is not None:
        message.burn_rate_per_hour.CopyFrom(money(live.burn_rate_minor, currency))
    if live.runs_out_at is not None:
        message.balance_runs_out_at.FromDatetime(live.runs_out_at.astimezone(UTC))
    if live.pack_left is not None:
        message.pack_time_left.FromTimedelta(max(live.pack_left, timedelta(0)))
    if live.lasts is not None:
        message.balance_lasts.FromTimedelta(live.lasts)
    return message


def wallet_to_proto(
    renter: models.Renter, state: WalletState, spendable: int, entries: list[tuple[Any, Any]]
) -> wallets_pb2.Wallet:
    return wallets_pb2.Wallet(
        renter=renter.id,
        prepaid=renter.prepaid,
        balance=money(state.balance_minor, state.currency),
        held=money(state.held_minor, state.currency),
        spendable=money(spendable, state.currency),
        entries=[
            wallets_pb2.LedgerEntry(
                transaction_id=transaction.id,
                kind=transaction.kind,
                reference=transaction.reference,
                account=entry.account,
                amount=money(entry.amount_minor, entry.currency),
                at=timestamp(transaction.created_at),
            )
            for transaction, entry in entries
        ],
    )


def ledger_check_to_proto(check: LedgerCheck) -> wallets_pb2.LedgerCheck:
    return wallets_pb2.LedgerCheck(
        balanced=check.balanced,
        transactions=check.transactions,
        entries=check.entries,
        debits=[money(minor, currency) for currency, minor in sorted(check.debits_minor.items())],
        credits=[money(minor, currency) for currency, minor in sorted(check.credits_minor.items())],
        unbalanced_transactions=check.unbalanced,
    )


def renter_to_proto(renter: models.Renter) -> renters_pb2.Renter:
    return renters_pb2.Renter(
        renter=renter.id,
        prepaid=renter.prepaid,
        billing_cycle=renter.billing_cycle,
        cycle_anchor=timestamp(renter.cycle_anchor or renter.created_at),
        invoiced_until=timestamp(renter.invoiced_until),
        next_invoice_at=timestamp(renter.next_invoice_at),
        email=renter.email,
        created_at=timestamp(renter.created_at),
        payment_method=renter.payment_method,
        payment_customer=renter.payment_customer,
        time_zone=renter.time_zone,
    )


def credit_note_to_proto(note: models.CreditNote) -> invoices_pb2.CreditNote:
    return invoices_pb2.CreditNote(
        credit_note_id=note.id,
        number=note.number,
        invoice_id=note.invoice_id,
        renter=note.renter_id,
        amount=money(note.amount_minor, note.currency),
        tax=money(note.tax_minor, note.currency),
        reason=note.reason,
        issued_at=timestamp(note.issued_at),
    )


def api_token_to_proto(row: models.ApiToken) -> access_pb2.ApiToken:
    return access_pb2.ApiToken(
        id=row.id,
        role=row.role,
        subject=row.subject,
        label=row.label,
        created_at=timestamp(row.created_at),
        revoked_at=timestamp(row.revoked_at),
    )


def job_state_to_proto(state: JobState) -> jobs_pb2.JobState:
    return jobs_pb2.JobState(
        name=state.name,
        interval_seconds=state.interval.total_seconds(),
        runs=state.runs,
        last_started=timestamp(state.last_started),
        last_finished=timestamp(state.last_finished),
        last_duration_seconds=state.last_duration_s,
        processed=state.processed,
        failed=state.failed,
        deferred=state.deferred,
        error=state.error,
    )


def job_failure_to_proto(row: models.JobFailure) -> jobs_pb2.JobFailure:
    return jobs_pb2.JobFailure(
        job=row.job,
        subject=row.subject,
        attempts=row.attempts,
        first_failed=timestamp(row.first_failed_at),
        last_failed=timestamp(row.last_failed_at),
        retry_at=timestamp(row.retry_at),
        error=row.error,
        error_id=row.error_id,
    )


def account_to_proto(account: models.Account) -> accounts_pb2.Account:
    return accounts_pb2.Account(
        name=account.name,
        role=account.role,
        subject=account.subject,
        display_name=account.display_name,
        email=account.email,
        locale=account.locale,
        time_zone=account.time_zone,
        disabled=account.disabled,
        created_at=timestamp(account.created_at),
        last_login_at=timestamp(account.last_login_at),
    )


def login_to_proto(token: str, row: models.ApiToken, account: models.Account) -> accounts_pb2.LoginResponse:
    return accounts_pb2.LoginResponse(
        token=token, expires_at=timestamp(row.expires_at), account=account_to_proto(account)
    )


def fleet_to_proto(view: Fleet) -> fleet_pb2.Fleet:
    machines = []
    for m in view.machines:
        entry = fleet_pb2.FleetMachine(
            machine=machine_to_proto(m.machine, m.online, m.gap_count),
            cpu_utilization=m.cpu_utilization,
            gpu_utilization_percent=list(m.gpu_utilization_percent),
        )
        if m.rental is not None:
            entry.session_id, entry.renter = m.rental.id, m.rental.renter_id
            entry.rate_per_hour.CopyFrom(money(m.rate_per_hour_minor, m.rental.currency))
        machines.append(entry)
    return fleet_pb2.Fleet(
        machines=machines,
        classes=[
            fleet_pb2.ClassCount(
                machine_class=name, online=c.online, offline=c.offline, rented=c.rented, revoked=c.revoked
            )
            for name, c in view.classes.items()
        ],
        revenue_per_hour=[money(minor, currency) for currency, minor in view.revenue_per_hour_minor.items()],
        at=timestamp(view.at),
    )


def earnings_to_proto(rows: Sequence[EarningsRow]) -> fleet_pb2.Earnings:
    totals: dict[str, int] = {}
    for row in rows:
        totals[row.currency] = totals.get(row.currency, 0) + row.invoiced_minor + row.uninvoiced_minor
    return fleet_pb2.Earnings(
        rows=[
            fleet_pb2.EarningsRow(
                agent_id=row.agent_id,
                period_start=timestamp(row.period_start),
                currency=row.currency,
                invoiced=money(row.invoiced_minor, row.currency),
                uninvoiced=money(row.uninvoiced_minor, row.currency),
                sessions=row.sessions,
                rented_seconds=row.rented_us / 1e6,
            )
            for row in rows
        ],
        totals=[money(minor, currency) for currency, minor in sorted(totals.items())],
    )


def alert_to_proto(alert: Alert) -> fleet_pb2.Alert:
    return fleet_pb2.Alert(
        kind=alert.kind,
        subject=alert.subject,
        message=alert.message,
        since=timestamp(alert.since),
        count=alert.count,
    )


def audit_entry_to_proto(entry: models.AuditEntry) -> audit_pb2.AuditEntry:
    return audit_pb2.AuditEntry(
        id=entry.id,
        at=timestamp(entry.at),
        actor=entry.actor,
        action=entry.action,
        details=entry.details,
        hash=entry.hash,
    )


def verification_to_proto(result: Verification) -> audit_pb2.AuditVerification:
    return audit_pb2.AuditVerification(
        intact=result.intact, entries=result.entries, broken_at=result.broken_at or 0, reason=result.reason
    )


def payment_to_proto(payment: models.Payment, invoice_number: str | None) -> invoices_pb2.Payment:
    return invoices_pb2.Payment(
        invoice_id=payment.invoice_id or "",
        invoice_number=invoice_number or "",
        renter=payment.renter_id,
        provider=payment.provider,
        amount=money(payment.amount_minor, payment.currency),
        succeeded=payment.succeeded,
        reference=payment.reference,
        error=payment.error,
        at=timestamp(payment.created_at),
    )


def schedule_to_proto(schedule: Schedule) -> pricing_pb2.PriceSchedule:
    return pricing_pb2.PriceSchedule(
        plan=schedule.plan,
        currency=schedule.currency,
        machine_class=schedule.machine_class,
        locked_for=schedule.locked_for,
        steps=[
            pricing_pb2.PriceStep(
                starts_at=timestamp(step.starts_at),
                ends_at=timestamp(step.ends_at),
                multiplier=str(step.multiplier),
                expected_occupancy=billing.plain(step.occupancy),
                price_per_hour=billing.plain(step.price_per_hour),
            )
            for step in schedule.steps
        ],
    )
