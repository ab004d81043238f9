"""The admin commands: each talks to the collector over gRPC and prints what it answers."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from rentmeter.errors import EXIT_REFUSED, UsageError


def _timestamp(moment: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(moment)
    return ts


def with_client(action: Callable[..., int | None]) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        from rentmeter.client import AdminClient

        client = AdminClient.connect(args.collector, args.api_token)
        try:
            return int(action(client, args) or 0)
        finally:
            client.close()

    return handler


@with_client
def token_create(client, args) -> None:  # type: ignore[no-untyped-def]
    from collector.config import SettingsError, parse_duration
    from protos.rentmeter.v1 import machines_pb2

    try:
        ttl = Duration()
        ttl.FromTimedelta(parse_duration(args.ttl, "ttl"))
    except SettingsError as exc:
        raise UsageError(f"{exc}") from None
    request = machines_pb2.CreateEnrollmentTokenRequest(
        machine_class=args.machine_class, ttl=ttl, label=args.label
    )
    response = client.machines.CreateEnrollmentToken(request, timeout=30)
    print(response.token)
    print(f"valid once, until {response.expires_at.ToDatetime(tzinfo=UTC).isoformat()}", file=sys.stderr)


@with_client
def machines_list(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import machines_pb2
    from rentmeter import render

    render.machines(
        list(client.machines.ListMachines(machines_pb2.ListMachinesRequest(), timeout=30).machines)
    )


@with_client
def machines_show(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import machines_pb2
    from rentmeter import render

    render.machine(
        client.machines.GetMachine(machines_pb2.GetMachineRequest(agent_id=args.agent_id), timeout=30)
    )


@with_client
def machines_lock(client, args) -> int:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import agent_pb2, machines_pb2

    request = machines_pb2.SendControlRequest(
        agent_id=args.agent_id, kind=agent_pb2.Control.LOCK_NOW, message=args.message
    )
    delivered = client.machines.SendControl(request, timeout=30).delivered
    if not delivered:
        print(f"machine {args.agent_id} is not connected now; nothing was sent", file=sys.stderr)
        return EXIT_REFUSED
    print(f"lock-now sent to {args.agent_id}; its host's configured action runs there")
    return 0


@with_client
def plan_create(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import plans_pb2
    from rentmeter import render

    document = _document_from_file(args) if args.file else _document_from_flags(args)
    render.plans([client.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=document), timeout=30)])


@with_client
def plan_add_version(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import plans_pb2
    from rentmeter import render

    document = _read_document(args.file, args.name)
    request = plans_pb2.AddPlanVersionRequest(name=args.name, document=document)
    render.plans([client.plans.AddPlanVersion(request, timeout=30)])


def _document_from_flags(args: argparse.Namespace) -> str:
    from billing.durations import parse_duration_us
    from billing.plan_file import PlanFileError, parse_plan, simple_document

    if not (args.name and args.currency and args.hourly):
        raise UsageError("plan create needs NAME, --currency and --hourly CLASS=PRICE (or --file)")
    rates = dict(_pairs(args.hourly, "--hourly", "CLASS=PRICE, e.g. standard=1.20"))
    for flag in ("increment", "minimum"):
        if getattr(args, flag):
            try:
                parse_duration_us(getattr(args, flag))
            except ValueError as exc:
                raise UsageError(f"--{flag}: {exc}") from None
    document = simple_document(
        args.name, args.currency, rates, args.traffic_in or "", args.traffic_out or "",
        increment=args.increment or "", minimum=args.minimum or "",
    )  # fmt: skip
    try:
        parse_plan(document, "flags")
    except PlanFileError as exc:
        raise UsageError(re.sub(r"^flags:(\d+:)? ", "", str(exc))) from None
    return document


def _document_from_file(args: argparse.Namespace) -> str:
    flags = (args.currency, args.hourly, args.traffic_in, args.traffic_out, args.increment, args.minimum)
    if any(flags):
        raise UsageError("give the plan either as --file or as flags, not both")
    return _read_document(args.file, args.name)


def _read_document(path: str, name: str | None) -> str:
    """The plan document in `path`, checked here first so that errors name the file's lines."""
    from pathlib import Path

    from billing.plan_file import PlanFileError, parse_plan

    try:
        document = Path(path).read_text()
        parsed = parse_plan(document, path)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    except PlanFileError as exc:
        raise UsageError(str(exc)) from None
    if name and name != parsed.name:
        raise UsageError(f"{path} describes plan {parsed.name!r}, not {name!r}")
    return document


def _pairs(items: list[str], flag: str, example: str) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise UsageError(f"{flag} takes {example}, not {item!r}")
        pairs.append((key.strip(), value.strip()))
    return pairs


