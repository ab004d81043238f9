"""Recovery after a collector outage: how fast the agents' backlog drains once the collector is back.

    python bench/outage_recovery.py [--outage 60] [--agents 5] [--interval 0.2] [--db URL]

Runs `rentmeter collector serve` as a child process and N real agents (the agent's own sampler, spool and
sender, on threads, sampling every --interval s and sealing a report every 5 samples), stops the collector
for --outage seconds while the agents keep spooling, starts it again on the same port and measures, from
the moment it answers again, how long until every agent's spool is empty: the reconnect (agent backoff
with jitter, at most agent.backoff.BACKLOG_MAX_DELAY_S while a backlog waits) plus the drain itself.
Prints the backlog, the per-agent reconnect/drain times and the outage / drain ratio ("x real time").
"""

from __future__ import annotations

import argparse
import logging
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.config import AgentSettings  # noqa: E402
from agent.runner import Agent  # noqa: E402
from collector.accounts.tokens import create_api_token  # noqa: E402
from collector.db.database import Database  # noqa: E402
from protos.rentmeter.v1 import machines_pb2  # noqa: E402
from rentmeter.client import AdminClient  # noqa: E402
from rentmeter.embedded import running_agent  # noqa: E402


def start_agents(
    stack: ExitStack, admin: AdminClient, port: int, count: int, interval: float, work: Path
) -> list[Agent]:
    agents = []
    for n in range(count):
        token = admin.machines.CreateEnrollmentToken(machines_pb2.CreateEnrollmentTokenRequest()).token
        settings = AgentSettings(collector=f"127.0.0.1:{port}", state_dir=work / f"agent{n}",
                                 interval=interval, report_every=interval * 5, token=token)  # fmt: skip
        agents.append(stack.enter_context(running_agent(settings)))
    return agents


class CollectorProcess:
    """`rentmeter collector serve` as a child process on a fixed port."""

    def __init__(self, port: int, db_url: str) -> None:
        self.port, self.db_url = port, db_url
        self.process: subprocess.Popen[bytes] | None = None

    def launch(self) -> None:
        listen = f"127.0.0.1:{self.port}"
        command = [
            sys.executable,
            "-m",
            "rentmeter",
            "collector",
            "serve",
            "--listen",
            listen,
            "--db",
            self.db_url,
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.DEVNULL)

    def start(self) -> None:
        self.launch()
        wait_until(lambda: answers(self.port), 120)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float) -> float:
    began = time.monotonic()
    while not predicate():
        if time.monotonic() - began > timeout:
            raise TimeoutError("timed out")
        time.sleep(0.01)
    return time.monotonic() - began


def answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.05)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def restart_and_time(collector: CollectorProcess, agents: list[Agent]) -> list[float]:
    """Start the collector again; each agent's seconds from the collector's first answer (its port
    accepting) to an empty spool (at most 10 ms late; 0 when it drained within that)."""
    listen = f"127.0.0.1:{collector.port}"
    command = [
        sys.executable,
        "-m",
        "rentmeter",
        "collector",
        "serve",
        "--listen",
        listen,
        "--db",
        collector.db_url,
    ]
    collector.process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.DEVNULL)
    back: float | None = None
    empty: dict[int, float] = {}
    deadline = time.monotonic() + 180
    while len(empty) < len(agents) and time.monotonic() < deadline:
        now = time.monotonic()
        if back is None and answers(collector.port):
            back = now
        for n, agent in enumerate(agents):
            if back is not None and n not in empty and len(agent.spool) == 0:
                empty[n] = now - back
        time.sleep(0.01)
    if len(empty) < len(agents):
        raise TimeoutError("the backlog did not drain within 3 minutes")
    return [empty[n] for n in range(len(agents))]


def main() -> None:
    logging.basicConfig(level=logging.ERROR)  # the agents' "retrying in" lines during the outage
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=60.0)
    parser.add_argument("--agents", type=int, default=5)
    parser.add_argument("--interval", type=float, default=0.2)
    parser.add_argument("--db", default="")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rentmeter-outage-"))
    collector = CollectorProcess(free_port(), args.db or f"sqlite:///{work / 'collector.db'}")
    collector.start()
    database = Database(collector.db_url)
    token = database.call(create_api_token, "admin", "", "bench", datetime.now(UTC))
    database.close()
    admin = AdminClient.connect(f"127.0.0.1:{collector.port}", token)
    with ExitStack() as stack:
        agents = start_agents(stack, admin, collector.port, args.agents, args.interval, work)
        wait_until(lambda: all(a.sender.acknowledged > 0 for a in agents), 60)
        collector.stop()
        time.sleep(args.outage)
        backlog = [len(a.spool) for a in agents]
        drained = restart_and_time(collector, agents)
    admin.close()
    collector.stop()
    slowest = max(drained)
    print(f"outage {args.outage:g} s, {args.agents} agents, backlog {min(backlog)}-{max(backlog)} reports "
          f"each ({sum(backlog)} in all)")  # fmt: skip
    print(f"  spool empty after the collector answered again: fastest {min(drained):.2f} s, "
          f"slowest {slowest:.2f} s")  # fmt: skip
    print(f"  drained at {args.outage / slowest:.0f}x real time (target >= 20x)")


if __name__ == "__main__":
    main()
