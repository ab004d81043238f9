"""The host's pages against a real collector: machines enrolled with the host's own enrollment token, a real
rental on them, signed reports; what the pages show equals what the API answers; locking and revoking take
effect in the collector; another host's machines are 404 (also by guessing)."""

from __future__ import annotations

import dataclasses
import re
import time
from datetime import UTC, datetime

import grpc
import httpx
import pytest

from agent.identity import Identity, public_key_bytes
from agent.spool import Gap
from agent.wire import build_report, sample_to_proto, sign_report
from collector.metering.enrollment import enroll
from collector.server import Collector
from portal.server import RunningPortal, running_portal
from portal.settings import PortalSettings
from protos.rentmeter.v1 import (
    accounts_pb2,
    agent_pb2_grpc,
    fleet_pb2,
    invoices_pb2,
    machines_pb2,
    machines_pb2_grpc,
    sessions_pb2,
)
from rentmeter.client import AdminClient
from tests.collector.helpers import new_identity, sample, signed
from tests.portal.browsing import wait_for
from tests.portal.conftest import (
    PASSWORD,
    SignIn,
    admin_accounts,
    api_token,
    client,
    csrf_of,
    open_rental,
    report_usage,
    sign_in_through_page,
)


def host_token(collector: Collector, host: str, machine_class: str = "standard", label: str = "") -> str:
    """An enrollment token made by `host` through MachineService (so that machines enrolled with it are
    the host's)."""
    metadata = (("authorization", f"Bearer {api_token(collector, 'host', host)}"),)
    with grpc.insecure_channel(f"127.0.0.1:{collector.port}") as channel:
        request = machines_pb2.CreateEnrollmentTokenRequest(machine_class=machine_class, label=label)
        answer = machines_pb2_grpc.MachineServiceStub(channel).CreateEnrollmentToken(
            request, metadata=metadata
        )
    return str(answer.token)


def hosts_machine(collector: Collector, host: str, label: str = "") -> Identity:
    """A machine of class standard enrolled with `host`'s token (no agent runs on it)."""
    owner = new_identity()
    row = collector.database.call(
        enroll,
        token=host_token(collector, host, label=label),
        public_key=public_key_bytes(owner.key),
        facts={},
        now=datetime.now(UTC),
    )
    return Identity(row.agent_id, "standard", owner.key)


def figure(page: httpx.Response, name: str, agent_id: str = "") -> str:
    """The text of `data-figure="NAME"` (in the row of `agent_id` when given)."""
    html = page.text
    if agent_id:
        html = html.split(f'data-agent="{agent_id}"')[1].split("</tr>")[0]
    found = re.search(rf'data-figure="{name}">([^<]*)<', html)
    assert found, f"no figure {name}"
    return found.group(1).strip()


def account(admin: AdminClient, role: str, subject: str) -> str:
    """A new account of `role` for `subject` (password PASSWORD); its name."""
    name = f"{role}-{subject}-{time.monotonic_ns()}"
    request = accounts_pb2.CreateAccountRequest(name=name, role=role, subject=subject, password=PASSWORD)
    admin_accounts(admin).CreateAccount(request)
    return name


def report(channel: grpc.Channel, machine: Identity, sequence: int, start_s: float, seconds: float) -> None:
    """One signed report of `seconds` of use from `start_s` (10 % CPU), once that time has passed."""
    time.sleep(max(0.0, start_s + seconds - time.time() + 0.05))
    envelope = signed(machine, sequence, [sample(start_s, start_s + seconds)])
    list(agent_pb2_grpc.AgentServiceStub(channel).StreamReports(iter([envelope]), timeout=10))


def rated(admin: AdminClient, session_id: str) -> sessions_pb2.RentalSession:
    """The stopped session once the collector has rated it (rating follows the stop on its own)."""
    request = sessions_pb2.GetSessionRequest(session_id=session_id)
    wait_for(lambda: admin.sessions.GetSession(request).cost.minor_units > 0)
    return admin.sessions.GetSession(request)


@pytest.fixture
def seat(collector: Collector) -> Identity:
    return hosts_machine(collector, "cafe", label="seat 12")


