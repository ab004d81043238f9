"""Demand-based prices through a real collector on loopback (PricingService, quotes, `rentmeter pricing
show`) and the backtest against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from collector.db.database import Database
from collector.pricing.schedule import publish_prices
from collector.server import Collector
from collector.sessions.plans import create_plan
from collector.sessions.rentals import start_session, stop_session
from protos.rentmeter.v1 import access_pb2, plans_pb2, pricing_pb2
from rentmeter.cli import main
from rentmeter.client import AdminClient
from tests.collector.helpers import enrolled_machine

PLAN = """\
name = "surge"
currency = "EUR"

[time.hourly]
standard = "36.00"

[dynamic]
class = "standard"
floor = "0.80"
cap = "1.50"
max_change = "0.10"
publish_ahead = "3h"
"""


def test_renters_read_the_schedule_and_quotes_use_the_published_price(
    collector: Collector, admin: AdminClient, capsys: pytest.CaptureFixture[str]
) -> None:
    admin.plans.CreatePlan(plans_pb2.CreatePlanRequest(document=PLAN))
    now = datetime.now(UTC)
    collector.database.call(
        publish_prices, now, timedelta(seconds=30)
    )  # no machine rented: towards the floor
    token = admin.access.CreateApiToken(access_pb2.CreateApiTokenRequest(role="renter", subject="r1")).token
    renter = AdminClient.connect(f"127.0.0.1:{collector.port}", token)
    try:
        request = pricing_pb2.GetPriceScheduleRequest(machine_class="standard", hours=4)
        (schedule,) = renter.pricing.GetPriceSchedule(request).schedules
        assert (schedule.plan, schedule.locked_for) == ("surge", "the whole session")
        assert [(s.multiplier, s.price_per_hour) for s in schedule.steps] == [
            ("0.90", "32.4"), ("0.80", "28.8"), ("0.80", "28.8"),
        ]  # fmt: skip
        second = schedule.steps[1]
        start = Timestamp(seconds=second.starts_at.seconds + 600)  # inside the second step
        hour = Duration(seconds=3600)
        quote = renter.plans.Quote(
            plans_pb2.QuoteRequest(plan="surge", machine_class="standard", start=start, duration=hour)
        )
        # The published x0.80 for the whole hour (a session starting then locks it): 36.00 x 0.80.
        assert quote.total.display == "28.80 EUR"
        assert "x0.80 demand price, locked at start" in quote.lines[0].description
        unpublished = Timestamp(seconds=int((now + timedelta(days=2)).timestamp()))
        static = renter.plans.Quote(
            plans_pb2.QuoteRequest(plan="surge", machine_class="standard", start=unpublished, duration=hour)
        )
        assert static.total.display == "36.00 EUR"
    finally:
        renter.close()
    assert (
        main(["--collector", f"127.0.0.1:{collector.port}", "pricing", "show", "standard", "--hours", "4"])
        == 0
    )
    out = capsys.readouterr().out
    assert "x0.90" in out and "28.8 EUR" in out and "for the whole session" in out
    assert (
        main(["--collector", f"127.0.0.1:{collector.port}", "pricing", "show", "standard", "-o", "json"]) == 0
    )
    steps = json.loads(capsys.readouterr().out)["schedules"][0]["steps"]
    assert [s["multiplier"] for s in steps] == ["0.90", "0.80", "0.80"]


BACKTEST = """\
name = "what-if"
currency = "EUR"

[time.hourly]
standard = "36.00"

[dynamic]
floor = "0.50"
cap = "2.00"
max_change = "0.50"
low = "0"
high = "1"
"""
T0 = datetime(2026, 11, 2, 10, tzinfo=UTC)


@pytest.fixture
def history(database: Database, db_url: str, tmp_path: Path) -> tuple[str, Path]:
    """One machine of class standard, rented 10:00-12:00 (two whole hours)."""
    machine = enrolled_machine(database, T0 - timedelta(days=1))
    database.call(create_plan, BACKTEST.replace("what-if", "stored"), T0 - timedelta(days=1))
    rental = database.call(
        start_session, agent_id=machine.agent_id, renter_id="r1", plan_name="stored", now=T0
    )
    database.call(stop_session, rental.id, T0 + timedelta(hours=2))
    policy = tmp_path / "policy.toml"
    policy.write_text(BACKTEST)
    return db_url, policy


def run_backtest(
    history: tuple[str, Path], elasticity: str, capsys: pytest.CaptureFixture[str]
) -> dict[str, str]:
    db_url, policy = history
    argv = ["pricing", "backtest", "--policy", str(policy), "--from", "2026-11-02T10:00",
            "--to", "2026-11-02T12:00", "--elasticity", elasticity, "--db", db_url, "-o", "json"]  # fmt: skip
    assert main(argv) == 0
    (row,) = json.loads(capsys.readouterr().out)["classes"]
    return row


def test_the_backtest_replays_history_as_hand_computed(
    history: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # No response to price: occupancy 1 both hours; x1.50 (from 1 by at most 0.50), then x2.00 (the cap).
    rigid = run_backtest(history, "0", capsys)
    assert (rigid["static_revenue"], rigid["dynamic_revenue"]) == ("72.00", "126.00")
    assert (rigid["static_occupancy_percent"], rigid["dynamic_occupancy_percent"]) == ("100.0", "100.0")
    assert rigid["multiplier_range"] == "1.50-2.00"
    # Elasticity 1: x1.50 cuts demand to 1/1.5 = 2/3 of the hour; the next step follows occupancy 2/3
    # (target 0.5 + 1.5 x 2/3 = 1.50) and keeps x1.50. Revenue 2 x 36 x 1.5 x 2/3 = 72.00, 54.00 an hour.
    elastic = run_backtest(history, "1", capsys)
    assert (elastic["dynamic_revenue"], elastic["dynamic_occupancy_percent"]) == ("72.00", "66.7")
    assert (elastic["static_price_per_hour"], elastic["dynamic_price_per_hour"]) == ("36.00", "54.00")


def test_the_backtest_is_reproducible(history: tuple[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    db_url, policy = history
    argv = ["pricing", "backtest", "--policy", str(policy), "--from", "2026-11-01", "--to", "2026-11-03",
            "--elasticity", "1.7", "--db", db_url]  # fmt: skip
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert main(argv) == 0
    assert capsys.readouterr().out == first and "standard" in first


def test_the_backtest_draws_its_chart(
    history: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_url, policy = history
    chart = tmp_path / "backtest.svg"
    argv = ["pricing", "backtest", "--policy", str(policy), "--from", "2026-11-02T10:00",
            "--to", "2026-11-02T12:00", "--db", db_url, "--chart", str(chart)]  # fmt: skip
    assert main(argv) == 0
    drawn = chart.read_text()
    assert (
        drawn.startswith("<?xml") and "<svg" in drawn and "backtest: static prices beside the policy" in drawn
    )
    assert f"chart written to {chart}" in capsys.readouterr().out
    assert main([*argv[:-1], str(tmp_path / "backtest.txt")]) == 2  # neither .png nor .svg


def test_a_policy_file_error_names_its_line(
    history: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    db_url, policy = history
    policy.write_text(BACKTEST.replace('cap = "2.00"', 'cap = "0.10"'))
    argv = ["pricing", "backtest", "--policy", str(policy), "--from", "2026-11-01", "--to", "2026-11-03",
            "--db", db_url]  # fmt: skip
    assert main(argv) == 2
    assert "policy.toml:9: cap: floor must be above 0 and at most the cap" in capsys.readouterr().err
