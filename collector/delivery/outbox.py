"""Notifications: signed webhooks to the provider and e-mail to renters, through a durable outbox.

Events are written to the `notifications` table in the same transaction as what they tell about (an
invoice, a low balance, a stopped session), so a crash loses none. A job delivers pending ones outside any
transaction and records the outcome; a failure is retried with exponential backoff (30 s doubling, at most
6 h apart) and given up after MAX_ATTEMPTS.

Webhooks are POSTed as JSON with `X-Rentmeter-Event`, `Idempotency-Key` (the notification id: a receiver
drops repeats) and `X-Rentmeter-Signature: t=UNIX,v1=HEX`, HEX being HMAC-SHA256 of "UNIX.BODY" under the
shared secret; verify_signature() is the receiver's check (it also refuses stale timestamps).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import smtplib
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.db.database import Database
from collector.db.isolation import JobOutcome, JobRun
from collector.db.models import Invoice, Notification
from collector.delivery.documents import render_invoice

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=6)
SIGNATURE_TOLERANCE_S = 300
BATCH = 100
DELIVERY_JOB = "deliver-notifications"
SECRET_REMOVED = "(text removed once sent: it held a one-time link)"


@dataclass(frozen=True)
class Channels:
    """Where notifications go; an unset channel drops its notifications (recorded as such)."""

    webhook_url: str = ""
    webhook_secret: str = ""
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "rentmeter@localhost"
    timeout_s: float = 10.0


def enqueue_webhook(db: Session, event: str, body: dict[str, Any], now: datetime) -> None:
    db.add(Notification(channel="webhook", event=event, payload=body, created_at=now, next_attempt_at=now))


def enqueue_email(
    db: Session,
    event: str,
    to: str,
    subject: str,
    text: str,
    now: datetime,
    invoice_id: str = "",
    *,
    secret: bool = False,
) -> None:
    """An e-mail to send; `secret`: its text holds a secret (a one-time link) and is removed from the
    outbox once it is sent or given up."""
    payload: dict[str, Any] = {"to": to, "subject": subject, "text": text, "invoice_id": invoice_id}
    if secret:
        payload["secret"] = True
    db.add(Notification(channel="email", event=event, payload=payload, created_at=now, next_attempt_at=now))


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(secret: str, header: str, body: bytes, now: int) -> bool:
    """Whether `header` signs `body` under `secret` within SIGNATURE_TOLERANCE_S of `now` (Unix seconds)."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > SIGNATURE_TOLERANCE_S:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp), f"t={timestamp},v1={fields.get('v1', '')}")


@dataclass(frozen=True)
class Outgoing:
    id: int
    channel: str
    event: str
    payload: dict[str, Any]
    attachment: tuple[str, bytes] | None = None  # (filename, PDF) for invoice e-mails


def due(db: Session, now: datetime) -> list[Outgoing]:
    """Up to BATCH pending notifications whose next attempt is due, with their attachments rendered (one
    whose attachment cannot be rendered is recorded as a job failure and retried later)."""
    rows = db.scalars(
        select(Notification)
        .where(Notification.delivered_at.is_(None), Notification.failed_at.is_(None),
               Notification.next_attempt_at <= now)
        .order_by(Notification.id)
        .limit(BATCH)
    )  # fmt: skip
    run = JobRun(db, DELIVERY_JOB, now)
    outgoing = []
    for row in list(rows):
        item = run.each(f"notification {row.id}", partial(_outgoing, db, row))
        if item is not None:
            outgoing.append(item)
    return outgoing


def _outgoing(db: Session, row: Notification) -> Outgoing:
    attachment = None
    invoice_id = row.payload.get("invoice_id") if row.channel == "email" else None
    if invoice_id and (invoice := db.get(Invoice, invoice_id)) is not None:
        document = render_invoice(invoice, "pdf")
        attachment = (document.filename, document.content)
    return Outgoing(row.id, row.channel, row.event, dict(row.payload), attachment)


