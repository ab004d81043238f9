"""`rentmeter simulate`, `rentmeter insights` and `rentmeter offers` as real processes: a generated week
written into a database, a collector serving it, profiles, charts, recommendations and offer rules."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from collector.config import CollectorSettings
from collector.db.database import Database
from collector.db.models import RentalSession
from collector.server import Collector
from rentmeter.simulation import plan_world, simulate
from tests.e2e.harness import rentmeter

UNTIL = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def collector_settings(collector_settings: CollectorSettings, tmp_path: Path) -> CollectorSettings:
    """A collector on a database that `rentmeter simulate` filled: 8 renters, 7 days."""
    url = f"sqlite:///{tmp_path / 'simulated.db'}"
    command = [sys.executable, "-m", "rentmeter", "simulate", "--renters", "8", "--days", "7", "--seed", "3",
               "--db", url, "--until", UNTIL.isoformat(), "--no-invoices"]  # fmt: skip
    made = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("8 renters, ") and "machines over 7 days" in made.stdout
    return replace(collector_settings, db_url=url, insights_grace=timedelta(0), offer_notice=timedelta(0))


def test_the_same_seed_gives_the_same_history(tmp_path: Path) -> None:
    first, again, other = (plan_world(20, 14, seed, UNTIL) for seed in (5, 5, 6))
    assert [(r.renter, r.start, r.end, r.plan) for r in first.rentals] == [
        (r.renter, r.start, r.end, r.plan) for r in again.rentals
    ]
    assert first.rentals != other.rentals and first.top_ups == again.top_ups
    personas = {persona.name for persona, _ in first.renters.values()}
    assert personas == {"night gamer", "weekday GPU trainer", "weekend student"}
    costs = []
    for name in ("a", "b"):
        database = Database(f"sqlite:///{tmp_path / name}.db")
        simulate(database, renters=4, days=3, seed=5, until=UNTIL, invoices=False)
        rows = database.call(lambda db: list(db.scalars(select(RentalSession))))
        costs.append(sorted((r.renter_id, r.started_at, r.cost_minor) for r in rows))
        database.close()
    assert costs[0] == costs[1] and costs[0]


def _json(*args: str, collector: str) -> dict:  # type: ignore[type-arg]
    result = rentmeter(*args, "--output", "json", collector=collector)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.mark.timeout(300)  # a simulated week and a dozen rentmeter processes
def test_profiles_charts_recommendations_and_offers(collector: Collector, tmp_path: Path) -> None:
    at = f"127.0.0.1:{collector.port}"
    world = plan_world(8, 7, 3, UNTIL)
    renter = world.rentals[0].renter  # one with sessions
    active = {r.renter for r in world.rentals} | {renter for _, renter, _ in world.top_ups}
    refreshed = _json("insights", "refresh", collector=at)
    assert refreshed["renters_profiled"] == len(active) and refreshed["failed"] == 0
    chart = tmp_path / "renter.png"
    shown = rentmeter("insights", "renter", renter, "--chart", str(chart), collector=at)
    assert shown.returncode == 0, shown.stderr
    assert "sessions" in shown.stdout and "recommendation" in shown.stdout
    assert chart.read_bytes().startswith(b"\x89PNG")
    found = _json("insights", "renter", renter, collector=at)
    assert found["profile"]["sessions"] > 0 and len(found["profile"]["hour_of_week_seconds"]) == 168
    assert found["recommendation"]["current"]["currency"] == "EUR"
    fleet_chart = tmp_path / "fleet.svg"
    fleet = rentmeter("insights", "fleet", "--chart", str(fleet_chart), collector=at)
    assert fleet.returncode == 0 and "<svg" in fleet_chart.read_text()
    classes = {c["machine_class"] for c in _json("insights", "fleet", collector=at)["classes"]}
    assert classes == {"standard", "gpu"}
    wrong = rentmeter("insights", "renter", renter, "--chart", str(tmp_path / "x.gif"), collector=at)
    assert wrong.returncode == 2 and "name a .png or .svg file" in wrong.stderr
    missing = rentmeter("insights", "renter", "nobody", collector=at)
    assert missing.returncode == 1 and "not found (NOT_FOUND)" in missing.stderr

    rule = ["busy", "--condition", "rented_hours", "--threshold", "1", "--plan", "weekend"]
    added = rentmeter("offers", "add-rule", *rule, "--member-tier", "silver", "--valid", "14", collector=at)
    assert added.returncode == 0, added.stderr
    bad = rentmeter(
        "offers", "add-rule", "x", "--condition", "rented_hours", "--threshold", "1", collector=at
    )
    assert bad.returncode == 1 and "an offer needs a plan, a member tier or a coupon" in bad.stderr
    assert [r["name"] for r in _json("offers", "rules", collector=at)["rules"]] == ["busy"]
    rentmeter("insights", "refresh", collector=at)
    offers = _json("offers", "list", collector=at)["offers"]
    assert offers and {o["rule"] for o in offers} == {"busy"} and offers[0]["member_tier"] == "silver"
    assert rentmeter("offers", "delete-rule", "busy", collector=at).returncode == 0
    assert _json("offers", "rules", collector=at)["rules"] == []
