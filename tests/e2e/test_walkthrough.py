"""README, "Running collector and agents on separate machines", followed line by line with mutual TLS.

Every command below is first found word for word in that README section, then run as a real `rentmeter`
process against a real collector process on loopback: the README's host name, paths and PostgreSQL URL
are replaced by the test's (127.0.0.1 and a free port, a scratch folder, an SQLite file), its placeholders
(`rmt_...`, `m-...`, `s-...`) by the values the earlier commands printed. Nothing else is changed, so a
walkthrough that stops working as written fails here.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, TypeVar

import pytest

from tests.e2e.harness import ROOT, free_port

README_DB = "postgresql+psycopg://rentmeter@db/rentmeter"
SCRIPT = Path(sys.executable).with_name("rentmeter")
RENTMETER = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "rentmeter"]
T = TypeVar("T")


def _walkthrough() -> str:
    """The README section, with shell line continuations joined and all white space made single spaces."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Running collector and agents on separate machines", 1)[1].split("\n## ", 1)[0]
    return " ".join(section.replace("\\\n", " ").split())


class Shell:
    """The README's shells on one machine: a scratch folder for /etc/rentmeter/tls, the home folder and
    XDG folders; an environment that `export` lines change."""

    def __init__(self, home: Path, port: int) -> None:
        self.home, self.tls = home, home / "tls"
        self.readme = _walkthrough()
        self.values = {
            "/etc/rentmeter/tls": str(self.tls),
            "collector.example.net:50051": f"127.0.0.1:{port}",
            "0.0.0.0:50051": f"127.0.0.1:{port}",
            README_DB: f"sqlite:///{home / 'collector.db'}",
        }
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("RENTMETER_")}
        for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME"):
            self.env[name] = str(home / name.lower())

    def words(self, line: str) -> list[str]:
        """The README line as words to run: found in the README first, then the test's values put in."""
        assert " ".join(line.split()) in self.readme, f"not in the README walkthrough: {line}"
        for readme_value, value in self.values.items():
            line = line.replace(readme_value, value)
        words = shlex.split(line, comments=True)
        return [*RENTMETER, *words[1:]] if words[0] == "rentmeter" else words

    def run(self, line: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        if line.startswith("export "):
            return self._export(line)
        result = subprocess.run(self.words(line), cwd=cwd or self.home, env=self.env, capture_output=True,
                                text=True, timeout=60)  # fmt: skip
        assert result.returncode == 0, f"{line}\n{result.stderr}"
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def start(self, line: str, cwd: Path | None = None, **pipes: int) -> subprocess.Popen[str]:
        return subprocess.Popen(self.words(line), cwd=cwd or self.home, env=self.env, text=True, **pipes)

    def _export(self, line: str) -> subprocess.CompletedProcess[str]:
        command = re.fullmatch(r"export (\w+)=\$\((.*)\)\s*(#.*)?", line)
        if command:  # export NAME=$(command): the command's output
            result = self.run(command.group(2))
            self.env[command.group(1)] = result.stdout.strip()
            return result
        for assignment in self.words(line)[1:]:
            name, _, value = assignment.partition("=")
            self.env[name] = value
        return subprocess.CompletedProcess(line, 0, "", "")

    def json(self, *args: str) -> dict:  # type: ignore[type-arg]
        """The test's own look at the collector (not a README step): a read command's JSON."""
        result = subprocess.run([*RENTMETER, *args, "--output", "json"], env=self.env, capture_output=True,
                                text=True, timeout=60)  # fmt: skip
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)  # type: ignore[no-any-return]