def send(item: Outgoing, channels: Channels, now: datetime) -> str:
    """Deliver one notification; '' on success, else why it failed. Runs outside any transaction."""
    try:
        if item.channel == "webhook":
            return _post(item, channels, now)
        return _mail(item, channels)
    except (OSError, smtplib.SMTPException) as exc:
        return f"{type(exc).__name__}: {exc}"
    except Exception:  # one notification's bug must not stop the others' delivery
        error_id = secrets.token_hex(6)
        logger.exception(
            "notification %d (%s) failed unexpectedly (error id %s)", item.id, item.event, error_id
        )
        return f"unexpected error (error id {error_id})"


def _post(item: Outgoing, channels: Channels, now: datetime) -> str:
    if not channels.webhook_url:
        return "dropped: no webhook_url configured"
    body = json.dumps({"id": item.id, "event": item.event, "data": item.payload}, sort_keys=True).encode()
    request = urllib.request.Request(channels.webhook_url, data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("X-Rentmeter-Event", item.event)
    request.add_header("Idempotency-Key", f"notification-{item.id}")
    request.add_header("X-Rentmeter-Signature", sign(channels.webhook_secret, body, int(now.timestamp())))
    try:
        with urllib.request.urlopen(request, timeout=channels.timeout_s) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code} from {channels.webhook_url}"
    return ""


def _mail(item: Outgoing, channels: Channels) -> str:
    if not channels.smtp_host:
        return "dropped: no smtp_host configured"
    message = EmailMessage()
    message["From"] = channels.smtp_from
    message["To"] = item.payload["to"]
    message["Subject"] = item.payload["subject"]
    message["Message-ID"] = f"<notification-{item.id}@rentmeter>"
    message.set_content(item.payload["text"])
    if item.attachment is not None:
        filename, content = item.attachment
        message.add_attachment(content, maintype="application", subtype="pdf", filename=filename)
    with smtplib.SMTP(channels.smtp_host, channels.smtp_port, timeout=channels.timeout_s) as smtp:
        smtp.send_message(message)
    return ""


def record(db: Session, outcomes: Sequence[tuple[int, str]], now: datetime) -> JobOutcome:
    """Store what each attempt did: delivered, dropped (channel not configured), or retried later."""
    run = JobRun(db, DELIVERY_JOB, now)
    for notification_id, error in outcomes:
        run.each(f"notification {notification_id}", partial(_record, db, notification_id, error, now))
        if error and not error.startswith("dropped:"):
            run.outcome.failed.append(f"notification {notification_id}")
    return run.outcome


def _record(db: Session, notification_id: int, error: str, now: datetime) -> None:
    row = db.get(Notification, notification_id)
    if row is None:
        return
    row.attempts += 1
    row.last_error = error
    if not error or error.startswith("dropped:"):
        row.delivered_at = now
        _forget_secret(row)
    elif row.attempts >= MAX_ATTEMPTS:
        row.failed_at = now
        _forget_secret(row)
        logger.error("notification %d (%s) given up after %d attempts: %s",
                     row.id, row.event, row.attempts, error)  # fmt: skip
    else:
        row.next_attempt_at = now + min(FIRST_RETRY * 2 ** (row.attempts - 1), LONGEST_RETRY)
        logger.warning("notification %d (%s) failed, retry at %s: %s", row.id, row.event,
                       row.next_attempt_at.isoformat(), error)  # fmt: skip


def _forget_secret(row: Notification) -> None:
    if row.payload.get("secret"):
        row.payload = {**row.payload, "text": SECRET_REMOVED}


async def deliver_due(database: Database, channels: Channels, now: datetime) -> JobOutcome:
    """The delivery job: send the due notifications (outside any transaction), each on its own, and record
    what happened; the outcome's `produced` is how many were attempted."""
    items = await database.run(due, now)
    if not items:
        return JobOutcome(DELIVERY_JOB)
    loop = asyncio.get_running_loop()
    outcomes = await loop.run_in_executor(None, lambda: [(i.id, send(i, channels, now)) for i in items])
    outcome = await database.run(record, outcomes, now)
    outcome.produced = len(items)
    return outcome
