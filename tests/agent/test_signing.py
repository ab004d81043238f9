"""Signing with the system's libcrypto gives exactly the signatures `cryptography` gives, and a key file
in another form falls back to `cryptography`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key

from agent.identity import KEY_FILE, load_or_create_key, load_signing_key, public_key_bytes
from agent.signing import OpenSslSigner, load_libcrypto, load_signer, raw_private_key

needs_libcrypto = pytest.mark.skipif(load_libcrypto() is None, reason="no libcrypto with Ed25519 here")


def _pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@needs_libcrypto
@pytest.mark.parametrize("data", [b"", b"rentmeter.v1.UsageReport\0" + bytes(range(256)) * 40])
def test_libcrypto_signs_byte_for_byte_as_cryptography_and_the_signature_verifies(data: bytes) -> None:
    key = Ed25519PrivateKey.generate()
    signer = load_signer(_pem(key))
    assert isinstance(signer, OpenSslSigner)
    signature = signer.sign(data)
    assert signature == key.sign(data)
    key.public_key().verify(signature, data)  # raises if it does not verify
    assert public_key_bytes(signer) == public_key_bytes(key)


def test_only_an_unencrypted_pkcs8_ed25519_pem_is_read_without_cryptography() -> None:
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    assert raw_private_key(_pem(key)) == raw
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    rsa = generate_private_key(65537, 2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    for other in (encrypted, rsa, b"", b"-----BEGIN PRIVATE KEY-----\n!!\n-----END PRIVATE KEY-----\n"):
        assert raw_private_key(other) is None
        assert load_signer(other) is None


@needs_libcrypto
def test_the_agent_signs_with_libcrypto_and_falls_back_to_cryptography(tmp_path: Path) -> None:
    created = load_or_create_key(tmp_path)  # the first run creates the key with cryptography
    light = load_signing_key(tmp_path)
    assert isinstance(light, OpenSslSigner)
    assert light.sign(b"x") == created.sign(b"x")
    (tmp_path / KEY_FILE).write_bytes(
        created.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
    )
    with pytest.raises(ValueError):  # not PKCS#8: cryptography reads it, and refuses an OpenSSH key as PEM
        load_signing_key(tmp_path)


@needs_libcrypto
def test_an_enrolled_agent_process_does_not_import_cryptography(tmp_path: Path) -> None:
    load_or_create_key(tmp_path)
    (tmp_path / "agent.json").write_text('{"agent_id": "m-1", "machine_class": "standard"}')
    code = (
        "import sys; from rentmeter.cli import build_parser, _named_noun; "
        "build_parser(_named_noun(['agent', 'run'])); import agent.runner; "
        "from pathlib import Path; from agent.identity import load_identity; "
        f"load_identity(Path({str(tmp_path)!r})).sign(b'x'); "
        "print(sorted(m for m in sys.modules if m.startswith('cryptography')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
