"""Typed SQLAlchemy models. Times are timezone-aware UTC; sample times are integer microseconds since the
Unix epoch (exact, cheap to sum); money is integer minor units; prices are exact decimal text."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: rentmeter stores only timezone-aware times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON}


class EnrollmentToken(Base):
    """A one-time enrollment token; only its SHA-256 is kept."""

    __tablename__ = "enrollment_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    machine_class: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    agent_id: Mapped[str | None] = mapped_column(String(40))
    # The host account the enrolled machine will belong to ("" = the provider's own).
    host_id: Mapped[str] = mapped_column(String(100), default="", server_default="")


class Machine(Base):
    """An enrolled machine and its agent's public key; also the agent's ingest watermark."""

    __tablename__ = "machines"

    agent_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    machine_class: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200), default="")
    facts: Mapped[dict[str, Any]]
    enrolled_at: Mapped[datetime]
    last_seen_at: Mapped[datetime | None]
    last_sequence: Mapped[int] = mapped_column(BigInteger, default=0)
    # End of the latest stored report; stored samples of one machine never overlap before this.
    last_report_end_us: Mapped[int | None] = mapped_column(BigInteger)
    # A revoked machine's key is refused.
    revoked_at: Mapped[datetime | None]
    # After a key rotation: the previous key, valid for reports up to previous_key_until_sequence.
    previous_public_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    previous_key_until_sequence: Mapped[int | None] = mapped_column(BigInteger)
    # The host account that owns the machine ("" = the provider's own).
    host_id: Mapped[str] = mapped_column(String(100), default="", server_default="", index=True)


class Report(Base):
    """A signed report exactly as received: the evidence behind every sample."""

    __tablename__ = "reports"
    # On PostgreSQL the table is partitioned by end_us (collector.db.partitions), and a unique constraint of
    # a partitioned table must hold its partition key. A copy of a report resent has the same end, so the
    # constraint still refuses it; a different report under a stored sequence is refused by ingest (the
    # machine's sequence watermark, read under a row lock).
    __table_args__ = (
        UniqueConstraint("agent_id", "sequence", "end_us"),
        # What arrived since: rating checkpoints (by id) and invoices' late usage (by received_at).
        Index("ix_reports_agent_id", "agent_id", "id"),
        Index("ix_reports_agent_received", "agent_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("machines.agent_id"))
    sequence: Mapped[int] = mapped_column(BigInteger)
    start_us: Mapped[int] = mapped_column(BigInteger)
    end_us: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime]
    boot_time_us: Mapped[int | None] = mapped_column(BigInteger)
    logins: Mapped[dict[str, Any]]
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    # The rental session the agent believed active (from control messages); informational.
    rental_session_id: Mapped[str | None] = mapped_column(String(40))


class Sample(Base):
    """One sampled interval [start_us, end_us) of a machine; counters are deltas over it."""

    __tablename__ = "samples"
    __table_args__ = (Index("ix_samples_agent_start", "agent_id", "start_us"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("machines.agent_id"))
    report_sequence: Mapped[int] = mapped_column(BigInteger)
    start_us: Mapped[int] = mapped_column(BigInteger)
    end_us: Mapped[int] = mapped_column(BigInteger)
    cpu_busy_us: Mapped[int] = mapped_column(BigInteger)
    cpu_utilization: Mapped[float] = mapped_column(Float)
    memory_used_bytes: Mapped[int] = mapped_column(BigInteger)
    memory_total_bytes: Mapped[int] = mapped_column(BigInteger)
    disk_read_bytes: Mapped[int] = mapped_column(BigInteger)
    disk_write_bytes: Mapped[int] = mapped_column(BigInteger)
    net_rx_bytes: Mapped[int] = mapped_column(BigInteger)
    net_tx_bytes: Mapped[int] = mapped_column(BigInteger)


class ReportGap(Base):
    """A hole an agent reported in its own reporting: a report it set aside because its copy no longer
    verified or decoded, or a spool file it could not read. Carried, signed, by a later report."""

    __tablename__ = "report_gaps"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("machines.agent_id"), index=True)
    # The sequence of the report that told it.
    reported_in: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20))  # forged, unreadable, spool_lost, unspecified
    # The lost report's sequence and time range, when the agent knows them.
    sequence: Mapped[int | None] = mapped_column(BigInteger)
    start_us: Mapped[int | None] = mapped_column(BigInteger)
    end_us: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime]


class ReportRejection(Base):
    """A report the collector refused (REJECTED, CONFLICT or FORGED ack), kept so that every collector
    sharing the database sees what was refused and why (the metrics count only their own process)."""

    __tablename__ = "report_rejections"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("machines.agent_id"), index=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10))  # rejected, conflict, forged
    kind: Mapped[str] = mapped_column(String(40))  # the bounded reason kind, as the metrics label it
    reason: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(index=True)


class GpuSample(Base):
    """One GPU's use over a sample's interval; energy is what it used during the interval."""

    __tablename__ = "gpu_samples"
    __table_args__ = (Index("ix_gpu_samples_agent_start", "agent_id", "start_us"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("machines.agent_id"))
    report_sequence: Mapped[int] = mapped_column(BigInteger)
    start_us: Mapped[int] = mapped_column(BigInteger)
    end_us: Mapped[int] = mapped_column(BigInteger)
    gpu_index: Mapped[int] = mapped_column(Integer)
    uuid: Mapped[str] = mapped_column(String(80))
    utilization_percent: Mapped[int] = mapped_column(Integer)
    memory_utilization_percent: Mapped[int] = mapped_column(Integer)
    memory_used_bytes: Mapped[int] = mapped_column(BigInteger)
    memory_total_bytes: Mapped[int] = mapped_column(BigInteger)
    power_mw: Mapped[int] = mapped_column(BigInteger)
    energy_mj: Mapped[int] = mapped_column(BigInteger)
    # [[pid, used memory bytes], ...]; process ids only, never names.
    processes: Mapped[dict[str, Any]]


class PricePlan(Base):
    """A named price list; what it charges is in its versions."""

    __tablename__ = "price_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime]

    # Loaded on first use, then kept with the plan for the rest of the transaction.
    versions: Mapped[list[PlanVersion]] = relationship(order_by="PlanVersion.number", lazy="select")


class PlanVersion(Base):
    """One version of a plan: its document (TOML, as given) in force from `effective_from`."""

    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("plan_id", "number"), UniqueConstraint("plan_id", "effective_from"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("price_plans.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[datetime]
    document: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Renter(Base):
    """A renter account; `invoiced_until` is where its next invoice period starts."""

    __tablename__ = "renters"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    created_at: Mapped[datetime]
    invoiced_until: Mapped[datetime]
    # Prepaid renters pay from their wallet and their sessions stop when it runs out.
    prepaid: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Billing cycle ("" = the collector's invoice period, else hourly, daily, weekly or monthly from
    # cycle_anchor, default created_at), and when the next period ends (None: not yet worked out).
    billing_cycle: Mapped[str] = mapped_column(String(10), default="", server_default="")
    cycle_anchor: Mapped[datetime | None]
    next_invoice_at: Mapped[datetime | None] = mapped_column(index=True)
    # Where invoices and alerts are sent (optional).
    email: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # How invoices are paid when not from a wallet: "" (manual: bank transfer, marked paid) or "stripe"
    # with the provider's customer and payment method ids.
    payment_method: Mapped[str] = mapped_column(String(20), default="", server_default="")
    payment_customer: Mapped[str] = mapped_column(String(100), default="", server_default="")
    payment_source: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # IANA time zone of its billing periods ("" = UTC with the anchor's time of day, as before zones).
    time_zone: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # When its personal data was erased (rentmeter renter erase): no profile is built for it again.
    erased_at: Mapped[datetime | None]


class RentalSession(Base):
    __tablename__ = "rental_sessions"
    __table_args__ = (
        Index("ix_rental_sessions_agent_open", "agent_id", "ended_at"),
        Index("ix_rental_sessions_ended", "ended_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("machines.agent_id"))
    renter_id: Mapped[str] = mapped_column(ForeignKey("renters.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("price_plans.id"))
    # The machine's class when the session started: what the plan rates it by.
    machine_class: Mapped[str] = mapped_column(String(64))
    # The rest of the rental's terms (billing.RentalTerms).
    service_level: Mapped[str] = mapped_column(String(30), default="", server_default="")
    member_tier: Mapped[str] = mapped_column(String(30), default="", server_default="")
    coupon: Mapped[str] = mapped_column(String(30), default="", server_default="")
    # resource name -> decimal text
    resources: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Prepaid renters: the wallet amount held while the session runs, the lowest balance alert already
    # sent (minor units), and when the balance ran out.
    hold_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    alerted_below_minor: Mapped[int | None] = mapped_column(BigInteger)
    exhausted_at: Mapped[datetime | None]
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    # Demand-based prices (billing/dynamic.py): the multipliers locked for the session, as
    # [[iso time, "1.20"], ...] from its start (empty: static prices), and the lock period in microseconds
    # (None: the whole session).
    price_locks: Mapped[list[Any] | None] = mapped_column(JSON)
    price_lock_us: Mapped[int | None] = mapped_column(BigInteger)
    # Live estimate, refreshed by the rating job.
    cost_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    covered_us: Mapped[int] = mapped_column(BigInteger, default=0)
    rated_at: Mapped[datetime | None]

    plan: Mapped[PricePlan] = relationship(lazy="joined")
    machine: Mapped[Machine] = relationship(lazy="joined")


class Invoice(Base):
    """A closed invoice: immutable once written."""

    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("renter_id", "currency", "period_start"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The issuer's invoice number, e.g. "RM-000042": consecutive, without gaps.
    number: Mapped[str] = mapped_column(String(40), unique=True)
    renter_id: Mapped[str] = mapped_column(ForeignKey("renters.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    issued_at: Mapped[datetime]
    total_minor: Mapped[int] = mapped_column(BigInteger)
    # Invoices not paid from a wallet: when paid, and the collection (dunning) state.
    paid_at: Mapped[datetime | None]
    collection_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_collection_at: Mapped[datetime | None]
    # The renter's time zone when the period was cut ("" = UTC): documents show the period in it.
    time_zone: Mapped[str] = mapped_column(String(64), default="", server_default="")

    lines: Mapped[list[InvoiceLine]] = relationship(
        order_by="InvoiceLine.position", lazy="selectin", cascade="all, delete-orphan"
    )


class InvoiceCounter(Base):
    """The last invoice number of an issuer (a number prefix). Incremented in the transaction that writes
    the invoice, so a rolled-back invoice leaves no gap."""

    __tablename__ = "invoice_counters"

    prefix: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_number: Mapped[int] = mapped_column(BigInteger)


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    session_id: Mapped[str] = mapped_column(ForeignKey("rental_sessions.id"), index=True)
    meter: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[str] = mapped_column(String(60))
    unit: Mapped[str] = mapped_column(String(10))
    rate: Mapped[str] = mapped_column(String(40))
    rate_unit: Mapped[str] = mapped_column(String(10))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    # How the quantity was obtained (billing/confidence.py): measured, gap or adjusted; and the seconds of
    # the line's stretch that signed reports cover and do not cover, in microseconds.
    basis: Mapped[str] = mapped_column(String(10), default="measured", server_default="measured")
    covered_us: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    uncovered_us: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class LedgerTransaction(Base):
    """A balanced, immutable set of ledger entries (billing.ledger.Transaction)."""

    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(100), default="")
    # Makes a retried request (a top-up sent twice, a charge posted again) a no-op.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime]

    entries: Mapped[list[LedgerEntry]] = relationship(lazy="selectin", order_by="LedgerEntry.id")


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_entries_account", "account", "currency"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account: Mapped[str] = mapped_column(String(120))
    currency: Mapped[str] = mapped_column(String(3))
    # Debit > 0, credit < 0.
    amount_minor: Mapped[int] = mapped_column(BigInteger)


class Notification(Base):
    """An outbox entry: a webhook or e-mail written in the transaction of the event it tells about, then
    delivered (and retried) by a job, so none is lost and none holds a transaction open."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_pending", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))  # "webhook" or "email"
    event: Mapped[str] = mapped_column(String(40))  # e.g. "invoice.issued", "balance.low"
    # webhook: the JSON body; email: to, subject, text and optionally an invoice id to attach
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]  # gave up after MAX_ATTEMPTS
    last_error: Mapped[str] = mapped_column(Text, default="")


