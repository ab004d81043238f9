"""Invoices as documents a renter keeps: PDF (fpdf2), HTML and CSV, every line with its amount.

Text in any script the invoice font covers (Latin, Greek, Cyrillic, Chinese, Japanese, Korean) prints as
written: the PDF embeds WenQuanYi Micro Hei (fonts/, Apache-2.0), subset to the characters the invoice
uses; HTML and CSV are UTF-8. The period is shown in the time zone the invoice was cut in.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.fonts import FontFace

import billing
from billing.confidence import basis_text
from billing.invoice import rate_text
from collector.core.errors import InvalidArgument
from collector.db.models import Invoice

FORMATS = ("pdf", "html", "csv")
FONT_FILE = Path(__file__).with_name("fonts") / "wqy-microhei-invoice.ttf"
_FONT = "invoice"


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
         basis_text(line.basis, line.covered_us, line.uncovered_us),
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
        ("period", period_text(invoice.period_start, invoice.period_end, invoice.time_zone)),
        ("issued", moment_text(invoice.issued_at, invoice.time_zone)),
        ("currency", invoice.currency),
    ]


def _money(invoice: Invoice) -> Callable[[int], str]:
    return lambda minor: str(billing.Money(minor, invoice.currency))


COLUMNS = ["session", "item", "quantity", "basis", "rate", "amount"]
PDF_COLUMNS = ["session", "item", "quantity", "rate", "amount"]


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
        writer.writerow(["", "", "", "", key, value])
    return out.getvalue().encode()


def _html(invoice: Invoice) -> bytes:
    e = html.escape
    head = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in _header(invoice))
    cells = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in _rows(invoice))
    totals = "".join(f'<tr><td colspan="5">{e(k)}</td><td>{e(v)}</td></tr>' for k, v in _totals(invoice))
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
    pdf.add_font(_FONT, fname=FONT_FILE)
    pdf.set_title(f"Invoice {invoice.number}")
    pdf.add_page()
    pdf.set_font(_FONT, size=16)
    pdf.cell(0, 10, f"Invoice {invoice.number}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, size=10)
    for key, value in _header(invoice):
        pdf.multi_cell(0, 6, f"{key}: {value}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    # The basis goes under the item, which wraps, so that the fixed columns stay narrow.
    rows = [PDF_COLUMNS] + [[r[0], f"{r[1]}\n({r[3]})", r[2], *r[4:]] for r in _rows(invoice)]
    size, widths = _table_layout(pdf, rows)
    pdf.set_font(_FONT, size=size)
    align = ("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT")
    headings = FontFace(fill_color=(230, 230, 230))  # the font has no bold face
    with pdf.table(col_widths=widths, text_align=align, headings_style=headings) as table:
        for row in rows:
            cells = table.row()
            for cell in row:
                cells.cell(cell)
    pdf.set_font(_FONT, size=10)
    pdf.ln(4)
    for key, value in _totals(invoice):
        pdf.cell(0, 6, f"{key}: {value}", align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# The description column takes what the others leave, at least this much (mm); it wraps, they don't.
_MIN_ITEM_WIDTH = 70.0
_ITEM = PDF_COLUMNS.index("item")


def _table_layout(pdf: FPDF, rows: Sequence[Sequence[str]]) -> tuple[float, list[float]]:
    """Font size and column widths (mm) that fit every id, quantity, rate and amount on one line, so none
    is broken mid-word: 10 pt, or smaller when the longest ids need it."""
    size = 10.0
    while True:
        pdf.set_font(_FONT, size=size)
        widths = [
            max(pdf.get_string_width(row[column]) for row in rows) + 2 * pdf.c_margin + 1
            for column in range(len(PDF_COLUMNS))
        ]
        fixed = sum(widths) - widths[_ITEM]
        if fixed + _MIN_ITEM_WIDTH <= pdf.epw or size <= 5:
            widths[_ITEM] = max(pdf.epw - fixed, _MIN_ITEM_WIDTH)
            return size, widths
        size -= 0.5


def moment_text(moment: datetime, zone: str) -> str:
    """An instant as local wall-clock time with the zone: "2026-05-01 00:00 Asia/Shanghai" ("UTC" for
    none); seconds only when it has them."""
    local = moment.astimezone(ZoneInfo(zone) if zone else UTC)
    return f"{_clock(local)} {zone or 'UTC'}"


def period_text(start: datetime, end: datetime, zone: str) -> str:
    """An invoice period in local wall-clock time: "2026-05-01 00:00 to 2026-06-01 00:00 Asia/Shanghai
    (UTC+08:00)", both offsets when a DST change lies between; "… UTC" for a period without a zone."""
    if not zone or zone == "UTC":
        return f"{_clock(start.astimezone(UTC))} to {_clock(end.astimezone(UTC))} UTC"
    local_start, local_end = start.astimezone(ZoneInfo(zone)), end.astimezone(ZoneInfo(zone))
    offsets = {_offset(local_start): None, _offset(local_end): None}  # one, or both in order
    return f"{_clock(local_start)} to {_clock(local_end)} {zone} ({' to '.join(offsets)})"


def _clock(local: datetime) -> str:
    return local.strftime("%Y-%m-%d %H:%M:%S" if local.second or local.microsecond else "%Y-%m-%d %H:%M")


def _offset(local: datetime) -> str:
    """The offset from UTC: "UTC+08:00", "UTC-04:00", "UTC+05:45"."""
    offset = local.utcoffset()
    assert offset is not None, "times here are aware"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
