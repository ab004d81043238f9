"""A private CA, a collector (server) certificate and agent (client) certificates for `rentmeter certs
init`, made with `cryptography`. Keys are written with mode 0600."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from agent.identity import write_atomic

VALIDITY = timedelta(days=825)


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "rentmeter"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])  # fmt: skip


def _write(directory: Path, stem: str, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_atomic(directory / f"{stem}.key", pem, 0o600)
    write_atomic(directory / f"{stem}.pem", cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _issue(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    *,
    usage: x509.ObjectIdentifier | None = None,
    names: Sequence[str] = (),
) -> x509.Certificate:
    now = datetime.now(UTC)
    issuer_name = issuer[0].subject if issuer else _name(subject)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if names:
        alt = [x509.IPAddress(ipaddress.ip_address(n)) if _is_ip(n) else x509.DNSName(n) for n in names]
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    signer = issuer[1] if issuer else key
    return builder.sign(signer, hashes.SHA256())


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def init_certs(directory: Path, hostnames: list[str], agents: list[str]) -> list[Path]:
    """Create ca.pem/ca.key, collector.pem/collector.key (for `hostnames`, plus localhost and 127.0.0.1)
    and NAME.pem/NAME.key per agent name; refuse to overwrite an existing CA. Return the files made."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    if (directory / "ca.key").exists():
        raise FileExistsError(f"{directory / 'ca.key'} exists; refusing to replace a CA")
    ca_key = _key()
    ca = _issue("rentmeter CA", ca_key, None)
    _write(directory, "ca", ca_key, ca)
    server_key = _key()
    names = list(dict.fromkeys([*hostnames, "localhost", "127.0.0.1"]))
    server = _issue(names[0], server_key, (ca, ca_key), usage=ExtendedKeyUsageOID.SERVER_AUTH, names=names)
    _write(directory, "collector", server_key, server)
    for agent in agents:
        agent_key = _key()
        _write(directory, agent, agent_key,
               _issue(agent, agent_key, (ca, ca_key), usage=ExtendedKeyUsageOID.CLIENT_AUTH))  # fmt: skip
    return sorted(directory.iterdir())
