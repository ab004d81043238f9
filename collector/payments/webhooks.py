"""Stripe's webhook events, accepted only when signed with the shared secret.

Stripe confirms payments that finish later (a card needing authentication, a delayed method) by POSTing
events to the portal's `/webhooks/stripe`, which hands them over with PaymentService.ApplyNotification
(the collector's own HTTP server for them is gone: the portal is the one public HTTP endpoint). The
signature (`Stripe-Signature`) is checked with the official SDK before anything is read; a forged, altered
or stale event gets 400 and changes nothing. `payment_intent.succeeded`
for one of our invoices (metadata invoice_id) records the payment, once: a repeated event is a no-op.
"""

from __future__ import annotations

import logging
from datetime import datetime

from collector.core.errors import CollectorError
from collector.db.database import Database
from collector.payments.collection import mark_paid

logger = logging.getLogger(__name__)


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
