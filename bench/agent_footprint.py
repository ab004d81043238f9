"""Agent footprint: CPU and memory of `rentmeter agent run` at 1 Hz, beside Prometheus node_exporter.

    python bench/agent_footprint.py [--seconds 60] [--node-exporter PATH]

Starts a real collector and a real agent (sampling every 1 s, reporting every 5 s) as child processes,
and node_exporter (Debian package prometheus-node-exporter) scraped over HTTP once a second, all in the
same run. Prints, for each, CPU as a percentage of one core over the measured window, peak RSS, and RSS at
the start and end of the window (growth), then the agent/node_exporter ratios. Targets: CPU ratio <= 1,
RSS ratio <= 2, no RSS growth.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import grpc
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collector.accounts.tokens import create_api_token  # noqa: E402
from collector.db.database import Database  # noqa: E402
from protos.rentmeter.v1 import machines_pb2, machines_pb2_grpc  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Watch:
    """CPU seconds and RSS of one process over the measured window."""

    def __init__(self, name: str, pid: int) -> None:
        self.name, self.proc = name, psutil.Process(pid)
        self.cpu0 = sum(self.proc.cpu_times()[:2])
        self.rss_start = self.rss_peak = self.proc.memory_info().rss

    def poll(self) -> None:
        self.rss_peak = max(self.rss_peak, self.proc.memory_info().rss)

    def finish(self, seconds: float) -> tuple[float, int, int, int]:
        cpu = sum(self.proc.cpu_times()[:2]) - self.cpu0
        return cpu / seconds * 100, self.rss_peak, self.rss_start, self.proc.memory_info().rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument(
        "--node-exporter", default=shutil.which("prometheus-node-exporter") or "node_exporter"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rentmeter-footprint-"))
    port, ne_port = free_port(), free_port()
    collector = subprocess.Popen(
        [sys.executable, "-m", "rentmeter", "collector", "serve", "--listen", f"127.0.0.1:{port}",
         "--db", f"sqlite:///{work / 'c.db'}"], cwd=ROOT, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    children = [collector]
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=30)
        database = Database(f"sqlite:///{work / 'c.db'}")
        admin = database.call(create_api_token, "admin", "", "bench", datetime.now(UTC))
        database.close()
        bearer = [("authorization", f"Bearer {admin}")]
        token = (
            machines_pb2_grpc.MachineServiceStub(channel)
            .CreateEnrollmentToken(machines_pb2.CreateEnrollmentTokenRequest(), metadata=bearer)
            .token
        )
        agent = subprocess.Popen(
            [sys.executable, "-m", "rentmeter", "agent", "run", "--collector", f"127.0.0.1:{port}",
             "--token", token, "--state-dir", str(work / "agent"), "--interval", "1", "--report-every", "5"],
            cwd=ROOT, stderr=subprocess.DEVNULL,
        )  # fmt: skip
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
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(30)
    print(f"{elapsed:.0f} s at 1 Hz (after {args.warmup:.0f} s warm-up)")
    print(f"{'process':18} {'CPU % of a core':>16} {'peak RSS MiB':>13} {'RSS start->end MiB':>20}")
    for name, (cpu, peak, start, end) in results.items():
        print(f"{name:18} {cpu:16.3f} {peak / 2**20:13.1f} {start / 2**20:9.1f} -> {end / 2**20:6.1f}")
    agent_r, ne_r = results["rentmeter agent"], results["node_exporter"]
    print(f"ratio agent/node_exporter: CPU {agent_r[0] / ne_r[0]:.2f}, peak RSS {agent_r[1] / ne_r[1]:.2f}")


def _scrape(url: str) -> None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            response.read()
    except OSError:
        pass


if __name__ == "__main__":
    main()