def _terms(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import plans_pb2

    return plans_pb2.RentalTerms(
        machine_class=getattr(args, "machine_class", "") or "",
        service_level=args.service_level or "",
        member_tier=args.member_tier or "",
        coupon=args.coupon or "",
        resources=dict(_pairs(args.resource, "--resource", "NAME=QUANTITY, e.g. storage=500")),
    )


@with_client
def plan_show(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import plans_pb2
    from rentmeter import render

    render.plans([client.plans.GetPlan(plans_pb2.GetPlanRequest(name=args.name), timeout=30)])


@with_client
def plan_list(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import plans_pb2
    from rentmeter import render

    render.plans(list(client.plans.ListPlans(plans_pb2.ListPlansRequest(), timeout=30).plans))


@with_client
def session_start(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import sessions_pb2
    from rentmeter import render

    request = sessions_pb2.StartSessionRequest(
        agent_id=args.machine, renter=args.renter, plan=args.plan, terms=_terms(args)
    )
    render.sessions([client.sessions.StartSession(request, timeout=30)])


@with_client
def session_stop(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import sessions_pb2
    from rentmeter import render

    render.sessions(
        [client.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=args.session_id), timeout=30)]
    )


@with_client
def session_show(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import sessions_pb2
    from rentmeter import render

    render.sessions(
        [client.sessions.GetSession(sessions_pb2.GetSessionRequest(session_id=args.session_id), timeout=30)]
    )


@with_client
def session_list(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import sessions_pb2
    from rentmeter import render

    request = sessions_pb2.ListSessionsRequest(renter=args.renter, agent_id=args.machine, open_only=args.open)
    render.sessions(list(client.sessions.ListSessions(request, timeout=30).sessions))


@with_client
def usage(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import usage_pb2
    from rentmeter import render

    request = usage_pb2.GetUsageRequest()
    if args.machine:
        request.agent_id = args.machine
    else:
        request.session_id = args.session
    if args.start:
        request.start.CopyFrom(_timestamp(args.start))
    if args.end:
        request.end.CopyFrom(_timestamp(args.end))
    render.usage(client.usage.GetUsage(request, timeout=30))


@with_client
def explain(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import sessions_pb2
    from rentmeter import render

    request = sessions_pb2.GetSessionRequest(session_id=args.session_id)
    render.explanation(client.sessions.ExplainSession(request, timeout=30))


@with_client
def quote(client, args) -> None:  # type: ignore[no-untyped-def]
    from decimal import Decimal, InvalidOperation

    from collector.config import SettingsError, parse_duration
    from protos.rentmeter.v1 import plans_pb2
    from rentmeter import render

    try:
        duration = Duration()
        duration.FromTimedelta(parse_duration(args.duration, "duration"))
        rx, tx = (int(Decimal(str(gb)) * 10**9) for gb in (args.traffic_in, args.traffic_out))
    except (SettingsError, InvalidOperation) as exc:
        raise UsageError(str(exc)) from None
    if rx < 0 or tx < 0 or args.busy_cores < 0 or args.memory_gb < 0:
        raise UsageError("expected usage cannot be negative")
    gpus = {}
    for model, count in _pairs(args.gpu, "--gpu", "MODEL=COUNT, e.g. A100=2"):
        if not count.isdigit():
            raise UsageError(f"--gpu {model}: the count must be a whole number, not {count!r}")
        gpus[model] = int(count)
    request = plans_pb2.QuoteRequest(
        plan=args.plan, machine_class=args.machine_class, duration=duration, expected_rx_bytes=rx,
        expected_tx_bytes=tx, terms=_terms(args), expected_busy_cores=args.busy_cores,
        expected_memory_bytes=int(Decimal(str(args.memory_gb)) * 10**9), gpus=gpus,
    )  # fmt: skip
    if args.start:
        request.start.CopyFrom(_timestamp(args.start))
    render.quote(client.plans.Quote(request, timeout=30))


@with_client
def invoice_list(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import invoices_pb2
    from rentmeter import render

    render.invoices(
        list(
            client.invoices.ListInvoices(
                invoices_pb2.ListInvoicesRequest(renter=args.renter), timeout=30
            ).invoices
        )
    )


@with_client
def invoice_show(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import invoices_pb2
    from rentmeter import render

    render.invoice(
        client.invoices.GetInvoice(invoices_pb2.GetInvoiceRequest(invoice_id=args.invoice_id), timeout=30)
    )


@with_client
def invoice_close(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import invoices_pb2
    from rentmeter import render

    request = invoices_pb2.CloseInvoicesRequest(renter=args.renter, invoice_now=args.now)
    invoices = list(client.invoices.CloseInvoices(request, timeout=60).invoices)
    if not invoices:
        print("no billing period was due")
    for invoice in invoices:
        render.invoice(invoice)


@with_client
def wallet_topup(client, args) -> None:  # type: ignore[no-untyped-def]
    import secrets

    from protos.rentmeter.v1 import wallets_pb2
    from rentmeter import render

    request = wallets_pb2.TopUpRequest(
        renter=args.renter, amount=args.amount, currency=args.currency,
        idempotency_key=args.key or f"cli-{secrets.token_hex(12)}",
    )  # fmt: skip
    render.wallet(client.wallets.TopUp(request, timeout=30))


@with_client
def wallet_show(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import wallets_pb2
    from rentmeter import render

    request = wallets_pb2.GetWalletRequest(renter=args.renter, currency=args.currency)
    render.wallet(client.wallets.GetWallet(request, timeout=30))


@with_client
def ledger_check(client, args) -> int:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import wallets_pb2
    from rentmeter import render

    check = client.wallets.CheckLedger(wallets_pb2.CheckLedgerRequest(), timeout=60)
    render.ledger_check(check)
    return 0 if check.balanced else 1


@with_client
def watch(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import sessions_pb2
    from rentmeter import render

    render.watch(client.sessions.WatchSession(sessions_pb2.GetSessionRequest(session_id=args.session_id)))


@with_client
def invoice_export(client, args) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from protos.rentmeter.v1 import invoices_pb2

    request = invoices_pb2.RenderInvoiceRequest(invoice_id=args.invoice_id, format=args.format)
    document = client.invoices.RenderInvoice(request, timeout=60)
    target = Path(args.output or document.filename)
    try:
        target.write_bytes(document.content)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror}") from None
    print(f"{target} ({len(document.content)} bytes, {document.content_type})")


@with_client
def renter_show(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import renters_pb2
    from rentmeter import render

    render.renter(client.renters.GetRenter(renters_pb2.GetRenterRequest(renter=args.renter), timeout=30))


@with_client
def renter_set(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import renters_pb2
    from rentmeter import render

    request = renters_pb2.UpdateRenterRequest(renter=args.renter)
    if args.cycle is not None:
        request.billing_cycle = "" if args.cycle == "default" else args.cycle
    if args.anchor is not None:
        request.cycle_anchor.CopyFrom(_timestamp(args.anchor))
    if args.email is not None:
        request.email = args.email
    if args.payment_method is not None:
        request.payment_method = "" if args.payment_method == "transfer" else args.payment_method
    if args.customer is not None:
        request.payment_customer = args.customer
    if args.source is not None:
        request.payment_source = args.source
    render.renter(client.renters.UpdateRenter(request, timeout=30))


@with_client
def invoice_pay(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import invoices_pb2
    from rentmeter import render

    request = invoices_pb2.PayInvoiceRequest(invoice_id=args.invoice_id, reference=args.reference)
    render.invoice(client.invoices.PayInvoice(request, timeout=30))


@with_client
def invoice_credit(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import invoices_pb2

    request = invoices_pb2.CreditInvoiceRequest(
        invoice_id=args.invoice_id, amount=args.amount, reason=args.reason
    )
    note = client.invoices.CreditInvoice(request, timeout=30)
    print(f"credit note {note.number} for {note.invoice_id}: {note.amount.display} (tax {note.tax.display})")


@with_client
def machines_revoke(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import machines_pb2
    from rentmeter import render

    request = machines_pb2.RevokeMachineRequest(agent_id=args.agent_id, reason=args.reason)
    render.machine(client.machines.RevokeMachine(request, timeout=30))


@with_client
def access_create(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import access_pb2

    request = access_pb2.CreateApiTokenRequest(role=args.role, subject=args.subject, label=args.label)
    print(client.access.CreateApiToken(request, timeout=30).token)


@with_client
def access_list(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import access_pb2
    from rentmeter import render

    render.api_tokens(list(client.access.ListApiTokens(access_pb2.ListApiTokensRequest(), timeout=30).tokens))


@with_client
def access_revoke(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import access_pb2
    from rentmeter import render

    render.api_tokens(
        [client.access.RevokeApiToken(access_pb2.RevokeApiTokenRequest(id=args.id), timeout=30)]
    )


@with_client
def renter_export(client, args) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from protos.rentmeter.v1 import renters_pb2

    document = client.renters.ExportRenter(renters_pb2.GetRenterRequest(renter=args.renter), timeout=60).json
    if args.output:
        Path(args.output).write_text(document + "\n")
    else:
        print(document)


@with_client
def renter_erase(client, args) -> None:  # type: ignore[no-untyped-def]
    from protos.rentmeter.v1 import renters_pb2

    erased = client.renters.EraseRenter(renters_pb2.GetRenterRequest(renter=args.renter), timeout=60)
    print(f"renter {args.renter} erased; login names removed from {erased.reports_cleared} reports")
