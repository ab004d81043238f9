"""The agent's identity: its Ed25519 key (created on this machine, mode 0600, never sent) and agent id."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from agent.errors import NotEnrolled
from agent.signing import OpenSslSigner, load_signer

if TYPE_CHECKING:  # imported where used: a running agent signs without it (agent/signing.py)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

KEY_FILE = "agent.key"
IDENTITY_FILE = "agent.json"


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write a file so that readers see the old or the new content, never a mix; fsync before rename."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


class SigningKey(Protocol):
    def sign(self, data: bytes) -> bytes: ...


def load_or_create_key(state_dir: Path) -> Ed25519PrivateKey:
    """The machine's private key, created on first use."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = state_dir / KEY_FILE
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise NotEnrolled(f"{path} does not hold an Ed25519 key")
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_atomic(path, pem, 0o600)
    return key


def load_signing_key(state_dir: Path) -> SigningKey:
    """The machine's key for signing: held by the system's libcrypto where it can be (a lighter process,
    see agent/signing.py), else by `cryptography`; created on first use."""
    path = state_dir / KEY_FILE
    signer = load_signer(path.read_bytes()) if path.exists() else None
    return signer if signer is not None else load_or_create_key(state_dir)


def public_key_bytes(key: SigningKey) -> bytes:
    """The raw 32-byte public key of an Ed25519 key held by libcrypto or by `cryptography`."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if isinstance(key, OpenSslSigner):
        return key.public_bytes()
    if not isinstance(key, Ed25519PrivateKey):
        raise TypeError(f"not an Ed25519 private key: {type(key).__name__}")
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class Identity:
    agent_id: str
    machine_class: str
    key: SigningKey

    def sign(self, data: bytes) -> bytes:
        return self.key.sign(data)


def save_identity(state_dir: Path, agent_id: str, machine_class: str, collector: str) -> None:
    record = {"agent_id": agent_id, "machine_class": machine_class, "collector": collector}
    write_atomic(state_dir / IDENTITY_FILE, json.dumps(record, indent=2).encode())


def load_identity(state_dir: Path) -> Identity:
    """The enrolled identity; NotEnrolled if this machine has not enrolled yet."""
    path = state_dir / IDENTITY_FILE
    if not path.exists():
        raise NotEnrolled(f"this machine is not enrolled yet ({path} is missing): run with --token")
    record = json.loads(path.read_text())
    return Identity(record["agent_id"], record.get("machine_class", ""), load_signing_key(state_dir))