def test_the_host_sees_its_machines_with_renter_and_utilisation(
    collector: Collector, admin: AdminClient, portal: RunningPortal, seat: Identity, sign_in: SignIn
) -> None:
    idle = hosts_machine(collector, "cafe")
    others = hosts_machine(collector, "elsewhere", label="not yours")
    rental = open_rental(admin, seat.agent_id, "alice")
    report_usage(admin.channel, seat, rental, 1.0)
    host = sign_in("host", "cafe")
    page = host.get("/host/machines")
    assert page.status_code == 200
    assert f'href="/host/machines/{seat.agent_id}">seat 12</a>' in page.text
    assert f'href="/host/machines/{idle.agent_id}">{idle.agent_id}</a>' in page.text
    assert others.agent_id not in page.text and "not yours" not in page.text
    (entry,) = [
        e
        for e in admin.fleet.GetFleet(fleet_pb2.GetFleetRequest()).machines
        if e.machine.agent_id == seat.agent_id
    ]
    assert figure(page, "cpu", seat.agent_id) == f"{round(entry.cpu_utilization * 100)} %" == "10 %"
    assert figure(page, "renter", seat.agent_id) == "alice"
    assert rental.session_id in page.text and "€36.00/h" in page.text
    assert 'data-state="online"' in page.text.split(f'data-agent="{seat.agent_id}"')[1].split("</tr>")[0]
    assert 'data-state="offline"' in page.text.split(f'data-agent="{idle.agent_id}"')[1].split("</tr>")[0]
    assert figure(page, "cpu", idle.agent_id) == "—" and "no report yet" in page.text
    assert figure(page, "online") == "1 / 2" and figure(page, "rented") == "1"
    assert 'hx-get="/host/machines/table" hx-trigger="every 10s"' in page.text
    table = host.get("/host/machines/table", headers={"hx-request": "true"})
    assert (
        table.status_code == 200
        and "<html" not in table.text
        and f'data-agent="{seat.agent_id}"' in table.text
    )


def test_a_host_without_machines_is_shown_how_to_enroll_one(
    collector: Collector, portal: RunningPortal, sign_in: SignIn
) -> None:
    host = sign_in("host", "new")
    page = host.get("/host/machines")
    assert "No machines yet" in page.text and 'href="/host/enrollment"' in page.text
    assert 'hx-get="/host/machines/table"' in page.text  # the first machine shows up by itself
    first = hosts_machine(collector, "new", label="till")
    table = host.get("/host/machines/table", headers={"hx-request": "true"})
    assert (
        f'href="/host/machines/{first.agent_id}">till</a>' in table.text and "No machines" not in table.text
    )


def test_the_machine_page_shows_usage_rentals_and_earnings_as_the_api_does(
    collector: Collector, admin: AdminClient, portal: RunningPortal, seat: Identity, sign_in: SignIn
) -> None:
    rental = open_rental(admin, seat.agent_id, "alice")
    report_usage(admin.channel, seat, rental, 2.0)
    admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=rental.session_id))
    stopped = rated(admin, rental.session_id)
    host = sign_in("host", "cafe")
    page = host.get(f"/host/machines/{seat.agent_id}")
    assert page.status_code == 200 and "<h1>seat 12</h1>" in page.text
    row = page.text.split(f'data-session="{rental.session_id}"')[1].split("</tr>")[0]
    assert "alice" in row
    assert f">€{stopped.cost.minor_units / 100:.2f}<" in row
    earnings = admin.fleet.GetEarnings(fleet_pb2.GetEarningsRequest(agent_id=seat.agent_id))
    (total,) = earnings.totals
    assert total.minor_units > 0 and figure(page, "earned") == f"€{total.minor_units / 100:.2f}"
    assert 'class="chart-plot" data-chart=' in page.text
    assert '<td class="number">10.0%</td>' in page.text  # the chart's figures: the reported 10 % CPU
    assert f'hx-get="/host/machines/{seat.agent_id}/now" hx-trigger="every 10s"' in page.text
    now = host.get(f"/host/machines/{seat.agent_id}/now", headers={"hx-request": "true"})
    assert now.status_code == 200 and "<html" not in now.text and 'data-state="online"' in now.text
    day = host.get(f"/host/machines/{seat.agent_id}?span=day")
    assert day.status_code == 200 and 'href="?span=day" aria-current="true"' in day.text


