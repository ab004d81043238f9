"""The admin commands: each talks to the collector over gRPC and prints what it answers."""

from __future__ import annotations

import argparse
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

        client = AdminClient.connect(args.collector)
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

    plan = _plan_from_file(args) if args.file else _plan_from_flags(args)
    render.plans([client.plans.CreatePlan(plans_pb2.CreatePlanRequest(plan=plan), timeout=30)])


def _plan_from_flags(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from collector.config import SettingsError, parse_duration
    from protos.rentmeter.v1 import plans_pb2

    if not (args.name and args.currency and args.hourly):
        raise UsageError("plan create needs NAME, --currency and --hourly CLASS=PRICE (or --file)")
    rates = {}
    for item in args.hourly:
        machine_class, sep, price = item.partition("=")
        if not sep or not machine_class or not price:
            raise UsageError(f"--hourly takes CLASS=PRICE, e.g. standard=1.20, not {item!r}")
        rates[machine_class] = price
    plan = plans_pb2.PricePlan(
        name=args.name,
        currency=args.currency,
        hourly_rates=rates,
        traffic_in_per_gb=args.traffic_in or "0",
        traffic_out_per_gb=args.traffic_out or "0",
    )
    for flag in ("increment", "minimum"):
        if getattr(args, flag):
            try:
                getattr(plan, flag).FromTimedelta(parse_duration(getattr(args, flag), flag))
            except SettingsError as exc:
                raise UsageError(str(exc)) from None
    return plan


def _plan_from_file(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from datetime import timedelta
    from pathlib import Path

    from billing.plan_file import PlanFileError, parse_plan
    from protos.rentmeter.v1 import plans_pb2

    flags = (args.currency, args.hourly, args.traffic_in, args.traffic_out, args.increment, args.minimum)
    if any(flags):
        raise UsageError("give the plan either as --file or as flags, not both")
    try:
        parsed = parse_plan(Path(args.file).read_text(), args.file)
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
    except PlanFileError as exc:
        raise UsageError(str(exc)) from None
    if args.name and args.name != parsed.name:
        raise UsageError(f"{args.file} describes plan {parsed.name!r}, not {args.name!r}")
    plan = plans_pb2.PricePlan(
        name=parsed.name,
        currency=parsed.currency,
        hourly_rates={cls: str(rate) for cls, rate in parsed.hourly_rates.items()},
        traffic_in_per_gb=str(parsed.traffic_in_per_gb),
        traffic_out_per_gb=str(parsed.traffic_out_per_gb),
    )
    if parsed.increment_us > 1:
        plan.increment.FromTimedelta(timedelta(microseconds=parsed.increment_us))
    if parsed.minimum_us:
        plan.minimum.FromTimedelta(timedelta(microseconds=parsed.minimum_us))
    return plan


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

    request = sessions_pb2.StartSessionRequest(agent_id=args.machine, renter=args.renter, plan=args.plan)
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
    if rx < 0 or tx < 0:
        raise UsageError("expected traffic cannot be negative")
    request = plans_pb2.QuoteRequest(
        plan=args.plan, machine_class=args.machine_class, duration=duration, expected_rx_bytes=rx,
        expected_tx_bytes=tx,
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
