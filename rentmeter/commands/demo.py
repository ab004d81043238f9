"""`rentmeter demo`: a collector on embedded SQLite, this machine's agent, a rental billed live, and the web
portal with sign-ins for a renter, a host and the provider.

Everything talks over real gRPC on 127.0.0.1: the collector runs on its own event loop thread, the agent
and the portal on their own threads, and this module drives them as an admin would.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, cast

from rentmeter import numbers
from rentmeter.commands.remote import Commands

if TYPE_CHECKING:
    from pathlib import Path

    from portal.server import RunningPortal
    from protos.rentmeter.v1 import plans_pb2
    from rentmeter.client import AdminClient

DEMO_PLAN_NAME = "demo"
RENTER = "demo-renter"
HOST = "demo-host"
# The portal's demo sign-ins: name, role, subject (the renter id or host the account acts for).
SIGN_INS = ((RENTER, "renter", RENTER), (HOST, "host", HOST), ("demo-provider", "admin", ""))


def register(commands: Commands) -> None:
    demo = commands.add_parser(
        "demo", help="run a collector, an agent and a live-billed rental on this machine"
    )
    demo.add_argument(
        "--duration", type=numbers.seconds, default=None, help="seconds to rent (default: until Ctrl-C)"
    )
    demo.add_argument("--data-dir", default=None, help="keep the demo's database and agent state here")
    demo.add_argument(
        "--portal-listen", default="127.0.0.1:8080",
        help="HOST:PORT of the web portal (default 127.0.0.1:8080; a free port when it is taken)",
    )  # fmt: skip
    demo.set_defaults(handler=demo_command)


def demo_command(args: argparse.Namespace) -> int:
    import shutil
    import tempfile
    from pathlib import Path

    if args.data_dir:
        return run_demo(args.duration, Path(args.data_dir), args.portal_listen)
    workdir = Path(tempfile.mkdtemp(prefix="rentmeter-demo-"))
    try:
        return run_demo(args.duration, workdir, args.portal_listen)
    finally:  # also after Ctrl-C
        shutil.rmtree(workdir, ignore_errors=True)


def run_demo(duration: float | None, workdir: Path, portal_listen: str = "127.0.0.1:0") -> int:
    """The demo with its database and the agent's state in `workdir`."""
    from datetime import UTC, datetime, timedelta

    from agent.config import AgentSettings
    from collector.accounts.tokens import create_api_token
    from collector.config import CollectorSettings
    from protos.rentmeter.v1 import invoices_pb2, machines_pb2, sessions_pb2
    from rentmeter.client import AdminClient
    from rentmeter.commands.invoices import render_invoice
    from rentmeter.commands.machines import render_machine
    from rentmeter.commands.plans import render_plans
    from rentmeter.embedded import running_agent, running_collector
    from rentmeter.output import console

    workdir.mkdir(parents=True, exist_ok=True)
    settings = CollectorSettings(
        listen="127.0.0.1:0",
        db_url=f"sqlite:///{workdir / 'collector.db'}",
        rating_interval=timedelta(seconds=1),
        invoice_period=timedelta(minutes=5),
        invoice_grace=timedelta(seconds=3),
    )
    console.print(f"[bold]rentmeter demo[/bold]: data in {workdir}")
    with running_collector(settings) as collector:
        target = f"127.0.0.1:{collector.port}"
        admin = collector.database.call(create_api_token, "admin", "", "demo", datetime.now(UTC))
        client = AdminClient.connect(target, admin)
        console.print(f"collector listening on {target} (SQLite {workdir / 'collector.db'})")
        passwords = _sign_ins(client)
        enroller = _signed_in_client(target, HOST, passwords[HOST]) if HOST in passwords else client
        token = enroller.machines.CreateEnrollmentToken(
            machines_pb2.CreateEnrollmentTokenRequest(machine_class="standard", label="demo machine"),
            timeout=30,
        ).token
        agent_settings = AgentSettings(
            collector=target, state_dir=workdir / "agent", interval=1.0, report_every=1.0, token=token
        )
        with running_agent(agent_settings) as agent, _running_portal(target, portal_listen) as portal:
            _print_sign_ins(portal.url, passwords)
            agent_id = agent.identity.agent_id
            render_machine(
                client.machines.GetMachine(machines_pb2.GetMachineRequest(agent_id=agent_id), timeout=30)
            )
            render_plans([_ensure_plan(client)])
            rental = client.sessions.StartSession(
                sessions_pb2.StartSessionRequest(agent_id=agent_id, renter=RENTER, plan=DEMO_PLAN_NAME),
                timeout=30,
            )
            console.print(f"session {rental.session_id} started for {RENTER}; Ctrl-C stops it")
            _watch(client, rental.session_id, duration)
            stopped = client.sessions.StopSession(
                sessions_pb2.StopSessionRequest(session_id=rental.session_id), timeout=30
            )
            _wait_for_reports(client, agent_id, stopped.ended_at.ToNanoseconds())
        invoices = client.invoices.CloseInvoices(
            invoices_pb2.CloseInvoicesRequest(renter=RENTER, invoice_now=True), timeout=60
        ).invoices
        for invoice in client.invoices.ListInvoices(invoices_pb2.ListInvoicesRequest(renter=RENTER)).invoices:
            render_invoice(invoice)
        console.print(f"{len(invoices)} invoice(s) closed at the end of the session")
        client.close()
    return 0


