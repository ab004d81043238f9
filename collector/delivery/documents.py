"""Invoices as documents a renter keeps: PDF (fpdf2), HTML and CSV, every line with its amount."""

from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass

from fpdf import FPDF

import billing
from billing.invoice import rate_text
from collector.core.errors import InvalidArgument
from collector.db.models import Invoice

FORMATS = ("pdf", "html", "csv")


@dataclass(frozen=True)
class Document:
    filename: str
    content_type: str
    content: bytes


def invoice_tax_minor(invoice: Invoice) -> int:
    return sum(line.amount_minor for line in invoice.lines if line.meter.startswith("tax:"))


def render_invoice(invoice: Invoice, fmt: str) -> Document:
    """The invoice in `fmt` (pdf, html or csv); InvalidArgument for another format."""
    renderers = {"pdf": (_pdf, "application/pdf"), "html": (_html, "text/html; charset=utf-8"),
                 "csv": (_csv, "text/csv; charset=utf-8")}  # fmt: skip
    if fmt not in renderers:
        raise InvalidArgument(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    render, content_type = renderers[fmt]
    return Document(f"{invoice.number}.{fmt}", content_type, render(invoice))


def _rows(invoice: Invoice) -> list[list[str]]:
    money = _money(invoice)
    return [
        [line.session_id, line.description, f"{line.quantity} {line.unit}".strip(),
         rate_text(line.rate, invoice.currency, line.rate_unit), money(line.amount_minor)]
        for line in invoice.lines
    ]  # fmt: skip


def _totals(invoice: Invoice) -> list[tuple[str, str]]:
    money = _money(invoice)
    tax = invoice_tax_minor(invoice)
    net = invoice.total_minor - tax
    return [("net", money(net)), ("tax", money(tax)), ("total", money(invoice.total_minor))]


def _header(invoice: Invoice) -> list[tuple[str, str]]:
    return [
        ("invoice", invoice.number),
        ("id", invoice.id),
        ("renter", invoice.renter_id),
        ("period", f"{invoice.period_start.isoformat()} to {invoice.period_end.isoformat()}"),
        ("issued", invoice.issued_at.isoformat()),
        ("currency", invoice.currency),
    ]


def _money(invoice: Invoice):  # type: ignore[no-untyped-def]
    return lambda minor: str(billing.Money(minor, invoice.currency))


COLUMNS = ["session", "item", "quantity", "rate", "amount"]


def _csv(invoice: Invoice) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for key, value in _header(invoice):
        writer.writerow([key, value])
    writer.writerow([])
    writer.writerow(COLUMNS)
    writer.writerows(_rows(invoice))
    writer.writerow([])
    for key, value in _totals(invoice):
        writer.writerow(["", "", "", key, value])
    return out.getvalue().encode()


def _html(invoice: Invoice) -> bytes:
    e = html.escape
    head = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in _header(invoice))
    cells = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in _rows(invoice))
    totals = "".join(f'<tr><td colspan="4">{e(k)}</td><td>{e(v)}</td></tr>' for k, v in _totals(invoice))
    columns = "".join(f"<th>{e(c)}</th>" for c in COLUMNS)
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Invoice {e(invoice.number)}</title>"
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{padding:2px 8px;"
        "text-align:left}td:last-child{text-align:right}</style></head><body>"
        f"<h1>Invoice {e(invoice.number)}</h1><table>{head}</table>"
        f"<table><thead><tr>{columns}</tr></thead><tbody>{cells}</tbody><tfoot>{totals}</tfoot></table>"
        "</body></html>"
    )
    return page.encode()


def _pdf(invoice: Invoice) -> bytes:
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_title(f"Invoice {invoice.number}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin1(f"Invoice {invoice.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for key, value in _header(invoice):
        pdf.cell(0, 6, _latin1(f"{key}: {value}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    align = ("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT")
    with pdf.table(col_widths=(34, 130, 40, 34, 30), text_align=align) as table:
        for row in [COLUMNS, *_rows(invoice)]:
            cells = table.row()
            for cell in row:
                cells.cell(_latin1(cell))
    pdf.ln(4)
    for key, value in _totals(invoice):
        pdf.cell(0, 6, _latin1(f"{key}: {value}"), align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    """The PDF's built-in font covers Latin-1; other characters are shown as '?'."""
    return text.encode("latin-1", "replace").decode("latin-1")
