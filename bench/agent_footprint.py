"""Agent footprint: CPU and memory of `rentmeter agent run` at 1 Hz, beside Prometheus node_exporter.

    python bench/agent_footprint.py [--seconds 120] [--warmup 60] [--no-session] [--node-exporter PATH]

Starts a real collector and a real agent (sampling every 1 s, reporting every 5 s) as child processes,
and node_exporter (Debian package prometheus-node-exporter) scraped over HTTP once a second, all in the
same run. The agent enrolls, is stopped and started again (as a service is after its first restart: an
enrolled agent no longer loads `cryptography`), and a rental session is opened on its machine so that it
sends a live tick every second (`--no-session`: without). After `--warmup` seconds (the start-up trim and
whatever it faults back again within seconds: the plateau, not the dip after the trim) RSS is read every
second for `--seconds`.

Prints, for each process, CPU as a percentage of one core over the window, the plateau (peak RSS in the
window) and the mean RSS of its first and last tenth (growth), then the agent/node_exporter ratios and the
agent's largest mappings (smaps: resident, of which anonymous). Exit status 1 when the agent's RSS grew by
more than --max-growth MiB over the window. Targets: CPU ratio <= 1, RSS ratio <= 1.5, no growth.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import grpc
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import billing  # noqa: E402
from collector.accounts.tokens import create_api_token  # noqa: E402
from collector.db.database import Database  # noqa: E402
from protos.rentmeter.v1 import (  # noqa: E402
    machines_pb2,
    machines_pb2_grpc,
    plans_pb2,
    plans_pb2_grpc,
    sessions_pb2,
    sessions_pb2_grpc,
)

MIB = 2**20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Watch:
    """CPU seconds and RSS of one process over the measured window, RSS read once a second."""

    def __init__(self, name: str, pid: int) -> None:
        self.name, self.proc = name, psutil.Process(pid)
        self.cpu0 = sum(self.proc.cpu_times()[:2])
        self.rss: list[int] = []

    def poll(self) -> None:
        self.rss.append(self.proc.memory_info().rss)

    def finish(self, seconds: float) -> tuple[float, int, float, float]:
        """CPU % of a core, plateau (peak RSS), mean RSS of the first and of the last tenth."""
        cpu = sum(self.proc.cpu_times()[:2]) - self.cpu0
        tenth = max(1, len(self.rss) // 10)
        first, last = statistics.fmean(self.rss[:tenth]), statistics.fmean(self.rss[-tenth:])
        return cpu / seconds * 100, max(self.rss), first, last


def mappings(pid: int, top: int = 8) -> list[tuple[str, int, int]]:
    """The process's largest mappings by resident size: (name, Rss kB, Anonymous kB)."""
    rss: Counter[str] = Counter()
    anon: Counter[str] = Counter()
    name = ""
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5 and ":" in fields[3]:
                path = fields[5] if len(fields) >= 6 else "[anonymous]"
                name = path.rsplit("/", 1)[-1] if path.startswith("/") else path
            elif fields[0] == "Rss:":
                rss[name] += int(fields[1])
            elif fields[0] == "Anonymous:":
                anon[name] += int(fields[1])
    return [(n, kb, anon[n]) for n, kb in rss.most_common(top)]


def admin_stubs(port: int, db_url: str) -> tuple[grpc.Channel, list[tuple[str, str]]]:
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    grpc.channel_ready_future(channel).result(timeout=30)
    database = Database(db_url)
    admin = database.call(create_api_token, "admin", "", "bench", datetime.now(UTC))
    database.close()
    return channel, [("authorization", f"Bearer {admin}")]


def agent_command(port: int, state: Path, token: str = "") -> list[str]:
    command = [sys.executable, "-m", "rentmeter", "agent", "run", "--collector", f"127.0.0.1:{port}",
               "--state-dir", str(state), "--interval", "1", "--report-every", "5"]  # fmt: skip
    return command + (["--token", token] if token else [])