def _sign_ins(client: AdminClient) -> dict[str, str]:
    """The demo's accounts (SIGN_INS), each with a new random password: name -> password. Empty when the
    collector has no AccountService."""
    import secrets

    import grpc

    from protos.rentmeter.v1 import accounts_pb2, accounts_pb2_grpc

    accounts = accounts_pb2_grpc.AccountServiceStub(client.channel)
    passwords = {}
    for name, role, subject in SIGN_INS:
        password = secrets.token_urlsafe(9)
        try:
            accounts.CreateAccount(
                accounts_pb2.CreateAccountRequest(name=name, role=role, subject=subject, password=password),
                timeout=30,
            )
        except grpc.RpcError as exc:
            code = cast(grpc.Call, exc).code()  # a failed call's error is also its grpc.Call
            if code == grpc.StatusCode.UNIMPLEMENTED:
                return {}
            if code != grpc.StatusCode.ALREADY_EXISTS:  # kept from an earlier demo (--data-dir)
                raise
            accounts.SetPassword(accounts_pb2.SetPasswordRequest(name=name, password=password), timeout=30)
        passwords[name] = password
    return passwords


def _signed_in_client(target: str, name: str, password: str) -> AdminClient:
    """A client with the token that signing in as `name` gives (the host enrolls the demo machine)."""
    from protos.rentmeter.v1 import accounts_pb2, accounts_pb2_grpc
    from rentmeter.client import AdminClient

    anonymous = AdminClient.connect(target)
    login = accounts_pb2_grpc.AccountServiceStub(anonymous.channel).Login(
        accounts_pb2.LoginRequest(name=name, password=password), timeout=30
    )
    anonymous.close()
    return AdminClient.connect(target, login.token)


@contextmanager
def _running_portal(collector: str, listen: str) -> Iterator[RunningPortal]:
    """The portal on `listen`, or on any free port when that one is taken; a fresh secret per demo."""
    import secrets

    from portal.errors import SettingsError
    from portal.server import running_portal
    from portal.settings import PortalSettings

    host = listen.rpartition(":")[0] or "127.0.0.1"
    with ExitStack() as stack:
        for address in (listen, f"{host}:0"):
            settings = PortalSettings(
                collector=collector, secret_key=secrets.token_urlsafe(32), listen=address
            )
            try:
                portal = stack.enter_context(running_portal(settings))
                break
            except SettingsError:
                if address.endswith(":0"):
                    raise
        yield portal


def _print_sign_ins(url: str, passwords: dict[str, str]) -> None:
    from rentmeter.output import console

    console.print(f"[bold]portal[/bold]: open {url} in a browser")
    if not passwords:
        console.print("  (this collector has no AccountService: the portal has no sign-ins yet)")
    for name, role, _ in SIGN_INS:
        if name in passwords:
            who = "the provider" if role == "admin" else f"a {role}"
            console.print(f"  sign in as {name:<14} password {passwords[name]}   ({who})")


def _ensure_plan(client: AdminClient) -> plans_pb2.PricePlan:
    import billing
    from protos.rentmeter.v1 import plans_pb2

    existing = {p.name: p for p in client.plans.ListPlans(plans_pb2.ListPlansRequest(), timeout=30).plans}
    if DEMO_PLAN_NAME in existing:
        return existing[DEMO_PLAN_NAME]
    document = billing.simple_document(DEMO_PLAN_NAME, "EUR", {"standard": "36.00"}, "0.05", "0.09")
    return client.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=document), timeout=30)


def _watch(client: AdminClient, session_id: str, duration: float | None) -> None:
    """Print the running cost every second until `duration` passes or Ctrl-C."""
    from protos.rentmeter.v1 import sessions_pb2
    from rentmeter.output import console

    deadline = time.monotonic() + duration if duration is not None else None
    try:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(1)
            s = client.sessions.GetSession(sessions_pb2.GetSessionRequest(session_id=session_id), timeout=30)
            console.print(
                f"  {time.strftime('%H:%M:%S')}  covered {s.covered_us / 1e6:7.1f} s   cost {s.cost.display}"
            )
    except KeyboardInterrupt:
        console.print("stopping the session")


def _wait_for_reports(client: AdminClient, agent_id: str, until_ns: int, timeout: float = 10.0) -> None:
    """Give the agent time to deliver the reports that cover the session's last seconds."""
    from protos.rentmeter.v1 import machines_pb2

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        machine = client.machines.GetMachine(machines_pb2.GetMachineRequest(agent_id=agent_id), timeout=30)
        if machine.last_report_end.ToNanoseconds() >= until_ns:
            return
        time.sleep(0.2)
