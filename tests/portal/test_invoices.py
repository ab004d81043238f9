"""Invoice downloads (the file-response pattern): the collector's document byte for byte, as an attachment,
and nobody else's invoice, however its address is guessed."""

from __future__ import annotations

import io

import grpc
import pytest
from pypdf import PdfReader

from agent.identity import Identity
from collector.server import Collector
from portal.pages.invoices import attachment
from portal.server import RunningPortal
from protos.rentmeter.v1 import invoices_pb2, sessions_pb2
from rentmeter.client import AdminClient
from tests.portal.conftest import SignIn, open_rental, report_usage


@pytest.fixture
def invoice(admin: AdminClient, machine: Identity, channel: grpc.Channel) -> invoices_pb2.Invoice:
    rental = open_rental(admin, machine.agent_id, "alice")
    report_usage(channel, machine, rental, seconds=1.5)
    admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=rental.session_id))
    request = invoices_pb2.CloseInvoicesRequest(renter="alice", invoice_now=True)
    (closed,) = admin.invoices.CloseInvoices(request).invoices
    assert closed.total.minor_units > 0
    return closed


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def same_document(got: bytes, expected: bytes, form: str) -> bool:
    """Byte for byte; a PDF by its text (each rendering stamps its own creation time)."""
    if form == "pdf":
        return got.startswith(b"%PDF-") and pdf_text(got) == pdf_text(expected)
    return got == expected


@pytest.mark.parametrize(
    ("form", "media"), [("pdf", "application/pdf"), ("html", "text/html"), ("csv", "text/csv")]
)
def test_the_renter_downloads_its_invoice(
    collector: Collector, admin: AdminClient, portal: RunningPortal, invoice: invoices_pb2.Invoice, form: str,
    media: str, sign_in: SignIn,
) -> None:  # fmt: skip
    renter = sign_in("renter", "alice")
    expected = admin.invoices.RenderInvoice(
        invoices_pb2.RenderInvoiceRequest(invoice_id=invoice.number, format=form)
    )
    for key in (invoice.number, invoice.invoice_id):
        response = renter.get(f"/invoices/{key}/{form}")
        assert response.status_code == 200
        assert same_document(response.content, expected.content, form)
        assert response.headers["content-type"].startswith(media)
        assert response.headers["content-disposition"].startswith(
            f'attachment; filename="{expected.filename}"'
        )
        assert response.headers["x-content-type-options"] == "nosniff"


def test_nobody_else_gets_the_invoice(
    collector: Collector,
    portal: RunningPortal,
    invoice: invoices_pb2.Invoice,
    sign_in: SignIn,
) -> None:
    mallory = sign_in("renter", "mallory")
    host = sign_in("host", "h1")
    renter = sign_in("renter", "alice")
    guesses = [invoice.number, invoice.invoice_id, "RM-000002", "RM-999999", "inv-0", "..%2F..%2Fetc"]
    for browser in (mallory, host):
        for guess in guesses:
            assert browser.get(f"/invoices/{guess}/pdf").status_code == 404, guess
    assert renter.get(f"/invoices/{invoice.number}/exe").status_code == 404  # not a format
    assert renter.get(f"/invoices/{invoice.number}/pdf").status_code == 200


def test_an_anonymous_download_asks_to_sign_in(portal: RunningPortal, sign_in: SignIn) -> None:
    from tests.portal.conftest import client

    response = client(portal).get("/invoices/RM-000001/pdf")
    assert response.headers["location"] == "/signin?next=/invoices/RM-000001/pdf"


def test_attachment_names_survive_any_characters() -> None:
    assert (
        attachment("RM-000001.pdf")
        == "attachment; filename=\"RM-000001.pdf\"; filename*=UTF-8''RM-000001.pdf"
    )
    assert attachment('发票 "1".pdf') == (
        "attachment; filename=\"____1_.pdf\"; filename*=UTF-8''%E5%8F%91%E7%A5%A8%20%221%22.pdf"
    )


def test_my_rental_links_the_last_rentals_invoice(
    collector: Collector,
    portal: RunningPortal,
    invoice: invoices_pb2.Invoice,
    sign_in: SignIn,
) -> None:
    page = sign_in("renter", "alice").get("/rental").text
    assert f'<a href="/invoices/{invoice.number}/pdf" download>download the PDF</a>' in page
    assert f"Invoice {invoice.number}, €0.0" in page