class Lines:
    """A child's output read on a thread, so that its pipe never fills; wait for a line with `wait_for`."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        threading.Thread(target=self._drain, args=(stream,), daemon=True).start()

    def _drain(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.append(line)

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in list(self.lines) if predicate(line)]
            if found:
                return found[0]
            time.sleep(0.1)
        raise AssertionError(f"no such line in {self.lines}")


def _until(found: Callable[[], T], timeout: float, what: str) -> T:
    """The first true value of `found()`, asked every half second."""
    deadline = time.monotonic() + timeout
    while not (value := found()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)
    return value


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.timeout(240)
def test_the_separate_machines_walkthrough_works_as_written_with_mutual_tls(tmp_path: Path) -> None:
    shell = Shell(tmp_path, free_port())
    run = shell.run
    # The collector host: certificates, schema, the collector with mutual TLS.
    run("rentmeter certs init /etc/rentmeter/tls --hostname collector.example.net "
        "--agent seat-12 --agent admin")  # fmt: skip
    assert {"ca.pem", "collector.pem", "seat-12.pem", "admin.pem", "admin.key"} <= {
        p.name for p in shell.tls.iterdir()
    }
    run(f"rentmeter collector migrate --db {README_DB}   # optional: serve migrates too")
    collector = shell.start(
        f"rentmeter collector serve --listen 0.0.0.0:50051 --db {README_DB} "
        "--tls-cert /etc/rentmeter/tls/collector.pem --tls-key /etc/rentmeter/tls/collector.key "
        "--tls-client-ca /etc/rentmeter/tls/ca.pem",
        stderr=subprocess.PIPE,
    )
    agent: subprocess.Popen[str] | None = None
    try:
        log = Lines(collector.stderr)
        started = log.wait_for(lambda line: "collector serving on" in line)
        assert "with mutual TLS (client certificates required)" in started
        # The admin shell.
        run("export RENTMETER_COLLECTOR=collector.example.net:50051 "
            "RENTMETER_TLS_CA=/etc/rentmeter/tls/ca.pem")  # fmt: skip
        run("export RENTMETER_TLS_CERT=/etc/rentmeter/tls/admin.pem "
            "RENTMETER_TLS_KEY=/etc/rentmeter/tls/admin.key")  # fmt: skip
        made = run(
            f'export RENTMETER_TOKEN=$(rentmeter collector token --db {README_DB} --role admin --label "ops")'
        )
        assert shell.env["RENTMETER_TOKEN"].startswith("rmk_") and "collector.db" in made.stderr
        enrollment = run('rentmeter token create --class gpu-a100 --label "rack 3, box 7"').stdout.strip()
        assert enrollment.startswith("rmt_")
        shell.values["rmt_..."] = enrollment
        plan = run("rentmeter plan create gpu --currency EUR --hourly gpu-a100=2.90 --hourly standard=0.40 "
                   "--traffic-in 0 --traffic-out 0.05")  # fmt: skip
        assert "2.90 EUR/h" in plan.stdout
        # The rented machine, in the foreground, its certificates in the current folder.
        agent = shell.start(
            "rentmeter agent run --collector collector.example.net:50051 --token rmt_... "
            "--tls-ca ca.pem --tls-cert seat-12.pem --tls-key seat-12.key",
            cwd=shell.tls,
        )
        # The admin shell again.
        enrolled = _until(lambda: re.findall(r"m-[0-9a-f]{16}", run("rentmeter machines list").stdout), 30,
                          "the machine to enroll")  # fmt: skip
        shell.values["m-3f9a1c2b7d4e5f60"] = shell.values["m-..."] = machine = enrolled[0]
        assert f"machine {machine}" in run("rentmeter machines show m-3f9a1c2b7d4e5f60").stdout
        started_session = run(
            "rentmeter session start --machine m-3f9a1c2b7d4e5f60 --renter alice --plan gpu"
        )
        (session,) = set(re.findall(r"s-[0-9a-f]{16}", started_session.stdout))
        shell.values["s-..."] = session
        assert session in run("rentmeter session list --open").stdout
        watch = shell.start("rentmeter watch s-...", stdout=subprocess.PIPE)
        watched = Lines(watch.stdout)
        assert f"session {session} open" in watched.wait_for(lambda line: "rate 2.90 EUR/h" in line)
        # Ten covered seconds cost 0.008 EUR: one cent on the invoice (a few on a loaded machine, where the
        # stop comes later), something to pay and to credit.
        _until(lambda: int(shell.json("session", "show", session)["covered_us"]) >= 10_000_000, 60, "usage")
        assert "covered time" in run("rentmeter usage --session s-...").stdout
        assert "covered time" in run("rentmeter usage --machine m-...   # default: the last hour").stdout
        stopped = run("rentmeter session stop s-...")
        assert "STOPPED" in stopped.stdout
        assert watch.wait(30) == 0 and f"session {session} stopped" in watched.wait_for(
            lambda s: "stopped" in s
        )
        ended = _moment(shell.json("session", "show", session)["ended_at"])
        _until(lambda: _moment(shell.json("machines", "show", machine)["last_report_end"]) >= ended, 30,
               "the agent's last report")  # fmt: skip
        closed = run("rentmeter invoice close --renter alice --now")
        assert "Invoice RM-000001 (inv-" in closed.stdout
        total = re.findall(r"\b(0\.0[1-9]) EUR", closed.stdout)[-1]
        listed = run("rentmeter invoice list --renter alice").stdout
        row = next(line for line in listed.splitlines() if "alice" in line)
        assert row.strip("│ ").startswith("RM-000001"), listed  # the number comes first
        shown = run("rentmeter invoice show RM-000001").stdout
        assert "Invoice RM-000001 (inv-" in shown and "2.90 EUR/h" in shown and "unpaid" in shown
        exported = run("rentmeter invoice export RM-000001 --format pdf")
        assert (tmp_path / "RM-000001.pdf").read_bytes().startswith(b"%PDF"), exported.stdout
        paid = run('rentmeter invoice pay RM-000001 --reference "SEPA 2026-11-0042"').stdout
        assert "paid 20" in paid
        credited = run('rentmeter invoice credit RM-000001 --reason "goodwill"').stdout
        assert re.match(rf"credit note CN-000001 for inv-[0-9a-f]+: {total} EUR", credited), credited
        assert "lock-now sent" in run('rentmeter machines lock m-... --message "time is up"').stdout
        # Without the TLS settings the CLI dials plaintext, and says what to give.
        plain = {k: v for k, v in shell.env.items() if not k.startswith("RENTMETER_TLS_")}
        refused = subprocess.run([*RENTMETER, "machines", "list"], env=plain, capture_output=True, text=True,
                                 timeout=60)  # fmt: skip
        assert refused.returncode == 3 and "give --tls-ca" in refused.stderr, refused.stderr
    finally:
        if agent is not None:
            agent.send_signal(signal.SIGTERM)
            agent.wait(30)
        collector.send_signal(signal.SIGINT)
        collector.wait(30)
    assert collector.returncode == 0
    assert not any("Traceback" in line for line in log.lines), log.lines


def test_the_readmes_grpcurl_calls_carry_the_api_token() -> None:
    """Every rentmeter.v1 call but the agents' and signing in needs `authorization: Bearer`; reflection and
    health do not."""
    section = (ROOT / "README.md").read_text().split("## gRPC API", 1)[1].split("\n## ", 1)[0]
    calls = [line for line in section.replace("\\\n", " ").splitlines() if line.startswith("grpcurl ")]
    open_calls = r"AgentService/|AccountService/(Login|SignUp|RequestPasswordReset|ResetPassword)\b"
    admin = [call for call in calls if re.search(rf"rentmeter\.v1\.(?!{open_calls})\w+/\w+", call)]
    assert len(admin) >= 8, calls
    for call in admin:
        assert '-H "authorization: Bearer $RENTMETER_TOKEN"' in call, call