def test_lock_reaches_the_collector_and_revoke_takes_effect(
    collector: Collector, admin: AdminClient, portal: RunningPortal, seat: Identity, sign_in: SignIn
) -> None:
    rental = open_rental(admin, seat.agent_id, "alice")
    host = sign_in("host", "cafe")
    page = host.get(f"/host/machines/{seat.agent_id}")
    token = csrf_of(page)
    locked = host.post(
        f"/host/machines/{seat.agent_id}/lock", data={"csrf_token": token, "message": "closing"}
    )
    assert locked.status_code == 303
    assert "not connected now" in host.get(locked.headers["location"]).text  # no agent runs on it
    revoked = host.post(
        f"/host/machines/{seat.agent_id}/revoke", data={"csrf_token": token, "reason": "sold"}
    )
    assert revoked.status_code == 303
    after = host.get(f"/host/machines/{seat.agent_id}")
    assert "The machine is revoked" in after.text and 'data-state="revoked"' in after.text
    assert f"/host/machines/{seat.agent_id}/revoke" not in after.text
    machine = admin.machines.GetMachine(machines_pb2.GetMachineRequest(agent_id=seat.agent_id))
    assert machine.HasField("revoked_at")
    ended = admin.sessions.GetSession(sessions_pb2.GetSessionRequest(session_id=rental.session_id))
    assert ended.state == sessions_pb2.RentalSession.STOPPED
    again = host.post(f"/host/machines/{seat.agent_id}/revoke", data={"csrf_token": token})
    assert again.status_code == 409 and "The request was refused:" in again.text


def test_another_hosts_machine_is_not_found_even_by_guessing(
    collector: Collector, admin: AdminClient, portal: RunningPortal, seat: Identity, sign_in: SignIn
) -> None:
    rival = sign_in("host", "rival")
    token = csrf_of(rival.get("/host/machines"))
    for guess in (seat.agent_id, "m-0000000000000000", "..", "%00"):
        for view in ("", "/now"):
            assert rival.get(f"/host/machines/{guess}{view}").status_code == 404
        for action in ("lock", "revoke"):
            answer = rival.post(f"/host/machines/{guess}/{action}", data={"csrf_token": token})
            assert answer.status_code == 404, (guess, action)
    machine = admin.machines.GetMachine(machines_pb2.GetMachineRequest(agent_id=seat.agent_id))
    assert not machine.HasField("revoked_at")
    renter = sign_in("renter", "alice")
    for path in ("/host/machines", f"/host/machines/{seat.agent_id}", "/host/machines/table"):
        assert renter.get(path).status_code == 404


def test_earnings_per_machine_and_period_are_the_apis(
    collector: Collector, admin: AdminClient, portal: RunningPortal, seat: Identity, sign_in: SignIn
) -> None:
    rival = hosts_machine(collector, "rival", label="rival seat")
    for machine, renter in ((seat, "alice"), (rival, "bob")):
        rental = open_rental(admin, machine.agent_id, renter)
        report_usage(admin.channel, machine, rental, 1.0)
        admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=rental.session_id))
        rated(admin, rental.session_id)
    (invoice,) = admin.invoices.CloseInvoices(
        invoices_pb2.CloseInvoicesRequest(renter="alice", invoice_now=True)
    ).invoices
    second = open_rental(admin, seat.agent_id, "carol")  # not invoiced yet
    report(admin.channel, seat, 2, second.started_at.ToMicroseconds() / 1e6, 1.0)
    cafe = fleet_pb2.GetEarningsRequest(host="cafe")
    wait_for(lambda: admin.fleet.GetEarnings(cafe).totals[0].minor_units > invoice.total.minor_units > 0)
    (total,) = admin.fleet.GetEarnings(cafe).totals  # the open rental's rated cost is in it now
    host = sign_in("host", "cafe")
    page = host.get("/host/earnings")
    assert page.status_code == 200
    assert figure(page, "total-EUR") == f"€{total.minor_units / 100:.2f}"
    assert figure(page, "earned", seat.agent_id) == f"€{total.minor_units / 100:.2f}"
    row = page.text.split(f'data-agent="{seat.agent_id}"')[1].split("</tr>")[0]
    assert f"€{invoice.total.minor_units / 100:.2f}" in row and "seat 12" in row
    assert rival.agent_id not in page.text and "rival seat" not in page.text
    assert 'class="chart-plot" data-chart=' in page.text and '<option value="day" selected>' in page.text
    for period in ("week", "month"):
        other = host.get(f"/host/earnings?period={period}")
        assert f'<option value="{period}" selected>' in other.text
        assert figure(other, "total-EUR") == f"€{total.minor_units / 100:.2f}"
    assert '<option value="day" selected>' in host.get("/host/earnings?period=year").text
    assert sign_in("renter", "alice").get("/host/earnings").status_code == 404


