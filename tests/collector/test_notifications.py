"""Signed webhooks and e-mail, delivered through the outbox to real servers on loopback."""

from __future__ import annotations

import asyncio
import email
import hmac
import io
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from pypdf import PdfReader

import billing
from collector.accounts.renters import update_renter
from collector.db.database import Database
from collector.db.models import Notification
from collector.delivery.outbox import Channels, deliver_due, sign, verify_signature
from collector.invoicing.invoices import close_invoices
from collector.sessions.plans import create_plan
from collector.sessions.rentals import start_session, stop_session
from tests.collector.helpers import enrolled_machine
from tests.collector.test_invoicing import report_every_second
from tests.e2e.harness import free_port

HOUR = timedelta(hours=1)
START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
SECRET = "s3cret-for-tests-only-0123456789"


class Receiver(ThreadingHTTPServer):
    """The provider's webhook endpoint: records requests; answers 500 to the first `failures` of them."""

    def __init__(self, failures: int = 0) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.failures = failures

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler) -> None:
                body = handler.rfile.read(int(handler.headers["Content-Length"]))
                self.requests.append((dict(handler.headers), body))
                failing = len(self.requests) <= self.failures
                handler.send_response(500 if failing else 204)
                handler.end_headers()

            def log_message(handler, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/rentmeter"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


@pytest.fixture
def invoiced(database: Database) -> str:
    """A renter with an e-mail address, one 30-second session, and its closed invoice."""
    machine = enrolled_machine(database, START - HOUR)
    database.call(create_plan, billing.simple_document("p", "EUR", {"standard": "36.00"}), START - HOUR)
    database.call(update_renter, "eve", START - HOUR, email="eve@example.org")
    rental = database.call(
        start_session, agent_id=machine.agent_id, renter_id="eve", plan_name="p", now=START
    )
    report_every_second(database, machine, START, 30)
    database.call(stop_session, rental.id, START + timedelta(seconds=30))
    (invoice,) = database.call(close_invoices, START + 2 * HOUR, period=HOUR, grace=timedelta(0))
    return invoice.number


def deliver(database: Database, channels: Channels, now: datetime) -> int:
    return asyncio.run(deliver_due(database, channels, now)).produced


def test_an_invoice_is_announced_by_signed_webhook_and_by_email(
    database: Database, invoiced: str, smtp: tuple[Mailbox, int]
) -> None:
    receiver = Receiver()
    mailbox, port = smtp
    now = START + 2 * HOUR
    channels = Channels(receiver.url, SECRET, "127.0.0.1", port, "billing@cafe.example")
    assert deliver(database, channels, now) == 2
    assert deliver(database, channels, now) == 0  # delivered once
    ((headers, body),) = receiver.requests
    assert headers["X-Rentmeter-Event"] == "invoice.issued" and headers["Idempotency-Key"].startswith(
        "notification-"
    )
    assert verify_signature(SECRET, headers["X-Rentmeter-Signature"], body, int(now.timestamp()))
    assert not verify_signature(
        "another-secret-0123456789", headers["X-Rentmeter-Signature"], body, int(now.timestamp())
    )
    assert not verify_signature(SECRET, headers["X-Rentmeter-Signature"], body + b" ", int(now.timestamp()))
    assert not verify_signature(SECRET, headers["X-Rentmeter-Signature"], body, int(now.timestamp()) + 3600)
    data = json.loads(body)["data"]
    assert (data["number"], data["renter"], data["total_minor"]) == (invoiced, "eve", 30)
    (message,) = mailbox.messages
    assert (message["To"], message["Subject"]) == ("eve@example.org", f"Invoice {invoiced}: 0.30 EUR")
    (pdf,) = [part for part in message.walk() if part.get_content_type() == "application/pdf"]
    text = PdfReader(io.BytesIO(pdf.get_payload(decode=True))).pages[0].extract_text()
    assert invoiced in text and "0.30 EUR" in text


def test_a_failed_webhook_is_retried_with_backoff(database: Database, invoiced: str) -> None:
    receiver = Receiver(failures=1)
    channels = Channels(receiver.url, SECRET)  # no SMTP: the e-mail is dropped, and recorded as such
    now = START + 2 * HOUR
    assert deliver(database, channels, now) == 2

    def outbox(db):  # type: ignore[no-untyped-def]
        rows = db.query(Notification).order_by(Notification.id)
        return [(n.channel, n.attempts, n.delivered_at, n.last_error, n.next_attempt_at) for n in rows]

    pending = database.call(outbox)
    assert pending == [
        ("webhook", 1, None, f"HTTP 500 from {receiver.url}", now + timedelta(seconds=30)),
        ("email", 1, now, "dropped: no smtp_host configured", now),
    ]
    assert deliver(database, channels, now + timedelta(seconds=29)) == 0  # not due yet
    assert deliver(database, channels, now + timedelta(seconds=30)) == 1
    assert len(receiver.requests) == 2 and receiver.requests[0][1] == receiver.requests[1][1]  # same body


def test_signatures_are_hmac_sha256_of_timestamp_and_body() -> None:
    expected = hmac.new(b"k", b"1700000000.{}", "sha256").hexdigest()
    assert sign("k", b"{}", 1700000000) == f"t=1700000000,v1={expected}"
    assert not verify_signature("k", "garbage", b"{}", 1700000000)
