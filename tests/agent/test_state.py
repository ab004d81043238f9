"""The agent's on-disk identity, and its reconnect policy."""

import random
import stat
from itertools import pairwise
from pathlib import Path

import grpc

from agent.backoff import next_delay
from agent.identity import load_identity, load_or_create_key, public_key_bytes, save_identity


def test_key_is_created_private_and_reused(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path / "state")
    path = tmp_path / "state" / "agent.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_key_bytes(load_or_create_key(tmp_path / "state")) == public_key_bytes(key)
    assert len(public_key_bytes(key)) == 32


def test_identity_round_trip(tmp_path: Path) -> None:
    load_or_create_key(tmp_path)
    save_identity(tmp_path, "m-1", "gpu", "collector:1")
    identity = load_identity(tmp_path)
    assert (identity.agent_id, identity.machine_class) == ("m-1", "gpu")


def test_backoff_grows_with_jitter_and_caps() -> None:
    rng = random.Random(7)
    delays = [next_delay(n, grpc.StatusCode.UNAVAILABLE, rng=rng) for n in range(12)]
    assert 0.4 <= delays[0] <= 0.6
    assert 0.8 * 15 <= delays[-1] <= 1.2 * 15
    assert all(later >= earlier * 0.6 for earlier, later in pairwise(delays))


def test_refusal_backs_off_slowly() -> None:
    assert next_delay(0, grpc.StatusCode.UNAUTHENTICATED, rng=random.Random(1)) >= 240
