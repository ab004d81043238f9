"""Enrollment while the collector cannot be reached: every attempt is logged with the address and why it
failed (it used to be 30 s of silence, then one line)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from agent.config import AgentSettings
from agent.errors import EnrollmentFailed
from agent.runner import enroll, open_channel
from tests.e2e.harness import free_port


def test_enrollment_says_what_it_tries_while_the_collector_cannot_be_reached(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    target = f"127.0.0.1:{free_port()}"  # nothing listens there
    settings = AgentSettings(collector=target, state_dir=tmp_path, token="rmt_nothing")
    caplog.set_level(logging.INFO, logger="agent.runner")
    with pytest.raises(EnrollmentFailed) as failed:
        enroll(settings, open_channel(settings), timeout=2.5)
    attempts = [
        r for r in caplog.records if r.getMessage().startswith(f"enrolling with the collector at {target}")
    ]
    retries = [r for r in caplog.records if r.getMessage().startswith(f"enrollment at {target} failed")]
    assert len(attempts) >= 2 and {r.levelno for r in attempts} == {logging.INFO}
    assert len(retries) >= 1 and {r.levelno for r in retries} == {logging.WARNING}
    assert "UNAVAILABLE" in retries[0].getMessage() and "trying again in" in retries[0].getMessage()
    assert target in str(failed.value) and "UNAVAILABLE" in str(failed.value)
