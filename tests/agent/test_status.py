"""`rentmeter agent status`: read from the state directory, without writing to it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from agent.identity import load_or_create_key, save_identity
from agent.spool import SPOOL_FILE, Gap, Spool, open_spool
from agent.status import read_status, render
from tests.agent.test_spool import fill
from tests.e2e.harness import ROOT


def test_status_shows_identity_spool_and_reports_set_aside(tmp_path: Path) -> None:
    load_or_create_key(tmp_path)
    save_identity(tmp_path, "m-seat12", "gpu", "collector.example.net:50051")
    (tmp_path / SPOOL_FILE).write_bytes(b"not a database" * 100)
    spool = open_spool(tmp_path / SPOOL_FILE, now_us=lambda: 1_764_670_500_000_000)  # moves that one aside
    fill(spool, 4)
    spool.take_for_sending(limit=1)
    spool.quarantine(
        3, Gap("forged", 3, None, None, "the collector refused it: signature"), at_us=1_764_670_600_000_000
    )
    spool.add_sample(b"waiting")
    status = read_status(tmp_path)  # while the spool is open, as when the agent runs
    assert (status.agent_id, status.machine_class, status.last_sequence) == ("m-seat12", "gpu", 4)
    assert (status.reports_waiting, status.reports_never_sent, status.samples_waiting) == (3, 2, 1)
    assert [(q.sequence, q.kind, q.at) for q in status.quarantined] == [(3, "forged", "2025-12-02T10:16:40Z")]
    assert status.gaps_not_yet_told == 1  # the report set aside (the lost spool's gap went into report 1)
    assert status.spools_moved_aside == ["spool.db.damaged-20251202T101500Z"]
    text = render(status)
    assert "m-seat12 (class gpu)" in text and "3  2025-12-02T10:16:40Z  forged: the collector refused" in text
    spool.close()
    before = sorted(p.name for p in tmp_path.iterdir())
    command = ["agent", "status", "--state-dir", str(tmp_path), "--output", "json"]
    shown = subprocess.run([sys.executable, "-m", "rentmeter", *command], cwd=ROOT, capture_output=True,
                           text=True, timeout=60, check=True)  # fmt: skip
    assert json.loads(shown.stdout)["quarantined"][0]["reason"] == "the collector refused it: signature"
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written (no -wal/-shm left)


def test_status_of_a_missing_state_directory_is_an_error(tmp_path: Path) -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "rentmeter", "agent", "status", "--state-dir", str(tmp_path / "nowhere")],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert shown.returncode == 4 and "no agent state in" in shown.stderr


def test_status_before_enrollment(tmp_path: Path) -> None:
    Spool(tmp_path / SPOOL_FILE).close()
    assert render(read_status(tmp_path)).startswith("agent        not enrolled yet")
