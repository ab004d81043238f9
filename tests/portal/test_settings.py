"""The portal's settings: refused placeholder secrets, environment and flags, cookies Secure behind https."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from portal.errors import SettingsError
from portal.settings import settings_from
from rentmeter.cli import main
from tests.e2e.harness import free_port

GOOD = "q8Jx2mPz7LrT4vWc9YbN1sKd6HfG3aEu0iOp5lZn"


@pytest.mark.parametrize(
    ("secret", "says"),
    [
        ("", "no secret key"),
        ("short-but-random-9Xq", "fewer than 32"),
        ("change-me-change-me-change-me-change-me", "placeholder"),
        ("a" * 40, "placeholder"),
        ("my-super-secret-key-for-the-portal-2026", "placeholder"),
    ],
)
def test_weak_secrets_are_refused(secret: str, says: str) -> None:
    with pytest.raises(SettingsError, match=says):
        settings_from({"RENTMETER_PORTAL_SECRET_KEY": secret}, collector="127.0.0.1:50051")


def test_environment_and_flags() -> None:
    environ = {
        "RENTMETER_PORTAL_SECRET_KEY": GOOD,
        "RENTMETER_PORTAL_LISTEN": "0.0.0.0:8443",
        "RENTMETER_PORTAL_PUBLIC_URL": "https://portal.example.net/",
        "RENTMETER_PORTAL_TRUSTED_PROXIES": "10.0.0.5, ::1",
    }
    settings = settings_from(environ, collector="c:50051", listen="127.0.0.1:9000", tls_ca="ca.pem")
    assert settings.listen == "127.0.0.1:9000"  # the flag wins
    assert settings.base_url == "https://portal.example.net" and settings.secure_cookies
    assert settings.trusted_proxies == ("10.0.0.5", "::1")
    assert settings.tls is not None and settings.tls.ca == "ca.pem"
    assert GOOD not in repr(settings)
    assert settings.agents_dial == "c:50051"  # agents dial the portal's collector unless told otherwise
    environ["RENTMETER_PORTAL_AGENT_COLLECTOR"] = "collector.example.net:50051"
    assert settings_from(environ, collector="c:50051").agents_dial == "collector.example.net:50051"
    flagged = settings_from(environ, collector="c:50051", agent_collector="10.0.0.1:50051")
    assert flagged.agents_dial == "10.0.0.1:50051"


def test_plain_http_cookies_are_not_secure() -> None:
    settings = settings_from({"RENTMETER_PORTAL_SECRET_KEY": GOOD}, collector="c:1")
    assert (
        settings.base_url == "http://127.0.0.1:8080" and not settings.secure_cookies and settings.tls is None
    )


def test_secret_from_a_file(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text(GOOD + "\n")
    assert settings_from({}, collector="c:1", secret_key_file=str(key)).secret_key == GOOD
    with pytest.raises(SettingsError, match="cannot read"):
        settings_from({}, collector="c:1", secret_key_file=str(tmp_path / "absent"))


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        ({"listen": "8080"}, "not HOST:PORT"),
        ({"agent_collector": "collector.example.net"}, "agents' collector address .* not HOST:PORT"),
        ({"public_url": "portal.example.net"}, "http:// or https://"),
        ({"trusted_proxies": "proxy.local"}, "not an IP address"),
        ({"tls_cert": "c.pem"}, "go together"),
    ],
)
def test_bad_settings_are_one_sentence(flags: dict[str, str], says: str) -> None:
    with pytest.raises(SettingsError, match=says):
        settings_from({"RENTMETER_PORTAL_SECRET_KEY": GOOD}, collector="c:1", **flags)


def test_serve_refuses_to_start_without_a_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RENTMETER_PORTAL_SECRET_KEY", raising=False)
    monkeypatch.delenv("RENTMETER_PORTAL_SECRET_KEY_FILE", raising=False)
    assert main(["portal", "serve", "--collector", "127.0.0.1:50051"]) == 4
    assert "no secret key" in capsys.readouterr().err


@pytest.mark.timeout(60)
def test_portal_serve_serves(tmp_path: Path) -> None:
    """`rentmeter portal serve` as a process: the secret from a file, pages on --listen, stops on SIGTERM."""
    key = tmp_path / "portal.key"
    key.write_text(GOOD)
    port = free_port()
    command = [sys.executable, "-m", "rentmeter", "portal", "serve", "--collector", "127.0.0.1:9",
               "--listen", f"127.0.0.1:{port}", "--secret-key-file", str(key)]  # fmt: skip
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as process:
        deadline = time.monotonic() + 30
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/signin", timeout=5)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, "the portal did not start"
                time.sleep(0.2)
        process.terminate()
        _, log = process.communicate(timeout=30)
    assert page.status_code == 200 and 'action="/signin"' in page.text
    assert process.returncode in (0, -signal.SIGTERM), log  # uvicorn ends by the signal it stopped on
    assert f"portal serving on 127.0.0.1:{port} for http://127.0.0.1:{port}, collector 127.0.0.1:9" in log