def test_the_host_makes_an_enrollment_token_and_the_machine_it_enrolls_is_its_own(
    collector: Collector, portal: RunningPortal, sign_in: SignIn
) -> None:
    host = sign_in("host", "cafe")
    form = host.get("/host/enrollment")
    assert form.status_code == 200 and '<option value="24h" selected>' in form.text
    data = {"csrf_token": csrf_of(form), "machine_class": "gpu-a100", "label": "seat 7", "validity": "7d"}
    made = host.post("/host/enrollment", data=data)
    assert made.status_code == 200
    token = figure(made, "token")
    dial = f"127.0.0.1:{collector.port}"
    assert f"sudo rentmeter agent install --collector {dial} --token {token}</pre>" in made.text
    assert f"rentmeter agent run --collector {dial} --token {token}</pre>" in made.text
    assert 'data-copy="install-command"' in made.text and '<script src="/static/copy.js" defer>' in made.text
    owner = new_identity()
    row = collector.database.call(
        enroll, token=token, public_key=public_key_bytes(owner.key), facts={}, now=datetime.now(UTC)
    )
    assert row.machine_class == "gpu-a100"
    listed = host.get("/host/machines")
    assert f'href="/host/machines/{row.agent_id}">seat 7</a>' in listed.text
    assert sign_in("host", "rival").get(f"/host/machines/{row.agent_id}").status_code == 404
    too_long = host.post("/host/enrollment", data={**data, "machine_class": "x" * 65})
    assert too_long.status_code == 400 and "machine_class must be 1 to 64 characters" in too_long.text
    assert sign_in("renter", "alice").get("/host/enrollment").status_code == 404


def test_the_install_command_names_the_collector_the_agents_dial(
    collector: Collector, admin: AdminClient, portal_settings: PortalSettings
) -> None:
    settings = dataclasses.replace(portal_settings, agent_collector="collector.example.net:50051")
    with running_portal(settings) as running:
        host = client(running)
        assert sign_in_through_page(host, account(admin, "host", "cafe"), PASSWORD).status_code == 303
        data = {"csrf_token": csrf_of(host.get("/host/enrollment")), "machine_class": "standard"}
        made = host.post("/host/enrollment", data=data)
    assert "sudo rentmeter agent install --collector collector.example.net:50051 --token rmt_" in made.text


def test_the_machine_page_tells_the_holes_the_agent_reported(
    collector: Collector, admin: AdminClient, portal: RunningPortal, seat: Identity, sign_in: SignIn
) -> None:
    now = time.time()
    lost = Gap("forged", 3, int((now - 60) * 1e6), int((now - 50) * 1e6), "signature does not verify")
    report = build_report(seat.agent_id, 1, [sample_to_proto(sample(now - 2, now - 1))], [], 0, [lost])
    envelope = sign_report(seat, report)
    list(agent_pb2_grpc.AgentServiceStub(admin.channel).StreamReports(iter([envelope]), timeout=10))
    page = sign_in("host", "cafe").get(f"/host/machines/{seat.agent_id}")
    assert "The agent told of 1 hole in its reporting" in page.text
    assert "a stored report no longer matched its signature and was set aside" in page.text
    assert "(signature does not verify)" in page.text
