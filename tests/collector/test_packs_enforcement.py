"""Time packs enforced by the rating job on a real database (SQLite and PostgreSQL): the machine is warned
once when the pack runs low, the session stops when it is used up if the renter chose to stop, or goes on
paid from the wallet; a session may start on a pack alone; sessions share a pack in the order they began."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

import billing
from agent.identity import Identity
from collector.accounts.wallets import top_up
from collector.core.errors import FailedPrecondition
from collector.db.database import Database
from collector.sessions.balances import LOW_BALANCE, STOPPED, BalanceEvent, rate_and_enforce
from collector.sessions.pack_sales import buy_pack, packs_of_renter
from collector.sessions.plans import create_plan
from collector.sessions.rating import cumulative_usage
from collector.sessions.rentals import get_session, start_session, stop_session
from tests.collector.helpers import enrolled_machine
from tests.collector.test_invoicing import report_every_second

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
PLAN = """\
name = "cafe"
currency = "EUR"

[time.hourly]
standard = "36.00"

[burn_rates]
standard = "1.5"

[[packs]]
name = "quarter"
price = "1.00"
time = "15m"
"""
LEVELS = (Decimal("0.30"),)


def run_job(database: Database, seconds: int) -> list[BalanceEvent]:
    return database.call(
        rate_and_enforce, START + timedelta(seconds=seconds), LEVELS, timedelta(seconds=10)
    ).events


@pytest.fixture
def machine(database: Database) -> Identity:
    machine = enrolled_machine(database, START - timedelta(hours=1))
    database.call(create_plan, PLAN, START - timedelta(hours=1))
    return machine


def buy(database: Database, renter: str, when: str, key: str = "b") -> None:
    database.call(buy_pack, renter, "cafe", "quarter", when, key, START - timedelta(minutes=1))


def test_warned_once_then_stopped_when_the_renter_chose_stop(database: Database, machine: Identity) -> None:
    database.call(top_up, "sam", billing.Money(500, "EUR"), "t", START - timedelta(hours=1))
    buy(database, "sam", "stop")
    rental = database.call(
        start_session, agent_id=machine.agent_id, renter_id="sam", plan_name="cafe", now=START
    )
    # 15 min of pack at 1.5 last 10 min of rental: after 1 min, 9 min left: under 10, the machine is warned.
    report_every_second(database, machine, START, 60)
    (warned,) = run_job(database, 60)
    assert (warned.kind, warned.message) == (LOW_BALANCE, "time pack low: 9 min left")
    report_every_second(database, machine, START + timedelta(seconds=60), 60, sequence=7)
    assert run_job(database, 120) == []  # warned once
    report_every_second(database, machine, START + timedelta(seconds=120), 480, sequence=13)
    (stopped,) = run_job(database, 600)  # 10 min: the pack is used up
    assert (stopped.kind, stopped.message) == (STOPPED, "time pack used up")
    ended = database.call(get_session, rental.id)
    assert ended.ended_at == START + timedelta(seconds=600) and ended.cost_minor == 0
    (view,) = database.call(packs_of_renter, "sam")
    assert (view.used_us, view.state(START + timedelta(seconds=600))) == (15 * 60 * 10**6, "used up")


def test_pay_as_you_go_after_the_pack_and_a_start_on_the_pack_alone(
    database: Database, machine: Identity
) -> None:
    database.call(top_up, "pat", billing.Money(100, "EUR"), "t", START - timedelta(hours=1))
    buy(database, "pat", "payg")  # the wallet is empty now: 1.00 - 1.00
    rental = database.call(
        start_session, agent_id=machine.agent_id, renter_id="pat", plan_name="cafe", now=START
    )
    assert rental.hold_minor == 0  # the pack pays; nothing to hold
    report_every_second(database, machine, START, 660)  # 11 min: 10 from the pack, 1 metered (0.60)
    events = run_job(database, 660)
    assert [e.kind for e in events] == [LOW_BALANCE] and "balance exhausted" in events[0].message
    assert database.call(get_session, rental.id).cost_minor == 60
    assert database.call(get_session, rental.id).ended_at is None  # payg: the wallet decides, after grace


def test_a_spent_wallet_without_a_pack_cannot_start(database: Database, machine: Identity) -> None:
    database.call(top_up, "ida", billing.Money(100, "EUR"), "t", START - timedelta(hours=1))
    buy(database, "ida", "payg")
    first = database.call(
        start_session, agent_id=machine.agent_id, renter_id="ida", plan_name="cafe", now=START
    )
    report_every_second(database, machine, START, 600)
    run_job(database, 600)
    database.call(stop_session, first.id, START + timedelta(seconds=600))
    with pytest.raises(FailedPrecondition, match="top it up to start a session"):
        database.call(start_session, agent_id=machine.agent_id, renter_id="ida", plan_name="cafe",
                      now=START + timedelta(seconds=601))  # fmt: skip


def test_sessions_use_a_pack_in_the_order_they_began(database: Database) -> None:
    first_machine = enrolled_machine(database, START - timedelta(hours=1))
    second_machine = enrolled_machine(database, START - timedelta(hours=1))
    database.call(create_plan, PLAN, START - timedelta(hours=1))
    database.call(top_up, "duo", billing.Money(5000, "EUR"), "t", START - timedelta(hours=1))
    buy(database, "duo", "payg")
    first = database.call(start_session, agent_id=first_machine.agent_id, renter_id="duo", plan_name="cafe",
                          now=START)  # fmt: skip
    second = database.call(start_session, agent_id=second_machine.agent_id, renter_id="duo", plan_name="cafe",
                           now=START + timedelta(seconds=1))  # fmt: skip
    report_every_second(database, second_machine, START + timedelta(seconds=1), 300)  # reports first
    run_job(database, 301)
    report_every_second(database, first_machine, START, 480)
    run_job(database, 481)
    run_job(database, 482)
    # The first session has the pack first: 8 min use 12 min of it; the second keeps the 3 min left (2 min
    # of rental at 1.5) and pays its other 3 min: 1.80.
    assert database.call(get_session, first.id).cost_minor == 0
    assert database.call(get_session, second.id).cost_minor == 180

    def pack_used(db: object) -> dict[str, int]:
        from billing.packs import pack_use_us

        rentals = [get_session(db, first.id), get_session(db, second.id)]  # type: ignore[arg-type]
        return {r.id: sum(pack_use_us(cumulative_usage(db, r, START + timedelta(minutes=9))[1]).values())
                for r in rentals}  # type: ignore[arg-type]  # fmt: skip

    assert database.call(pack_used) == {first.id: 12 * 60 * 10**6, second.id: 3 * 60 * 10**6}
