"""The payment gateway's webhooks: an HTTP endpoint that accepts only events signed with the shared secret.

Stripe confirms payments that finish later (a card needing authentication, a delayed method) by POSTing
events to `/webhooks/stripe`. The signature (`Stripe-Signature`) is checked with the official SDK before
anything is read; a forged, altered or stale event gets 400 and changes nothing. `payment_intent.succeeded`
for one of our invoices (metadata invoice_id) records the payment, once: a repeated event is a no-op.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from collector.core.errors import CollectorError
from collector.db.database import Database
from collector.payments.collection import mark_paid

logger = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
PATH = "/webhooks/stripe"


def handle_stripe_event(
    database: Database, payload: bytes, signature: str, secret: str, now: datetime
) -> int:
    """The HTTP status for one delivery: 400 unless correctly signed; 200 once the event is applied."""
    import stripe

    try:
        event = stripe.Webhook.construct_event(payload.decode(), signature, secret)
    except (ValueError, stripe.SignatureVerificationError) as exc:
        logger.warning("refused a payment webhook: %s", exc)
        return 400
    if event["type"] != "payment_intent.succeeded":
        return 200  # not one we act on
    intent = event["data"]["object"].to_dict()
    invoice_id = (intent.get("metadata") or {}).get("invoice_id", "")
    if not invoice_id:
        return 200
    try:
        database.call(mark_paid, invoice_id, intent["id"], now, provider="stripe")
    except CollectorError as exc:  # already paid (a repeated event), or not ours
        logger.info("payment webhook for %s: %s", invoice_id, exc)
    return 200


class WebhookServer:
    """A small HTTP server for the gateway's webhooks, on its own thread."""

    def __init__(self, database: Database, secret: str, listen: str, now: Callable[[], datetime]) -> None:
        host, _, port = listen.rpartition(":")

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if self.path != PATH or not 0 < length <= MAX_BODY:
                    self.send_error(404 if self.path != PATH else 400)
                    return
                body = self.rfile.read(length)
                status = handle_stripe_event(
                    database, body, self.headers.get("Stripe-Signature", ""), secret, now()
                )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                logger.debug("webhook %s", format % args)

        self._server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="payment-webhooks", daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        logger.info("payment webhooks on port %d%s", self.port, PATH)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
