"""Invoice documents in any script: the PDF embeds a CJK-capable font and reads back exactly; long ids stay
whole; HTML and CSV are UTF-8; the period is shown in the invoice's time zone."""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from billing.invoice import rate_text
from collector.db.models import Invoice, InvoiceLine
from collector.delivery.documents import FONT_FILE, period_text, render_invoice

RENTER = "北京云算科技有限公司（张三）"  # noqa: RUF001 (Chinese punctuation, as written)
PLAN_LINE = "GPU 时间, 标准型 A100, 在 夜间 时段 [套餐：北京机房 GPU 按小时]"  # noqa: RUF001
OTHER_SCRIPTS = "流量（出站）— Иван Петров, Ωμέγα, 한국어 계산서, カタカナ"  # noqa: RUF001
# As long as the columns allow (String(40)): a PDF table used to break such ids in two.
LONG_SESSION = "ses-" + "0123456789abcdef" * 2 + "01234567"


def chinese_invoice(time_zone: str = "Asia/Shanghai") -> Invoice:
    line = {"quantity": "1.5", "unit": "h", "rate": "2.9", "rate_unit": "h", "basis": "measured",
            "covered_us": 5_000_000_000, "uncovered_us": 400_000_000}  # fmt: skip
    return Invoice(
        id="inv-" + "9f" * 18,
        number="RM-000042",
        renter_id=RENTER,
        currency="CNY",
        period_start=datetime(2026, 4, 30, 16, 0, tzinfo=UTC),
        period_end=datetime(2026, 5, 31, 16, 0, tzinfo=UTC),
        issued_at=datetime(2026, 6, 1, 0, 5, tzinfo=UTC),
        total_minor=870,
        time_zone=time_zone,
        lines=[
            InvoiceLine(position=0, session_id=LONG_SESSION, meter="time", description=PLAN_LINE,
                        amount_minor=435, **line),
            InvoiceLine(position=1, session_id=LONG_SESSION, meter="traffic_out", description=OTHER_SCRIPTS,
                        amount_minor=435, **line),
        ],
    )  # fmt: skip


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_chinese_and_other_scripts_read_back_exactly_from_the_pdf() -> None:
    invoice = chinese_invoice()
    text = pdf_text(render_invoice(invoice, "pdf").content)
    for written in (RENTER, PLAN_LINE, OTHER_SCRIPTS, "4.35 CNY", "total: 8.70 CNY"):
        assert written in text
    assert "?" not in text  # the built-in Latin-1 font printed "?" for every character it lacked
    assert "period: 2026-05-01 00:00 to 2026-06-01 00:00 Asia/Shanghai (UTC+08:00)" in text


def test_long_ids_stay_whole_on_one_line() -> None:
    invoice = chinese_invoice()
    lines = pdf_text(render_invoice(invoice, "pdf").content).splitlines()
    assert sum(LONG_SESSION in line for line in lines) == 2  # one per invoice line, never cut
    assert any(invoice.id in line for line in lines)


def test_the_font_is_embedded_as_a_subset() -> None:
    content = render_invoice(chinese_invoice(), "pdf").content
    page: Any = PdfReader(io.BytesIO(content)).pages[0]
    fonts = page["/Resources"]["/Font"]
    embedded = []
    for font in fonts.values():
        for descendant in font.get_object()["/DescendantFonts"]:
            descriptor = descendant.get_object()["/FontDescriptor"]
            if "/FontFile2" in descriptor:
                embedded.append((str(descendant.get_object()["/BaseFont"]), descriptor["/FontFile2"]))
    assert len(embedded) == 1
    name, stream = embedded[0]
    assert name.endswith("+WenQuanYiMicroHei")  # a subset: "ABCDEF+" before the font's name
    # Only the glyphs used: a few kilobytes of the 3.7 MB font, and a small PDF.
    assert len(stream.get_object().get_data()) < 60_000 < FONT_FILE.stat().st_size
    assert len(content) < 80_000


def test_html_and_csv_are_utf8_with_the_same_text() -> None:
    invoice = chinese_invoice()
    page = render_invoice(invoice, "html")
    assert page.content_type == "text/html; charset=utf-8"
    html_text = page.content.decode("utf-8")
    assert '<meta charset="utf-8">' in html_text
    for written in (RENTER, PLAN_LINE, OTHER_SCRIPTS, LONG_SESSION):
        assert written in html_text
    sheet = render_invoice(invoice, "csv")
    assert sheet.content_type == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8"))))
    assert ["renter", RENTER] in rows
    assert ["period", "2026-05-01 00:00 to 2026-06-01 00:00 Asia/Shanghai (UTC+08:00)"] in rows
    basis = "measured, 5000 s covered, 400 s not"
    assert [LONG_SESSION, PLAN_LINE, "1.5 h", basis, rate_text("2.9", "CNY", "h"), "4.35 CNY"] in rows


@pytest.mark.parametrize(
    ("start", "end", "zone", "text"),
    [
        ((2026, 4, 30, 16), (2026, 5, 31, 16), "Asia/Shanghai",
         "2026-05-01 00:00 to 2026-06-01 00:00 Asia/Shanghai (UTC+08:00)"),
        # Across the last Sunday of October: summer time at the start, winter time at the end.
        ((2026, 9, 30, 22), (2026, 10, 31, 23), "Europe/Berlin",
         "2026-10-01 00:00 to 2026-11-01 00:00 Europe/Berlin (UTC+02:00 to UTC+01:00)"),
        ((2026, 5, 1, 0), (2026, 5, 1, 9, 40, 17), "", "2026-05-01 00:00 to 2026-05-01 09:40:17 UTC"),
        ((2026, 5, 1, 0), (2026, 5, 2, 0), "UTC", "2026-05-01 00:00 to 2026-05-02 00:00 UTC"),
        ((2026, 5, 1, 0), (2026, 5, 2, 0), "Asia/Kathmandu",
         "2026-05-01 05:45 to 2026-05-02 05:45 Asia/Kathmandu (UTC+05:45)"),
        ((2026, 5, 1, 4), (2026, 5, 2, 4), "America/New_York",
         "2026-05-01 00:00 to 2026-05-02 00:00 America/New_York (UTC-04:00)"),
    ],
)  # fmt: skip
def test_period_text(start: tuple[int, ...], end: tuple[int, ...], zone: str, text: str) -> None:
    assert period_text(datetime(*start, tzinfo=UTC), datetime(*end, tzinfo=UTC), zone) == text  # type: ignore[arg-type, misc]


def test_a_utc_invoice_shows_its_period_in_utc() -> None:
    text = pdf_text(render_invoice(chinese_invoice(time_zone=""), "pdf").content)
    assert "period: 2026-04-30 16:00 to 2026-05-31 16:00 UTC" in text
    assert "issued: 2026-06-01 00:05 UTC" in text


# The committed font is what scripts/make_invoice_font.py makes from Debian's fonts-wqy-microhei
# (`apt-get download fonts-wqy-microhei`; RENTMETER_WQY_SOURCE names the .deb or .ttc).
WQY_SOURCE = Path(os.environ.get("RENTMETER_WQY_SOURCE", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"))


@pytest.mark.skipif(not WQY_SOURCE.exists(), reason=f"no {WQY_SOURCE} (set RENTMETER_WQY_SOURCE)")
def test_the_committed_font_is_what_the_script_makes() -> None:
    from scripts.make_invoice_font import main

    assert main(["--check", str(WQY_SOURCE)]) == 0
