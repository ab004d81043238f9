"""How soon a renter sees usage: from a burst of traffic on the machine to the WatchSession update that
shows its cost, with live ticks off (the signed reports only: the baseline) and on, in the same run.

    python bench/live_latency.py [--bursts 20] [--burst-mb 5] [--target HOST]

Starts `rentmeter collector serve` and a real `rentmeter agent run` (sampling every 1 s, reporting every
5 s) as child processes, rents the agent's machine on a plan that charges traffic only (10.00 EUR per GB
sent, nothing per hour, so that the cost moves with the traffic alone) and watches the session. Then, in
each phase, it sends --bursts bursts of --burst-mb MB of UDP through the default route (to the gateway's
discard port, or --target; loopback traffic is not metered), 1 to 6 s apart at random, and times each from
the end of the burst to the first update whose cost grew by at least 80 % of the burst's price. Phase 1
runs the agent with live ticks off (RENTMETER_AGENT_LIVE_TICKS=false), phase 2 with them on (the
default). Prints p50/p99/max per phase and their ratio. Target: p99 <= 2 s with ticks.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import billing  # noqa: E402
from bench.agent_footprint import admin_stubs, agent_command, enroll_agent, free_port  # noqa: E402
from protos.rentmeter.v1 import plans_pb2, plans_pb2_grpc, sessions_pb2, sessions_pb2_grpc  # noqa: E402

PRICE_PER_GB = "10.00"
DATAGRAM = 1400


def default_gateway() -> str:
    """The IPv4 default route's gateway (Linux)."""
    with open("/proc/net/route") as routes:
        for line in routes.readlines()[1:]:
            fields = line.split()
            if fields[1] == "00000000" and int(fields[3], 16) & 2:
                return socket.inet_ntoa(struct.pack("<L", int(fields[2], 16)))
    raise SystemExit("no IPv4 default route: give --target")


def burst(target: str, megabytes: float) -> float:
    """Send `megabytes` MB of UDP to `target`'s discard port; return when it ended (time.time())."""
    payload = b"\0" * DATAGRAM
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _ in range(int(megabytes * 10**6 / DATAGRAM)):
            sock.sendto(payload, (target, 9))
    return time.time()


class CostWatch:
    """A WatchSession stream read on its own thread: (receipt time, cost in minor units) of each update."""

    def __init__(self, channel: grpc.Channel, bearer: list[tuple[str, str]], session_id: str) -> None:
        self.seen: list[tuple[float, int]] = []
        request = sessions_pb2.GetSessionRequest(session_id=session_id)
        self.call = sessions_pb2_grpc.SessionServiceStub(channel).WatchSession(request, metadata=bearer)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for update in self.call:
                self.seen.append((time.time(), update.cost.minor_units))
        except grpc.RpcError:
            pass

    def cost(self) -> int:
        return self.seen[-1][1] if self.seen else 0

    def first_reaching(self, cost: int, after: float, timeout: float = 20.0) -> float | None:
        """When the first update received after `after` showed at least `cost`; None if none in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, seen in list(self.seen):
                if at >= after and seen >= cost:
                    return at
            time.sleep(0.005)
        return None


def phase(
    args: argparse.Namespace, watch: CostWatch, agent_env: dict[str, str], port: int, state: Path
) -> list[float]:
    """Latencies (s) of --bursts bursts with the agent run in `agent_env`."""
    agent = subprocess.Popen(
        agent_command(port, state), cwd=ROOT, env=dict(os.environ, **agent_env), stderr=subprocess.DEVNULL
    )
    step = round(args.burst_mb * 10**6 * float(PRICE_PER_GB) * 100 / 10**9)  # the burst's price in cents
    latencies = []
    try:
        time.sleep(8)  # connected, a report delivered (live ticks need a verified report on the stream)
        for _ in range(args.bursts):
            # A pause of 1 to 6 s, so that bursts fall anywhere in the 5-s report cycle (a fixed pause after
            # each detection would lock them to it).
            time.sleep(random.uniform(1, 6))
            before = watch.cost()
            ended = burst(args.target, args.burst_mb)
            shown = watch.first_reaching(before + step * 8 // 10, ended)
            if shown is not None:
                latencies.append(shown - ended)
    finally:
        agent.terminate()
        agent.wait(30)
    return latencies


def summary(name: str, latencies: list[float], bursts: int) -> float:
    ordered = sorted(latencies) or [float("nan")]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"{name:20} p50 {statistics.median(ordered):5.2f} s   p99 {p99:5.2f} s   max {ordered[-1]:5.2f} s"
          f"   ({len(latencies)} of {bursts} bursts seen)")  # fmt: skip
    return p99


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--bursts", type=int, default=20)
    parser.add_argument("--burst-mb", type=float, default=5.0)
    parser.add_argument("--target", default="", help="where bursts go (default: the default gateway)")
    args = parser.parse_args()
    args.target = args.target or default_gateway()
    work = Path(tempfile.mkdtemp(prefix="rentmeter-live-"))
    port, db_url = free_port(), f"sqlite:///{work / 'c.db'}"
    collector = subprocess.Popen(
        [sys.executable, "-m", "rentmeter", "collector", "serve", "--listen", f"127.0.0.1:{port}",
         "--db", db_url], cwd=ROOT, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        channel, bearer = admin_stubs(port, db_url)
        state = work / "agent"
        enroll_agent(channel, bearer, port, state)
        document = billing.simple_document("traffic", "EUR", {"standard": "0"}, "", PRICE_PER_GB)
        plans_pb2_grpc.PlanServiceStub(channel).CreatePlan(
            plans_pb2.CreatePlanRequest(document=document), metadata=bearer
        )
        agent_id = (state / "agent.json").read_text().split('"agent_id": "')[1].split('"')[0]
        request = sessions_pb2.StartSessionRequest(agent_id=agent_id, renter="bench", plan="traffic")
        session = sessions_pb2_grpc.SessionServiceStub(channel).StartSession(request, metadata=bearer)
        watch = CostWatch(channel, bearer, session.session_id)
        print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; bursts of {args.burst_mb} MB to {args.target}")
        reports = phase(args, watch, {"RENTMETER_AGENT_LIVE_TICKS": "false"}, port, state)
        ticks = phase(args, watch, {}, port, state)
        watch.call.cancel()
    finally:
        collector.terminate()
        collector.wait(30)
    base = summary("reports only", reports, args.bursts)
    live = summary("with live ticks", ticks, args.bursts)
    print(f"p99 with ticks / reports only: {live / base:.2f}   (target p99 <= 2 s)")


if __name__ == "__main__":
    main()
