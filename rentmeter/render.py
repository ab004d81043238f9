"""How the CLI shows machines, plans, sessions, usage and invoices."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import UTC

from google.protobuf.timestamp_pb2 import Timestamp
from rich.console import Console
from rich.table import Table

from billing.invoice import rate_text
from protos.rentmeter.v1 import (
    access_pb2,
    invoices_pb2,
    machines_pb2,
    plans_pb2,
    renters_pb2,
    sessions_pb2,
    usage_pb2,
    wallets_pb2,
)

# Wide enough for an invoice when the output is a pipe or a log (a terminal uses its own width).
console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)


def when(ts: Timestamp, present: bool = True) -> str:
    if not present or (ts.seconds == 0 and ts.nanos == 0):
        return "-"
    return ts.ToDatetime(tzinfo=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def seconds(micros: int) -> str:
    return f"{micros / 1e6:,.1f} s"


def megabytes(count: int) -> str:
    return f"{count / 1e6:,.3f} MB"


def machines(items: list[machines_pb2.Machine]) -> None:
    table = Table("agent id", "class", "host", "label", "status", "last report", "seq")
    for m in items:
        table.add_row(
            m.agent_id,
            m.machine_class,
            m.facts.hostname,
            m.label,
            "online" if m.online else "offline",
            when(m.last_seen),
            str(m.last_sequence),
        )
    console.print(table)


def machine(m: machines_pb2.Machine) -> None:
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


def plans(items: list[plans_pb2.PricePlan]) -> None:
    for p in items:
        table = Table("version", "in force from", "rules", title=f"plan {p.name} ({p.currency})")
        for v in p.versions:
            table.add_row(str(v.number), when(v.effective_from), "\n".join(v.rules))
        console.print(table)


def sessions(items: list[sessions_pb2.RentalSession]) -> None:
    table = Table("session", "machine", "renter", "plan", "state", "started", "ended", "covered", "cost")
    for s in items:
        table.add_row(
            s.session_id,
            s.agent_id,
            s.renter,
            s.plan,
            sessions_pb2.RentalSession.State.Name(s.state),
            when(s.started_at),
            when(s.ended_at, s.HasField("ended_at")),
            seconds(s.covered_us),
            s.cost.display,
        )
    console.print(table)


def usage(u: usage_pb2.UsageSummary) -> None:
    console.print(
        f"usage of {u.agent_id} from {when(u.start)} to {when(u.end)}\n"
        f"  covered time  {seconds(u.covered_us)}\n"
        f"  cpu busy      {seconds(u.cpu_busy_us)}\n"
        f"  network in    {megabytes(u.net_rx_bytes)}\n"
        f"  network out   {megabytes(u.net_tx_bytes)}\n"
        f"  disk read     {megabytes(u.disk_read_bytes)}\n"
        f"  disk written  {megabytes(u.disk_write_bytes)}\n"
        f"  peak memory   {megabytes(u.peak_memory_used_bytes)}\n"
        f"  samples       {u.sample_count}"
    )
    for g in u.gpus:
        console.print(
            f"  GPU {g.index} ({g.uuid}): {g.average_utilization_percent:.1f} % busy on average, "
            f"{g.energy_mj / 3.6e9:.4f} kWh, peak memory {megabytes(g.peak_memory_used_bytes)}"
        )


def invoices(items: list[invoices_pb2.Invoice]) -> None:
    table = Table("number", "invoice", "renter", "period start", "period end", "lines", "total")
    for i in items:
        table.add_row(
            i.number,
            i.invoice_id,
            i.renter,
            when(i.period_start),
            when(i.period_end),
            str(len(i.lines)),
            i.total.display,
        )
    console.print(table)


def explanation(x: sessions_pb2.SessionExplanation) -> None:
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


def quote(q: plans_pb2.PriceQuote) -> None:
    caption = f"{when(q.start)} to {when(q.end)}; usage as planned, billed as it would be"
    table = Table(title=f"Quote: plan {q.plan}, class {q.machine_class}", caption=caption)
    for column in ("item", "quantity", "rate", "amount"):
        table.add_column(column, justify="left" if column == "item" else "right")
    for line in q.lines:
        currency = line.amount.currency
        rate = rate_text(line.rate, currency, line.rate_unit)
        table.add_row(line.description, f"{line.quantity} {line.unit}", rate, line.amount.display)
    table.add_section()
    table.add_row("total", "", "", q.total.display)
    console.print(table)


def invoice(i: invoices_pb2.Invoice) -> None:
    table = Table(
        title=f"Invoice {i.number} ({i.invoice_id}) - renter {i.renter}",
        caption=(
            f"period {when(i.period_start)} to {when(i.period_end)}, issued {when(i.issued_at)}, "
            + (f"paid {when(i.paid_at)}" if i.HasField("paid_at") else "unpaid")
        ),
    )
    for column in ("session", "item", "quantity", "rate", "amount"):
        table.add_column(column, justify="right" if column in ("quantity", "rate", "amount") else "left")
    for line in i.lines:
        table.add_row(
            line.session_id,
            line.description,
            f"{line.quantity} {line.unit}",
            rate_text(line.rate, i.currency, line.rate_unit),
            line.amount.display,
        )
    table.add_section()
    table.add_row("", "net", "", "", i.net.display)
    table.add_row("", "tax", "", "", i.tax.display)
    table.add_row("", "total", "", "", i.total.display)
    console.print(table)


def wallet(w: wallets_pb2.Wallet) -> None:
    kind = "prepaid" if w.prepaid else "invoiced (not prepaid)"
    console.print(
        f"wallet of {w.renter}, {kind}: balance {w.balance.display}, held {w.held.display}, "
        f"spendable {w.spendable.display}"
    )
    table = Table("at", "transaction", "kind", "reference", "account", "amount", title="ledger entries")
    for e in w.entries:
        table.add_row(when(e.at), str(e.transaction_id), e.kind, e.reference, e.account, e.amount.display)
    console.print(table)


def ledger_check(c: wallets_pb2.LedgerCheck) -> None:
    sums = ", ".join(
        f"debits {d.display} = credits {k.display}" for d, k in zip(c.debits, c.credits, strict=False)
    )
    verdict = "balanced" if c.balanced else f"NOT balanced: transactions {list(c.unbalanced_transactions)}"
    console.print(f"ledger {verdict}: {c.transactions} transactions, {c.entries} entries; {sums or 'empty'}")


def live_cost_panel(live: sessions_pb2.LiveCost) -> Table:
    state = sessions_pb2.RentalSession.State.Name(live.state).lower()
    table = Table(title=f"session {live.session_id} ({state})", show_header=False)
    table.add_row("cost so far", live.cost.display)
    table.add_row("covered by reports", f"{seconds(live.covered_us)} = {live.rated_cost.display}")
    table.add_row("current rate", f"{live.rate_per_hour.display} per hour")
    if live.prepaid:
        table.add_row("balance left", live.balance.display)
        left = live.time_left.ToTimedelta() if live.HasField("time_left") else None
        table.add_row("time left at this rate", str(left).split(".")[0] if left is not None else "-")
    table.add_row("updated", when(live.at))
    return table


def watch(updates: Iterable[sessions_pb2.LiveCost]) -> None:
    """A live view that redraws on every update until the session stops (Ctrl-C leaves)."""
    from rich.live import Live

    with Live(console=console, auto_refresh=False) as view:
        for live in updates:
            view.update(live_cost_panel(live), refresh=True)


def renter(r: renters_pb2.Renter) -> None:
    cycle = f"{r.billing_cycle} from {when(r.cycle_anchor)}" if r.billing_cycle else "the collector's period"
    console.print(
        f"renter {r.renter} ({'prepaid' if r.prepaid else 'invoiced'}): billing cycle {cycle}; "
        f"invoiced until {when(r.invoiced_until)}, next invoice {when(r.next_invoice_at)}; "
        f"e-mail {r.email or '-'}; pays by {r.payment_method or 'bank transfer'}"
    )


def api_tokens(items: list[access_pb2.ApiToken]) -> None:
    table = Table("id", "role", "subject", "label", "created", "revoked")
    for t in items:
        table.add_row(str(t.id), t.role, t.subject or "-", t.label, when(t.created_at), when(t.revoked_at))
    console.print(table)
