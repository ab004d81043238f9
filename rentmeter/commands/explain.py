"""`rentmeter explain SESSION`: how a session's charge comes about, down to the signed reports."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rentmeter.commands.remote import Commands, remote_options, show, with_client

if TYPE_CHECKING:
    from protos.rentmeter.v1 import sessions_pb2
    from rentmeter.client import AdminClient


def register(commands: Commands) -> None:
    explain = commands.add_parser(
        "explain", parents=[remote_options(prints=True)], help="how a session's charge comes about"
    )
    explain.add_argument("session_id")
    explain.set_defaults(handler=explain_session)


@with_client
def explain_session(client: AdminClient, args: argparse.Namespace) -> None:
    from protos.rentmeter.v1 import sessions_pb2

    request = sessions_pb2.GetSessionRequest(session_id=args.session_id)
    explanation = client.sessions.ExplainSession(request, timeout=30)
    show(args, explanation, lambda: render_explanation(explanation))


def render_explanation(x: sessions_pb2.SessionExplanation) -> None:
    from rich.table import Table

    from billing.invoice import rate_text
    from rentmeter.output import console, megabytes, seconds, when

    s = x.session
    console.print(
        f"session {s.session_id}: renter {s.renter}, machine {s.agent_id} (class {x.machine_class})\n"
        f"  from {when(s.started_at)} to {when(s.ended_at, s.HasField('ended_at'))}\n"
        f"  plan {x.plan}:\n    " + x.rules.replace("\n", "\n    ") + "\n"
        f"  covered by the machine's reports: {seconds(x.covered_us)}; "
        f"network in {megabytes(x.net_rx_bytes)}, out {megabytes(x.net_tx_bytes)}"
    )
    table = Table("meter", "quantity", "rate", "exact amount", "rounded", title="charges")
    for c in x.charges:
        rate = rate_text(c.rate, x.total.currency, c.rate_unit)
        table.add_row(c.description, f"{c.quantity} {c.unit}", rate, c.exact_amount, c.amount.display)
        if len(c.pieces) > 1 or any(piece.note for piece in c.pieces):
            for piece in c.pieces:
                window = f" [{piece.window}]" if piece.window else ""
                note = f" ({piece.note})" if piece.note else ""
                table.add_row(f"  {when(piece.start)} to {when(piece.end)}{window}{note}",
                              f"{piece.quantity} {c.unit}", "", piece.exact_amount, "")  # fmt: skip
    table.add_section()
    table.add_row("total", "", "", "", x.total.display)
    console.print(table)
    reports = ", ".join(
        f"{r.first_sequence}-{r.last_sequence} ({when(r.start)} to {when(r.end)})" for r in x.reports
    )
    console.print(f"  reports (signed, stored): {reports or 'none'}")
    for line in x.invoiced:
        console.print(
            f"  invoiced: {line.invoice_id} ({when(line.period_start)} to {when(line.period_end)}) "
            f"{line.description}: {line.amount.display}"
        )
