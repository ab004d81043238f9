"""`rentmeter machines list|show|revoke|lock`: enrolled machines."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from rentmeter.commands.remote import Commands, remote_options, show, with_client
from rentmeter.errors import EXIT_REFUSED

if TYPE_CHECKING:
    from protos.rentmeter.v1 import machines_pb2
    from rentmeter.client import AdminClient


def register(commands: Commands) -> None:
    machines = commands.add_parser("machines", help="enrolled machines").add_subparsers(
        dest="action", required=True
    )
    machines.add_parser("list", parents=[remote_options(prints=True)], help="list machines").set_defaults(
        handler=machines_list
    )
    one = machines.add_parser("show", parents=[remote_options(prints=True)], help="show one machine")
    one.add_argument("agent_id")
    one.set_defaults(handler=machines_show)
    revoke = machines.add_parser(
        "revoke", parents=[remote_options(prints=True)], help="refuse a machine's reports from now on"
    )
    revoke.add_argument("agent_id")
    revoke.add_argument("--reason", default="", help="kept in the collector's log")
    revoke.set_defaults(handler=machines_revoke)
    lock = machines.add_parser(
        "lock", parents=[remote_options(prints=True)], help="tell a machine's agent to lock now"
    )
    lock.add_argument("agent_id")
    lock.add_argument("--message", default="", help="text for the person at the machine")
    lock.set_defaults(handler=machines_lock)


@with_client
def machines_list(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import machines_pb2

    listed = client.machines.ListMachines(machines_pb2.ListMachinesRequest(), timeout=30)
    show(args, listed, lambda: render_machines(list(listed.machines)))


@with_client
def machines_show(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import machines_pb2

    machine = client.machines.GetMachine(machines_pb2.GetMachineRequest(agent_id=args.agent_id), timeout=30)
    show(args, machine, lambda: render_machine(machine))


@with_client
def machines_revoke(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import machines_pb2

    request = machines_pb2.RevokeMachineRequest(agent_id=args.agent_id, reason=args.reason)
    machine = client.machines.RevokeMachine(request, timeout=30)
    show(args, machine, lambda: render_machine(machine))


@with_client
def machines_lock(client: AdminClient, args: argparse.Namespace) -> int:
    from protos.rentmeter.v1 import agent_pb2, machines_pb2

    request = machines_pb2.SendControlRequest(
        agent_id=args.agent_id, kind=agent_pb2.Control.LOCK_NOW, message=args.message
    )
    sent = client.machines.SendControl(request, timeout=30)
    if not sent.delivered:
        print(f"machine {args.agent_id} is not connected now; nothing was sent", file=sys.stderr)
        return EXIT_REFUSED
    show(
        args,
        sent,
        lambda: print(f"lock-now sent to {args.agent_id}; its host's configured action runs there"),
    )
    return 0


def render_machines(items: list[machines_pb2.Machine]) -> None:
    from rich.table import Table

    from rentmeter.output import console, id_column, when

    table = Table(id_column("agent id"), "class", "host", "label", "status", "last report", "seq", "gaps")
    for m in items:
        table.add_row(
            m.agent_id,
            m.machine_class,
            m.facts.hostname,
            m.label,
            "online" if m.online else "offline",
            when(m.last_seen),
            str(m.last_sequence),
            str(m.gap_count),
        )
    console.print(table)


def render_machine(m: machines_pb2.Machine) -> None:
    from rentmeter.output import console, when

    f = m.facts
    gpus = ", ".join(g.name for g in f.gpus) or "none"
    console.print(
        f"machine {m.agent_id} ({'online' if m.online else 'offline'})\n"
        f"  class {m.machine_class}, label {m.label or '-'}\n"
        f"  host {f.hostname}, {f.os}\n"
        f"  cpu {f.cpu_model}, {f.cpu_cores_logical} threads / {f.cpu_cores_physical} cores, "
        f"memory {f.memory_bytes / 2**30:.1f} GiB, GPUs {gpus}\n"
        f"  enrolled {when(m.enrolled_at)}, last report {when(m.last_seen)}, sequence {m.last_sequence}"
        + (f"\n  REVOKED {when(m.revoked_at)}: its reports are refused" if m.HasField("revoked_at") else "")
    )
    if m.gap_count:
        console.print(f"  {m.gap_count} gap(s) the agent reported in its own reporting; latest:")
    for gap in m.gaps:
        span = f"{when(gap.start)} to {when(gap.end)}" if gap.HasField("start") else "time unknown"
        sequence = f"report {gap.sequence}" if gap.sequence else "spool"
        console.print(f"    {sequence}, {span}: {gap.reason}")
