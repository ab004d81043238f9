"""`rentmeter account ...` and `rentmeter collector account` against a real collector: passwords only
from standard input, never from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from collector.server import Collector

PASSWORD = "correct horse battery"


def run(*args: str, stdin: str = "", token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if token is not None:
        env["RENTMETER_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "rentmeter", *args], input=stdin, capture_output=True,
                          text=True, timeout=60, env=env)  # fmt: skip


def test_the_first_admin_account_is_made_offline(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    made = run(
        "collector", "account", "--db", url, "--name", "Boss", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert made.returncode == 0 and made.stdout.strip() == f"admin account boss stored in {url}"
    again = run("collector", "account", "--db", url, "--name", "boss", "--password-stdin", stdin=PASSWORD)
    assert (again.returncode, again.stderr.strip()) == (2, "error: an account named 'boss' exists already")
    weak = run("collector", "account", "--db", url, "--name", "other", "--password-stdin", stdin="short\n")
    assert (weak.returncode, weak.stderr.strip()) == (2, "error: password: at least 10 characters")
    none = run("collector", "account", "--db", url, "--name", "other")
    assert none.returncode == 2 and "--password-stdin" in none.stderr  # one of the two ways is required
    audit = run("collector", "audit-verify", "--db", url)
    assert audit.returncode == 0 and "1 entries" in audit.stdout


def test_accounts_from_the_command_line(collector: Collector) -> None:
    target = ["--collector", f"127.0.0.1:{collector.port}"]
    created = run(*target, "account", "create", "Alice", "--role", "renter", "--email", "alice@example.org",
                  "--password-stdin", "-o", "json", stdin=PASSWORD + "\n")  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["name"] == "alice" and PASSWORD not in created.stdout
    listed = json.loads(run(*target, "account", "list", "--role", "renter", "-o", "json").stdout)
    assert [(a["name"], a["subject"], a["disabled"]) for a in listed["accounts"]] == [
        ("alice", "alice", False)
    ]
    signed_in = run(*target, "account", "login", "alice", "--password-stdin", stdin=PASSWORD + "\n", token="")
    token = signed_in.stdout.strip()
    assert signed_in.returncode == 0 and token.startswith("rmk_") and "signed in as alice" in signed_in.stderr
    me = json.loads(run(*target, "account", "whoami", "-o", "json", token=token).stdout)
    assert (me["name"], me["role"]) == ("alice", "renter")
    assert run(*target, "account", "disable", "alice").returncode == 0
    refused = run(*target, "account", "whoami", token=token)
    assert refused.returncode == 1 and "the account 'alice' is disabled" in refused.stderr
    assert run(*target, "account", "enable", "alice").returncode == 0
    new = run(*target, "account", "set-password", "alice", "--password-stdin", stdin="a fresh passphrase\n")
    assert new.returncode == 0, new.stderr
    wrong = run(*target, "account", "login", "alice", "--password-stdin", stdin=PASSWORD + "\n", token="")
    assert (wrong.returncode, wrong.stderr.strip()) == (1, "error: wrong name or password (UNAUTHENTICATED)")
    token = run(*target, "account", "login", "alice", "--password-stdin", stdin="a fresh passphrase\n").stdout
    out = run(*target, "account", "logout", token=token.strip())
    assert out.returncode == 0 and run(*target, "account", "whoami", token=token.strip()).returncode == 1