class Payment(Base):
    """One attempt to take a payment, and its outcome: for an invoice, or (no invoice) a wallet top-up
    charged to the renter's payment method."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    invoice_id: Mapped[str | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    renter_id: Mapped[str] = mapped_column(String(100), default="", server_default="", index=True)
    provider: Mapped[str] = mapped_column(String(20))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    succeeded: Mapped[bool]
    reference: Mapped[str] = mapped_column(String(200), default="")
    idempotency_key: Mapped[str] = mapped_column(String(200))
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class CreditNote(Base):
    """A correction of a final invoice: money given back, numbered in its own gapless series (CN-...)."""

    __tablename__ = "credit_notes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    renter_id: Mapped[str] = mapped_column(ForeignKey("renters.id"))
    currency: Mapped[str] = mapped_column(String(3))
    # What is credited (positive), split like the invoice into net and tax.
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime]


class ApiToken(Base):
    """A bearer token for the admin API, stored only as its SHA-256 hash, with its role and subject (the
    host account or renter it speaks for). A sign-in token (made by Login) names its account and expires."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(10))  # admin, host, renter
    subject: Mapped[str] = mapped_column(String(100), default="")
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # Sign-in tokens only: the account signed in, and when the token stops being accepted.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    expires_at: Mapped[datetime | None] = mapped_column(index=True)


