"""The agent's on-disk identity (its reconnect policy: test_backoff.py)."""

import stat
from pathlib import Path

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
