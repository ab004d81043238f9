"""`rentmeter demo` starts the portal too, and prints its address and sign-ins for a renter, a host and
the provider that work on the Login page."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.portal.conftest import csrf_of

ROOT = Path(__file__).resolve().parents[2]
URL = re.compile(r"portal: open (http://\S+) in a browser")
SIGN_IN = re.compile(r"sign in as (\S+)\s+password (\S+)")


@contextmanager
def demo(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], list[str]]]:
    """The running demo: the portal's URL, the printed sign-ins (name -> password), the lines so far."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    env.pop("RENTMETER_TOKEN", None)
    command = [
        sys.executable,
        "-m",
        "rentmeter",
        "demo",
        "--duration",
        "30",
        "--portal-listen",
        "127.0.0.1:0",
    ]
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        lines, url, sign_ins = [], "", {}
        for line in process.stdout:
            lines.append(line)
            if found := URL.search(line):
                url = found.group(1)
            if found := SIGN_IN.search(line):
                sign_ins[found.group(1)] = found.group(2)
            if "started for demo-renter" in line:
                break
        try:
            assert url, lines
            yield url, sign_ins, lines
        finally:
            process.terminate()
            process.wait(30)


@pytest.mark.timeout(90)
def test_the_demo_serves_the_portal(tmp_path: Path) -> None:
    with demo(tmp_path) as (url, _, _):
        page = httpx.get(f"{url}/signin")
    assert page.status_code == 200 and 'action="/signin"' in page.text


@pytest.mark.timeout(90)
def test_the_demo_prints_sign_ins_that_work(tmp_path: Path) -> None:
    with demo(tmp_path) as (url, sign_ins, lines):
        assert set(sign_ins) == {"demo-renter", "demo-host", "demo-provider"}, lines
        homes = {}
        for name, password in sign_ins.items():
            with httpx.Client(base_url=url) as browser:
                token = csrf_of(browser.get("/signin"))
                answer = browser.post(
                    "/signin", data={"name": name, "password": password, "csrf_token": token}
                )
                homes[name] = answer.headers["location"]
                if name == "demo-renter":
                    assert 'sse-connect="/rental/s-' in browser.get("/rental").text
    assert homes == {"demo-renter": "/rental", "demo-host": "/host/machines", "demo-provider": "/admin/fleet"}