class Account(Base):
    """A person who signs in with a name and password: a renter, a host or one of the provider's admins.
    The password is kept only as an argon2id hash ("" = none set: sign-in only after a reset)."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)  # lower case
    role: Mapped[str] = mapped_column(String(10))  # admin, host, renter
    subject: Mapped[str] = mapped_column(String(100), default="")  # renter id or host id ("" for admins)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(200), default="", index=True)  # lower case
    locale: Mapped[str] = mapped_column(String(20), default="")
    time_zone: Mapped[str] = mapped_column(String(64), default="")
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]


class LoginThrottle(Base):
    """Failed sign-ins in a row for a name (any name, existing or not, so that a lock reveals nothing),
    shared by every collector on the database; a success removes the row."""

    __tablename__ = "login_throttles"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(index=True)
    locked_until: Mapped[datetime | None]


class PasswordReset(Base):
    """A one-time password reset token, stored only as its SHA-256 hash."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class AuditEntry(Base):
    """One line of the append-only audit log: who did what, chained to the line before by a SHA-256 hash."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))  # e.g. "admin", "host:h1", "collector"
    action: Mapped[str] = mapped_column(String(80))  # e.g. "PlanService/CreatePlan", "ledger:top-up"
    details: Mapped[str] = mapped_column(Text)  # canonical JSON
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's last hash; locked by every append so that appends are strictly one after another."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


class JobFailure(Base):
    """A subject (a session, a renter, an invoice, a machine) that a scheduled job failed to process: kept
    until the job succeeds with it, retried from `retry_at` on; the other subjects are not held up."""

    __tablename__ = "job_failures"
    __table_args__ = (UniqueConstraint("job", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer)
    first_failed_at: Mapped[datetime]
    last_failed_at: Mapped[datetime]
    retry_at: Mapped[datetime]
    error: Mapped[str] = mapped_column(Text)  # one sentence; never SQL or parameters
    error_id: Mapped[str] = mapped_column(String(16))  # finds the stack trace in the collector's log


class TimePack(Base):
    """A time pack a renter bought from its wallet under a plan's offer (billing/packs.py): its pack time
    (None: unlimited while valid), validity and window, fixed when bought; and what the renter chose for
    when it and the wallet's money for metered time run out ("payg": the session goes on, metered, while
    the wallet pays; "stop": the session stops when the pack is used up)."""

    __tablename__ = "time_packs"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    renter_id: Mapped[str] = mapped_column(ForeignKey("renters.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("price_plans.id"))
    name: Mapped[str] = mapped_column(String(30))
    currency: Mapped[str] = mapped_column(String(3))
    price_minor: Mapped[int] = mapped_column(BigInteger)
    time_us: Mapped[int | None] = mapped_column(BigInteger)
    window: Mapped[str] = mapped_column(String(30), default="", server_default="")
    bought_at: Mapped[datetime]
    valid_until: Mapped[datetime]
    when_used_up: Mapped[str] = mapped_column(String(10), default="payg", server_default="payg")
    # The ledger key of the purchase: a retried request buys once.
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)

    plan: Mapped[PricePlan] = relationship(lazy="joined")


class PackUse(Base):
    """Pack time one session used from one pack (microseconds), refreshed whenever the session is rated;
    `warned`: the session's machine was told that the pack runs low."""

    __tablename__ = "pack_uses"

    pack_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), ForeignKey("time_packs.id"), primary_key=True
    )
    session_id: Mapped[str] = mapped_column(ForeignKey("rental_sessions.id"), primary_key=True, index=True)
    used_us: Mapped[int] = mapped_column(BigInteger, default=0)
    warned: Mapped[bool] = mapped_column(default=False, server_default=false())