def enroll_agent(channel: grpc.Channel, bearer: list[tuple[str, str]], port: int, state: Path) -> None:
    """Run the agent once to enroll it, then stop it."""
    request = machines_pb2.CreateEnrollmentTokenRequest()
    machines = machines_pb2_grpc.MachineServiceStub(channel)
    token = machines.CreateEnrollmentToken(request, metadata=bearer).token
    first = subprocess.Popen(agent_command(port, state, token), cwd=ROOT, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (state / "agent.json").exists():
        if time.monotonic() > deadline or first.poll() is not None:
            raise SystemExit("the agent did not enroll")
        time.sleep(0.2)
    first.terminate()
    first.wait(30)


def open_session(channel: grpc.Channel, bearer: list[tuple[str, str]], state: Path) -> None:
    """A rental on the agent's machine, so that it sends live ticks."""
    agent_id = (state / "agent.json").read_text().split('"agent_id": "')[1].split('"')[0]
    document = billing.simple_document("bench", "EUR", {"standard": "3.60"}, "", "1.00")
    plans_pb2_grpc.PlanServiceStub(channel).CreatePlan(
        plans_pb2.CreatePlanRequest(document=document), metadata=bearer
    )
    request = sessions_pb2.StartSessionRequest(agent_id=agent_id, renter="bench", plan="bench")
    sessions_pb2_grpc.SessionServiceStub(channel).StartSession(request, metadata=bearer)


Figures = tuple[float, int, float, float]


def measure(
    args: argparse.Namespace, work: Path
) -> tuple[float, dict[str, Figures], list[tuple[str, int, int]]]:
    port, ne_port = free_port(), free_port()
    db_url = f"sqlite:///{work / 'c.db'}"
    collector = subprocess.Popen(
        [sys.executable, "-m", "rentmeter", "collector", "serve", "--listen", f"127.0.0.1:{port}",
         "--db", db_url],
        cwd=ROOT, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    children = [collector]
    try:
        channel, bearer = admin_stubs(port, db_url)
        enroll_agent(channel, bearer, port, work / "agent")
        if args.session:
            open_session(channel, bearer, work / "agent")
        env = dict(os.environ, **dict(pair.split("=", 1) for pair in args.agent_env))
        agent = subprocess.Popen(
            agent_command(port, work / "agent"), cwd=ROOT, env=env, stderr=subprocess.DEVNULL
        )
        exporter = subprocess.Popen(
            [args.node_exporter, f"--web.listen-address=127.0.0.1:{ne_port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        children += [agent, exporter]
        url = f"http://127.0.0.1:{ne_port}/metrics"
        deadline = time.monotonic() + args.warmup
        while time.monotonic() < deadline:  # warm up both, scraping node_exporter at 1 Hz
            _scrape(url)
            time.sleep(1)
        watches = [Watch("rentmeter agent", agent.pid), Watch("node_exporter", exporter.pid)]
        started = time.monotonic()
        while time.monotonic() - started < args.seconds:
            tick = time.monotonic()
            _scrape(url)
            for watch in watches:
                watch.poll()
            time.sleep(max(0.0, 1 - (time.monotonic() - tick)))
        elapsed = time.monotonic() - started
        results = {w.name: w.finish(elapsed) for w in watches}
        return elapsed, results, mappings(agent.pid)
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--warmup", type=float, default=60)
    parser.add_argument("--max-growth", type=float, default=1.0, help="MiB of RSS growth that fails the run")
    parser.add_argument("--no-session", dest="session", action="store_false", help="no rental: no live ticks")
    parser.add_argument("--agent-env", action="append", default=[], metavar="NAME=VALUE",
                        help="an environment variable for the agent (e.g. MALLOC_ARENA_MAX=2)")  # fmt: skip
    parser.add_argument(
        "--node-exporter", default=shutil.which("prometheus-node-exporter") or "node_exporter"
    )
    args = parser.parse_args()
    if not shutil.which(args.node_exporter):
        raise SystemExit(f"{args.node_exporter} not found: apt-get install prometheus-node-exporter")
    elapsed, results, top = measure(args, Path(tempfile.mkdtemp(prefix="rentmeter-footprint-")))
    ticks = "a rental open: a live tick a second" if args.session else "no rental, no live ticks"
    print(f"{elapsed:.0f} s at 1 Hz after {args.warmup:.0f} s of warm-up ({ticks})")
    print(f"{'process':16} {'CPU % of a core':>15} {'plateau RSS MiB':>16} {'first -> last tenth MiB':>24}")
    for name, (cpu, peak, first, last) in results.items():
        print(f"{name:16} {cpu:15.3f} {peak / MIB:16.1f} {first / MIB:13.1f} -> {last / MIB:6.1f}")
    agent, exporter = results["rentmeter agent"], results["node_exporter"]
    cpu_ratio, rss_ratio = agent[0] / exporter[0], agent[1] / exporter[1]
    print(f"ratio agent/node_exporter: CPU {cpu_ratio:.2f}, plateau RSS {rss_ratio:.2f}")
    print("agent's largest mappings (resident kB, of which anonymous):")
    for name, rss_kb, anon_kb in top:
        print(f"  {rss_kb:7d} {anon_kb:7d}  {name}")
    growth = (agent[3] - agent[2]) / MIB
    if growth > args.max_growth:
        print(f"FAIL: the agent's RSS grew {growth:.1f} MiB after the warm-up (> {args.max_growth} MiB)")
        return 1
    return 0


def _scrape(url: str) -> None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            response.read()
    except OSError:
        pass


if __name__ == "__main__":
    raise SystemExit(main())
