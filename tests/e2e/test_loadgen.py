"""`rentmeter loadgen` against a real collector process: simulated agents enrolled through the real path,
real signatures, real streams; every report acknowledged and stored exactly once (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from collector.accounts.tokens import create_api_token
from collector.db.database import Database
from tests.e2e.harness import ROOT, CollectorProcess, free_port

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def collector_process(db_url: str) -> Iterator[CollectorProcess]:
    process = CollectorProcess(free_port(), db_url)
    process.start()
    yield process
    process.stop()


def figure(output: str, label: str) -> int:
    match = re.search(rf"{label}\s+([\d,]+)", output)
    assert match, f"no {label} in {output}"
    return int(match.group(1).replace(",", ""))


def test_loadgen_reports_are_all_acknowledged_and_stored_once(collector_process: CollectorProcess) -> None:
    database = Database(collector_process.db_url)
    token = database.call(create_api_token, "admin", "", "loadgen test", datetime.now(UTC))
    database.close()
    target = f"127.0.0.1:{collector_process.port}"
    command = [sys.executable, "-m", "rentmeter", "loadgen", "--collector", target, "--api-token", token,
               "--agents", "40", "--interval", "0.1", "--duration", "4", "--processes", "2"]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=200)
    assert done.returncode == 0, done.stdout + done.stderr
    sent, acked = figure(done.stdout, "reports sent"), figure(done.stdout, "acknowledged")
    assert sent == acked and sent >= 40 * 4 * 0.1 * 10 / 5 * 0.5  # each agent seals a report every 0.5 s
    assert figure(done.stdout, "refused") == 0 and figure(done.stdout, "unacknowledged") == 0
    assert "stream errors   none" in done.stdout and "INTERNAL" not in done.stdout
    engine = create_engine(collector_process.db_url)
    with engine.connect() as connection:
        stored, distinct, machines = connection.execute(text(
            "SELECT count(*), count(DISTINCT agent_id || '/' || sequence), count(DISTINCT agent_id)"
            " FROM reports"
        )).one()  # fmt: skip
        samples = connection.execute(text("SELECT count(*) FROM samples")).scalar_one()
    engine.dispose()
    assert (stored, distinct, machines) == (sent, sent, 40)
    assert samples == sent * 5