class PriceStep(Base):
    """A published demand multiplier of one plan's machine class for [starts_at, ends_at): a promise,
    written once before the step begins and never changed."""

    __tablename__ = "price_steps"
    __table_args__ = (UniqueConstraint("plan_id", "machine_class", "starts_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("price_plans.id"))
    machine_class: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    multiplier: Mapped[str] = mapped_column(String(20))  # exact decimal text, e.g. "1.20"
    occupancy: Mapped[str] = mapped_column(String(40))  # the expected occupancy it was computed from
    published_at: Mapped[datetime]


class ClassOccupancy(Base):
    """Rented machine time of one machine class in one UTC hour, counted incrementally from sessions: the
    history that demand-based prices forecast occupancy from."""

    __tablename__ = "class_occupancy"

    machine_class: Mapped[str] = mapped_column(String(64), primary_key=True)
    hour_start: Mapped[datetime] = mapped_column(primary_key=True)
    occupied_us: Mapped[int] = mapped_column(BigInteger, default=0)


class OccupancyMark(Base):
    """Which span of time sessions have been counted into class_occupancy for (one row)."""

    __tablename__ = "occupancy_marks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counted_from: Mapped[datetime]
    counted_until: Mapped[datetime]


class RenterProfile(Base):
    """How a renter uses machines (collector/insights/behaviour.py), folded in incrementally: sessions that
    ended up to `folded_until` and wallet entries up to id `ledger_after` are in `data`."""

    __tablename__ = "renter_profiles"

    renter_id: Mapped[str] = mapped_column(ForeignKey("renters.id"), primary_key=True)
    folded_until: Mapped[datetime]
    ledger_after: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime]
    data: Mapped[dict[str, Any]]


class ClassProfile(Base):
    """How one host's machines of one class are used (occupancy by UTC hour of week, revenue), folded in
    with the renter profiles; the provider's view sums the hosts."""

    __tablename__ = "class_profiles"
    __table_args__ = (UniqueConstraint("host_id", "machine_class"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host_id: Mapped[str] = mapped_column(String(100))
    machine_class: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]
    data: Mapped[dict[str, Any]]


class PlanRecommendation(Base):
    """The latest plan recommendation of a renter: its real usage of the last days re-rated under each plan
    on offer; `plan` is "" when what it pays now is the cheapest."""

    __tablename__ = "plan_recommendations"

    renter_id: Mapped[str] = mapped_column(ForeignKey("renters.id"), primary_key=True)
    computed_at: Mapped[datetime]
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    currency: Mapped[str] = mapped_column(String(3))
    sessions: Mapped[int] = mapped_column(Integer)
    current_minor: Mapped[int] = mapped_column(BigInteger)
    plan: Mapped[str] = mapped_column(String(100), default="")
    member_tier: Mapped[str] = mapped_column(String(30), default="")
    coupon: Mapped[str] = mapped_column(String(30), default="")
    plan_minor: Mapped[int] = mapped_column(BigInteger)
    saving_minor: Mapped[int] = mapped_column(BigInteger)
    evidence: Mapped[str] = mapped_column(Text)
    # Every candidate's total: [{"plan", "member_tier", "coupon", "total_minor"} or {"plan", "error"}].
    alternatives: Mapped[dict[str, Any]]
    # What was last announced to the renter ("plan/tier/coupon"), so each recommendation is sent once.
    notified: Mapped[str] = mapped_column(String(200), default="")


class OfferRule(Base):
    """A provider's rule: renters meeting `condition` over the last `window_days` are offered a plan, a
    member tier and/or a coupon for `valid_days`."""

    __tablename__ = "offer_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    condition: Mapped[str] = mapped_column(String(20))  # rented_hours, night_share
    threshold: Mapped[str] = mapped_column(String(40))  # exact decimal text
    window_days: Mapped[int] = mapped_column(Integer)
    plan: Mapped[str] = mapped_column(String(100), default="")
    member_tier: Mapped[str] = mapped_column(String(30), default="")
    coupon: Mapped[str] = mapped_column(String(30), default="")
    valid_days: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class Offer(Base):
    """An offer made to a renter by a rule: shown from `offered_at`, applying from `valid_from` to
    `valid_until`."""

    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    renter_id: Mapped[str] = mapped_column(ForeignKey("renters.id"), index=True)
    rule: Mapped[str] = mapped_column(String(100))
    plan: Mapped[str] = mapped_column(String(100), default="")
    member_tier: Mapped[str] = mapped_column(String(30), default="")
    coupon: Mapped[str] = mapped_column(String(30), default="")
    reason: Mapped[str] = mapped_column(Text)
    offered_at: Mapped[datetime]
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]


class GatewayOrder(Base):
    """An asynchronous payment at Alipay or WeChat Pay (a QR code or a payment page): a wallet top-up or an
    invoice's payment, in fen. `out_trade_no` is ours, one per request and attempt; states: created → paid,
    closed (by us), expired (never paid), refunded (all of it given back)."""

    __tablename__ = "gateway_orders"
    __table_args__ = (UniqueConstraint("gateway", "request_key", "attempt"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    out_trade_no: Mapped[str] = mapped_column(String(32), unique=True)
    gateway: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(10))  # qr, page, wap, h5
    purpose: Mapped[str] = mapped_column(String(10))  # top_up, invoice
    renter_id: Mapped[str] = mapped_column(String(100), index=True)
    invoice_id: Mapped[str | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    # What makes a request the same: a top-up's scoped idempotency key, or the invoice id.
    request_key: Mapped[str] = mapped_column(String(200))
    attempt: Mapped[int] = mapped_column(Integer)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(10), index=True)
    pay_url: Mapped[str] = mapped_column(Text, default="")  # the QR code's content or the payment link
    trade_no: Mapped[str] = mapped_column(String(64), default="", server_default="")  # the gateway's id
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    checked_at: Mapped[datetime | None]  # last asked the gateway (the query job)
    # When the gateway says it was paid (its statement's day); paid_at is when we learnt it.
    gateway_paid_at: Mapped[datetime | None]


class GatewayRefund(Base):
    """Money given back through the gateway an order was paid with (partial or whole); on the ledger when
    asked for, reversed if the gateway fails it. States: pending, succeeded, failed."""

    __tablename__ = "gateway_refunds"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    out_refund_no: Mapped[str] = mapped_column(String(64), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("gateway_orders.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(10), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    refund_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    credit_note_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class PaymentMismatch(Base):
    """A difference between a gateway's statement of a day and the ledger, until resolved (audited)."""

    __tablename__ = "payment_mismatches"
    __table_args__ = (UniqueConstraint("gateway", "statement_date", "kind", "reference"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    gateway: Mapped[str] = mapped_column(String(20))
    statement_date: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD, the gateway's (China) day
    kind: Mapped[str] = mapped_column(String(30))  # paid_not_credited, credited_not_paid, amount_differs
    reference: Mapped[str] = mapped_column(String(64))  # out_trade_no or out_refund_no
    trade_no: Mapped[str] = mapped_column(String(64), default="", server_default="")
    gateway_minor: Mapped[int] = mapped_column(BigInteger)
    ledger_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    found_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str] = mapped_column(String(20), default="", server_default="")
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    resolved_by: Mapped[str] = mapped_column(String(200), default="", server_default="")


class PaymentAgreement(Base):
    """A renter's standing authority for a gateway to take its invoices: Alipay agreement pay (商家扣款,
    `agreement_no`) or WeChat Pay entrusted deduction (委托代扣, `contract_id`). `external_no` is ours (the
    external agreement number, WeChat Pay's out_contract_code); states: signing → active → cancelled."""

    __tablename__ = "payment_agreements"
    __table_args__ = (UniqueConstraint("gateway", "external_no"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    gateway: Mapped[str] = mapped_column(String(20))
    renter_id: Mapped[str] = mapped_column(String(100), index=True)
    external_no: Mapped[str] = mapped_column(String(32))
    agreement_no: Mapped[str] = mapped_column(String(64), default="", server_default="")
    state: Mapped[str] = mapped_column(String(10), index=True)
    sign_url: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime]
    signed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


class ReconciliationRun(Base):
    """One reconciliation of a gateway's statement of a day: how many lines matched, how many did not."""

    __tablename__ = "reconciliation_runs"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    gateway: Mapped[str] = mapped_column(String(20))
    statement_date: Mapped[str] = mapped_column(String(10), index=True)
    matched: Mapped[int] = mapped_column(Integer)
    mismatches: Mapped[int] = mapped_column(Integer)
    ran_at: Mapped[datetime]


class RatingCheckpoint(Base):
    """Where a session's rating goes on from (collector/sessions/checkpoints.py): the engine's state at a
    closed segment boundary (billing/checkpoints.py, JSON) and the one before it, the usage measured so far
    in the open segment, the newest report seen when they were checked, and what they were taken under."""

    __tablename__ = "rating_checkpoints"

    session_id: Mapped[str] = mapped_column(ForeignKey("rental_sessions.id"), primary_key=True)
    basis: Mapped[str] = mapped_column(String(64))  # digest of versions, terms and GPU models
    report_id: Mapped[int] = mapped_column(BigInteger)  # reports after it are checked for late usage
    until_us: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str | None] = mapped_column(Text)
    previous_until_us: Mapped[int | None] = mapped_column(BigInteger)
    previous_state: Mapped[str | None] = mapped_column(Text)
    open_from_us: Mapped[int | None] = mapped_column(BigInteger)
    open_until_us: Mapped[int | None] = mapped_column(BigInteger)
    open_usage: Mapped[str | None] = mapped_column(Text)


class JobLease(Base):
    """Which collector runs a scheduled job, and the last period it was claimed for (collector.db.leases).

    Several collectors on one database claim each job's period here, so each period runs once."""

    __tablename__ = "job_leases"

    job: Mapped[str] = mapped_column(String(60), primary_key=True)
    # The claimed period: whole intervals of the job since the Unix epoch.
    period: Mapped[int] = mapped_column(BigInteger)
    holder: Mapped[str] = mapped_column(String(120))
    leased_until: Mapped[datetime]
    finished: Mapped[bool] = mapped_column(default=False)


class Dispute(Base):
    """A renter's dispute of one invoice line, with the signed reports behind the line as evidence (a JSON
    bundle, verifiable offline) and its resolution: a credit note or a reasoned rejection."""

    __tablename__ = "disputes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("invoice_lines.id"))
    renter_id: Mapped[str] = mapped_column(ForeignKey("renters.id"), index=True)
    opened_at: Mapped[datetime]
    opened_by: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))  # open, credited, rejected
    evidence: Mapped[str] = mapped_column(Text)
    # The line re-rated from the evidence alone, and the reports it holds.
    rerated_minor: Mapped[int] = mapped_column(BigInteger)
    report_count: Mapped[int] = mapped_column(Integer)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str] = mapped_column(String(120), default="", server_default="")
    resolution: Mapped[str] = mapped_column(Text, default="", server_default="")
    credit_note_id: Mapped[str | None] = mapped_column(ForeignKey("credit_notes.id"))
