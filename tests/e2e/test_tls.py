"""TLS between agents and the collector: certificates from `rentmeter certs init`, real handshakes."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest

from agent.config import AgentSettings
from agent.errors import EnrollmentFailed
from agent.runner import enroll, open_channel
from collector.accounts.tokens import create_api_token
from collector.config import CollectorSettings
from collector.server import Collector
from protos.rentmeter.v1 import machines_pb2, machines_pb2_grpc
from rentmeter.embedded import running_agent, running_collector
from rentmeter.pki import init_certs
from tests.e2e.harness import free_port, rentmeter


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("certs")
    init_certs(directory, ["collector.test"], ["seat-1"])
    init_certs(directory / "other", ["collector.test"], ["seat-1"])  # a CA nobody trusts
    return directory


def _token(collector: Collector, certs: Path) -> str:
    admin = collector.database.call(create_api_token, "admin", "", "tls test", datetime.now(UTC))
    credentials = grpc.ssl_channel_credentials(
        (certs / "ca.pem").read_bytes(),
        (certs / "seat-1.key").read_bytes(),
        (certs / "seat-1.pem").read_bytes(),
    )
    with grpc.secure_channel(f"127.0.0.1:{collector.port}", credentials) as channel:
        stub = machines_pb2_grpc.MachineServiceStub(channel)
        bearer = [("authorization", f"Bearer {admin}")]
        return stub.CreateEnrollmentToken(
            machines_pb2.CreateEnrollmentTokenRequest(), timeout=10, metadata=bearer
        ).token


def _agent(port: int, state: Path, certs: Path, token: str, **tls: str) -> AgentSettings:
    return AgentSettings(
        collector=f"127.0.0.1:{port}", state_dir=state, interval=0.1, report_every=0.2, token=token, **tls
    )


def test_mutual_tls_delivers_and_refuses_strangers(
    collector_settings: CollectorSettings, certs: Path, tmp_path: Path
) -> None:
    settings = replace(
        collector_settings, tls_cert=str(certs / "collector.pem"), tls_key=str(certs / "collector.key"),
        tls_client_ca=str(certs / "ca.pem"),
    )  # fmt: skip
    with running_collector(settings) as collector:
        token = _token(collector, certs)
        client_cert = {"tls_cert": str(certs / "seat-1.pem"), "tls_key": str(certs / "seat-1.key")}
        good = _agent(
            collector.port, tmp_path / "a", certs, token, tls_ca=str(certs / "ca.pem"), **client_cert
        )
        with running_agent(good) as agent:
            deadline = time.monotonic() + 15
            while agent.sender.acknowledged == 0:
                assert time.monotonic() < deadline, "no report acknowledged over TLS"
                time.sleep(0.1)
        # The collector's certificate is checked against the agent's CA: a foreign CA fails the handshake.
        wrong_ca = _agent(
            collector.port, tmp_path / "b", certs, token, tls_ca=str(certs / "other" / "ca.pem")
        )
        with pytest.raises(EnrollmentFailed, match=r"(?i)handshake|certificate|UNAVAILABLE"):
            enroll(wrong_ca, open_channel(wrong_ca), timeout=1)
        # Mutual TLS: an agent without a client certificate is refused.
        no_cert = _agent(collector.port, tmp_path / "c", certs, token, tls_ca=str(certs / "ca.pem"))
        with pytest.raises(EnrollmentFailed, match="UNAVAILABLE"):
            enroll(no_cert, open_channel(no_cert), timeout=1)
        # Plaintext to a TLS port fails too.
        plain = _agent(collector.port, tmp_path / "d", certs, token)
        with pytest.raises(EnrollmentFailed, match="UNAVAILABLE"):
            enroll(plain, open_channel(plain), timeout=1)


def test_plaintext_is_refused_beyond_loopback(tmp_path: Path) -> None:
    """Without TLS the collector serves loopback only, unless told it sits behind a TLS proxy."""
    settings = CollectorSettings(listen=f"0.0.0.0:{free_port()}", db_url=f"sqlite:///{tmp_path / 'c.db'}")
    with pytest.raises(OSError, match="refusing to serve plaintext"), running_collector(settings):
        pass
    # (Serving on a non-loopback address is not tried here: tests bind to loopback only.)
    assert CollectorSettings.from_env({"RENTMETER_ALLOW_PLAINTEXT": "true"}).allow_plaintext
    assert not CollectorSettings.from_env({"RENTMETER_ALLOW_PLAINTEXT": "0"}).allow_plaintext


def test_the_admin_cli_dials_tls_with_a_ca_from_flags_or_the_environment(
    collector_settings: CollectorSettings, certs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = replace(
        collector_settings, tls_cert=str(certs / "collector.pem"), tls_key=str(certs / "collector.key")
    )
    with running_collector(settings) as collector:
        admin = collector.database.call(create_api_token, "admin", "", "tls cli", datetime.now(UTC))
        monkeypatch.setenv("RENTMETER_TOKEN", admin)
        at = f"127.0.0.1:{collector.port}"
        ca = str(certs / "ca.pem")
        assert rentmeter("--tls-ca", ca, "machines", "list", collector=at).returncode == 0
        assert rentmeter("plan", "list", "--tls-ca", ca, collector=at).returncode == 0  # after the noun too
        plaintext = rentmeter("plan", "list", collector=at)
        assert (
            plaintext.returncode == 3 and "(in plaintext: give --tls-ca if it serves TLS)" in plaintext.stderr
        )
        stranger = rentmeter("plan", "list", "--tls-ca", str(certs / "other" / "ca.pem"), collector=at)
        assert stranger.returncode == 3 and "cannot reach the collector" in stranger.stderr
        assert "give --tls-ca" not in stranger.stderr
        missing = rentmeter("plan", "list", "--tls-ca", str(certs / "nope.pem"), collector=at)
        assert missing.returncode == 2
        assert (
            f"error: cannot read the TLS CA certificate {certs / 'nope.pem'}: No such file" in missing.stderr
        )
        half = rentmeter(
            "plan", "list", "--tls-ca", ca, "--tls-cert", str(certs / "seat-1.pem"), collector=at
        )
        assert half.returncode == 2 and "--tls-cert and --tls-key go together" in half.stderr
        monkeypatch.setenv("RENTMETER_TLS_CA", ca)
        assert rentmeter("plan", "list", collector=at).returncode == 0
