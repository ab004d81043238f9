"""One bad account never stops the others: a poisoned session among healthy ones (its plan prices an hour at
10^20 EUR, so its cost overflows the 64-bit minor-unit columns) is recorded and retried, while the healthy
sessions are rated, enforced and invoiced on time — by the job functions, on SQLite and PostgreSQL, and by a
running collector's scheduler and API."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

import billing
from agent.identity import Identity
from collector.accounts.wallets import top_up
from collector.db.database import Database
from collector.db.isolation import FIRST_RETRY, JobRun, current_failures
from collector.db.models import JobFailure, PlanVersion, PricePlan, RentalSession
from collector.delivery import outbox as outbox_module
from collector.delivery.outbox import Channels, Outgoing, deliver_due, enqueue_webhook
from collector.invoicing.invoices import close_due_invoices, list_invoices
from collector.metering.retention import purge_raw_data
from collector.payments.collection import collect
from collector.payments.providers import ChargeRequest, ChargeResult
from collector.server import Collector
from collector.sessions.balances import rate_and_enforce
from collector.sessions.plans import create_plan
from collector.sessions.rating import rate_sessions
from collector.sessions.rentals import start_session, stop_session
from protos.rentmeter.v1 import invoices_pb2, jobs_pb2, sessions_pb2
from rentmeter.client import AdminClient
from tests.collector.helpers import enrolled_machine
from tests.collector.test_invoicing import report_every_second

HOUR = timedelta(hours=1)
START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
HEALTHY = billing.simple_document("p", "EUR", {"standard": "36.00"}, "0", "0")  # 1 cent a second
ABSURD = billing.simple_document("absurd", "EUR", {"standard": "100000000000000000000"}, "0", "0")


def poison_plan(db: Session, now: datetime) -> None:
    """A plan stored as it could be before prices were range-checked: 10^20 EUR an hour."""
    plan = PricePlan(name="absurd", currency="EUR", created_at=now)
    plan.versions.append(
        PlanVersion(
            number=1, effective_from=datetime(1970, 1, 1, tzinfo=UTC), document=ABSURD, created_at=now
        )
    )
    db.add(plan)


def rent(database: Database, renter: str, plan: str, seconds: int = 60) -> tuple[Identity, str]:
    """A machine rented by `renter` under `plan` from START, reporting every second for `seconds`."""
    machine = enrolled_machine(database, START - HOUR)
    rental = database.call(
        start_session, agent_id=machine.agent_id, renter_id=renter, plan_name=plan, now=START
    )
    report_every_second(database, machine, START, seconds)
    return machine, rental.id


@pytest.fixture
def world(database: Database) -> dict[str, str]:
    database.call(create_plan, HEALTHY, START - HOUR)
    database.call(poison_plan, START - HOUR)
    sessions = {
        renter: rent(database, renter, plan)[1]
        for renter, plan in (("ann", "p"), ("zed", "absurd"), ("bob", "p"))
    }
    return sessions


def cost(database: Database, session_id: str) -> int:
    return database.call(lambda db: db.get(RentalSession, session_id).cost_minor)


def failures(database: Database) -> list[tuple[str, str, int]]:
    return database.call(lambda db: [(f.job, f.subject, f.attempts) for f in current_failures(db)])


def test_a_poisoned_session_is_recorded_and_the_others_are_rated(
    database: Database, world: dict[str, str]
) -> None:
    outcome = database.call(rate_sessions, START + timedelta(seconds=60))
    assert (outcome.processed, outcome.failed) == (2, [f"session {world['zed']}"])
    assert cost(database, world["ann"]) == cost(database, world["bob"]) == 60  # 60 s at 1 ct/s
    assert cost(database, world["zed"]) == 0  # its last cost stays; nothing half-written
    (failure,) = database.call(current_failures)
    assert (failure.job, failure.subject, failure.attempts) == ("rate-sessions", f"session {world['zed']}", 1)
    assert "SELECT" not in failure.error and "INSERT" not in failure.error and "UPDATE" not in failure.error
    assert len(failure.error_id) == 12 and failure.retry_at == START + timedelta(seconds=60) + FIRST_RETRY


def test_a_failed_session_is_retried_after_its_back_off_and_forgotten_once_it_succeeds(
    database: Database, world: dict[str, str]
) -> None:
    first = START + timedelta(seconds=60)
    database.call(rate_sessions, first)
    soon = database.call(rate_sessions, first + timedelta(seconds=1))
    assert (soon.processed, soon.deferred, soon.failed) == (2, 1, [])  # backing off: not even tried
    again = database.call(rate_sessions, first + FIRST_RETRY)
    assert again.failed == [f"session {world['zed']}"]
    assert failures(database) == [("rate-sessions", f"session {world['zed']}", 2)]

    def repair(db: Session) -> None:  # the provider corrects the plan's price
        version = db.scalar(select(PlanVersion).join(PricePlan).where(PricePlan.name == "absurd"))
        version.document = ABSURD.replace("100000000000000000000", "36.00")  # type: ignore[union-attr]

    database.call(repair)
    fixed = database.call(rate_sessions, first + 3 * FIRST_RETRY)
    assert (fixed.processed, fixed.failed) == (3, [])
    assert cost(database, world["zed"]) == 60 and failures(database) == []


def test_the_invoicing_job_invoices_the_healthy_renters_and_records_the_poisoned_one(
    database: Database, world: dict[str, str]
) -> None:
    for session_id in world.values():
        database.call(stop_session, session_id, START + timedelta(seconds=60))
    later = START + 2 * timedelta(days=1)
    outcome = asyncio.run(
        close_due_invoices(database, later, period=timedelta(days=1), grace=timedelta(0), prefix="RM")
    )
    assert outcome.failed == ["renter zed"] and outcome.produced == 2
    invoices = database.call(
        lambda db: sorted((i.renter_id, i.number, i.total_minor) for i in list_invoices(db))
    )
    assert invoices == [("ann", "RM-000001", 60), ("bob", "RM-000002", 60)]  # numbers stay gapless
    assert failures(database) == [("close-invoices", "renter zed", 1)]
    again = asyncio.run(
        close_due_invoices(
            database, later + FIRST_RETRY, period=timedelta(days=1), grace=timedelta(0), prefix="RM"
        )
    )
    assert (again.failed, again.produced) == (["renter zed"], 0)  # retried, still failing, nothing twice
    assert database.call(lambda db: db.scalar(text("SELECT count(*) FROM invoices"))) == 2


def test_prepaid_sessions_are_enforced_beside_a_poisoned_one(
    database: Database, world: dict[str, str]
) -> None:
    database.call(
        top_up, "ann", billing.Money.of(billing.plan.parse_price("0.30", "amount"), "EUR"), "t1", START
    )
    levels, grace = (billing.plan.parse_price("0.50", "level"),), timedelta(seconds=5)
    run = database.call(rate_and_enforce, START + timedelta(seconds=60), levels, grace)
    assert [(e.rental.id, e.kind) for e in run.events] == [(world["ann"], "low_balance")]
    assert run.outcome.failed == [f"session {world['zed']}"]


def test_one_notification_or_payment_that_raises_does_not_stop_the_others(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def outbox(db: Session) -> None:
        enqueue_webhook(db, "test.one", {"n": 1}, START)
        enqueue_webhook(db, "test.two", {"n": 2}, START)

    database.call(outbox)
    sent: list[int] = []

    def post(item: Outgoing, channels: Channels, now: datetime) -> str:
        if item.payload["data"]["n"] == 1 if "data" in item.payload else item.payload["n"] == 1:
            raise KeyError("a bug in one notification")
        sent.append(item.payload["n"])
        return ""

    monkeypatch.setattr(outbox_module, "_post", post)
    channels = Channels("http://127.0.0.1:9/hook", "s" * 16, "", 25, "x@y.z")
    outcome = asyncio.run(deliver_due(database, channels, START))
    assert sent == [2] and outcome.produced == 2 and len(outcome.failed) == 1
    rows = database.call(
        lambda db: db.execute(
            text("SELECT attempts, delivered_at IS NULL, last_error FROM notifications ORDER BY id")
        ).all()
    )
    assert rows[0][:2] == (1, True) and "error id" in rows[0][2]  # retried later by the outbox
    assert rows[1][:2] == (1, False)

    class Provider:
        name = "card"

        def charge(self, request: ChargeRequest) -> ChargeResult:
            if request.reference == "inv-bad":
                raise RuntimeError("the gateway library crashed")
            return ChargeResult(True, f"ch_{request.reference}")

    money = billing.Money(100, "EUR")
    requests = [("card", ChargeRequest(i, "x", money, "c", "s", f"k-{i}")) for i in ("inv-bad", "inv-good")]
    results = collect(requests, {"card": Provider()})
    assert [(r.reference, o.succeeded) for _, r, o in results] == [("inv-bad", False), ("inv-good", True)]
    assert "error id" in results[0][2].error


def test_retention_purges_each_machine_up_to_its_own_uninvoiced_data(database: Database) -> None:
    database.call(create_plan, HEALTHY, START - HOUR)
    database.call(poison_plan, START - HOUR)
    stuck, stuck_session = rent(database, "stuck", "absurd", seconds=30)  # cannot be invoiced
    _, done_session = rent(database, "done", "p", seconds=30)
    for session_id in (stuck_session, done_session):
        database.call(stop_session, session_id, START + timedelta(seconds=30))
    asyncio.run(
        close_due_invoices(
            database, START + timedelta(days=2), period=timedelta(days=1), grace=timedelta(0), prefix="RM"
        )
    )
    outcome = database.call(purge_raw_data, START + timedelta(days=200), timedelta(days=180))
    kept = database.call(
        lambda db: db.execute(text("SELECT agent_id, count(*) FROM samples GROUP BY agent_id")).all()
    )
    assert dict(kept) == {stuck.agent_id: 30}  # the stuck renter's data only; the invoiced machine purged
    assert outcome.produced == 30 + 3


def test_savepoints_roll_back_alone_and_a_released_one_does_not_commit(database: Database) -> None:
    """The isolation rests on savepoints; on SQLite they need real BEGINs (collector/db/engine.py)."""

    def work(db: Session) -> None:
        run = JobRun(db, "test-job", START)
        run.each(
            "first",
            lambda: db.add(
                JobFailure(
                    job="x",
                    subject="kept",
                    attempts=1,
                    first_failed_at=START,
                    last_failed_at=START,
                    retry_at=START,
                    error="",
                    error_id="",
                )
            ),
        )
        run.each("second", lambda: (_ for _ in ()).throw(ValueError("boom")))
        raise RuntimeError("the whole transaction rolls back")

    with pytest.raises(RuntimeError):
        database.call(work)
    assert database.call(lambda db: db.scalar(text("SELECT count(*) FROM job_failures"))) == 0


def test_a_running_collector_shows_failures_and_invoices_the_others(
    collector: Collector, admin: AdminClient
) -> None:
    database = collector.database
    database.call(create_plan, HEALTHY, START - HOUR)
    database.call(poison_plan, START - HOUR)
    now = datetime.now(UTC)
    for renter, plan in (("ann", "p"), ("zed", "absurd")):
        machine = enrolled_machine(database, now - HOUR)
        rental = database.call(
            start_session,
            agent_id=machine.agent_id,
            renter_id=renter,
            plan_name=plan,
            now=now - timedelta(minutes=2),
        )
        report_every_second(database, machine, now - timedelta(minutes=2), 60)
        admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=rental.id))
    closed = admin.invoices.CloseInvoices(invoices_pb2.CloseInvoicesRequest(invoice_now=True))
    assert [i.renter for i in closed.invoices] == ["ann"]
    assert [(f.job, f.subject) for f in closed.failures] == [("close-invoices", "renter zed")]
    assert closed.failures[0].error_id and "INSERT" not in closed.failures[0].error
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the scheduler's rating job runs every second in this fixture
        status = admin.jobs.GetJobStatus(jobs_pb2.GetJobStatusRequest())
        rating = {j.name: j for j in status.jobs}["rate-sessions"]
        if rating.runs and any(f.job == "rate-sessions" for f in status.failures):
            break
        time.sleep(0.2)
    assert rating.runs >= 1 and not rating.error
    assert {(f.job, f.subject.split()[0]) for f in status.failures} == {
        ("close-invoices", "renter"),
        ("rate-sessions", "session"),
    }
