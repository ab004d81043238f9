"""Live views through the portal: many browsers watching rentals by server-sent events, against the same
number watching the collector's WatchSession directly.

    python bench/portal.py [--watchers 500] [--sessions 50] [--seconds 20] [--db URL]

Starts `rentmeter collector serve` and `rentmeter portal serve` as child processes on free loopback ports,
rents --sessions machines (time-priced plan, so every update changes the cost) to as many renters, then
runs three phases of --seconds each, one after the other:

1. direct, one per session: one WatchSession stream per rental, straight to the collector;
2. direct, all: --watchers WatchSession streams, spread evenly over the rentals;
3. portal: --watchers browsers (HTTP clients with the renter's session cookie) on `/rental/ID/live`, each
   of which the portal relays from its own WatchSession stream.

For each phase it prints the update latency (receipt minus the `at` the collector stamped on the update;
p50/p99), updates received per watcher per second, and the CPU of the collector and of the portal per
watcher (in milliseconds of CPU per watcher-second and as a share of one core for all). Phase 2 against
phase 1 shows that a rental is rated once per update however many watch it (the collector's CPU should not
grow tenfold with ten watchers per rental); phase 3 against phase 2 is what the portal adds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collector.accounts.tokens import create_api_token  # noqa: E402
from collector.db.database import Database  # noqa: E402
from portal import auth  # noqa: E402
from portal.session_cookie import cookie_name, encode_session  # noqa: E402
from protos.rentmeter.v1 import accounts_pb2, plans_pb2_grpc, sessions_pb2, sessions_pb2_grpc  # noqa: E402
from tests.collector.helpers import enrolled_machine, plan_request  # noqa: E402

AT = re.compile(r'data-at="(\d+)"')  # the update's time, in the live fragment (templates/renter/_live.html)
STREAMS_PER_CHANNEL = 50


@dataclass
class Phase:
    name: str
    watchers: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    updates: int = 0
    failures: int = 0
    cpu_s: dict[str, float] = field(default_factory=dict)

    def seen(self, at_us: int) -> None:
        self.updates += 1
        self.latencies_ms.append(max(time.time() * 1e3 - at_us / 1e3, 0.0))

    def report(self) -> None:
        latencies = sorted(self.latencies_ms) or [float("nan")]
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        rate = self.updates / (self.watchers * self.seconds)
        print(
            f"\n{self.name}: {self.watchers} watchers, {self.seconds:.0f} s, {self.failures} failed streams"
        )
        print(f"  update latency p50 {statistics.median(latencies):7.1f} ms   p99 {p99:7.1f} ms   "
              f"({self.updates} updates, {rate:.2f} per watcher per second)")  # fmt: skip
        for process, seconds in self.cpu_s.items():
            per_watcher_ms = seconds * 1e3 / (self.watchers * self.seconds)
            share = seconds / self.seconds * 100
            print(
                f"  {process:9} CPU {per_watcher_ms:6.3f} ms per watcher-second   ({share:5.1f} % of a core)"
            )


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare(db_url: str, sessions: int) -> tuple[list[str], str, list[str]]:
    """Enrolled machines, an admin token and one renter token per rental, written into the database."""
    database = Database(db_url)
    try:
        now = datetime.now(UTC)
        machines = [enrolled_machine(database, now).agent_id for _ in range(sessions)]
        admin = database.call(create_api_token, "admin", "", "bench", now)
        renters = [database.call(create_api_token, "renter", f"r{i}", "bench", now) for i in range(sessions)]
        return machines, admin, renters
    finally:
        database.close()


@contextlib.contextmanager
def child(command: list[str], log: Path) -> Iterator[psutil.Process]:
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "rentmeter", *command], cwd=ROOT, stdout=out, stderr=out
        )
    try:
        yield psutil.Process(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def wait_until_serving(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code < 500:
                    return
            await asyncio.sleep(0.1)
    raise SystemExit(f"nothing serves {url}")


async def start_rentals(target: str, admin: str, machines: list[str]) -> list[str]:
    metadata = (("authorization", f"Bearer {admin}"),)
    async with grpc.aio.insecure_channel(target) as channel:
        await asyncio.wait_for(channel.channel_ready(), 60)
        await plans_pb2_grpc.PlanServiceStub(channel).CreatePlan(
            plan_request("hourly", {"standard": "36.00"}), metadata=metadata
        )
        sessions = sessions_pb2_grpc.SessionServiceStub(channel)
        started = [
            await sessions.StartSession(
                sessions_pb2.StartSessionRequest(agent_id=agent_id, renter=f"r{i}", plan="hourly"),
                metadata=metadata,
            )
            for i, agent_id in enumerate(machines)
        ]
    return [rental.session_id for rental in started]


async def watch_direct(channel: grpc.aio.Channel, token: str, session_id: str, phase: Phase) -> None:
    stub = sessions_pb2_grpc.SessionServiceStub(channel)
    call = stub.WatchSession(
        sessions_pb2.GetSessionRequest(session_id=session_id),
        metadata=(("authorization", f"Bearer {token}"),),
    )
    try:
        async for live in call:
            phase.seen(live.at.ToMicroseconds())
    except grpc.aio.AioRpcError as error:
        if error.code() != grpc.StatusCode.CANCELLED:
            phase.failures += 1
    finally:
        call.cancel()


async def watch_portal(client: httpx.AsyncClient, session_id: str, phase: Phase) -> None:
    try:
        async with client.stream("GET", f"/rental/{session_id}/live") as response:
            if response.status_code != 200:
                phase.failures += 1
                return
            async for line in response.aiter_lines():
                found = AT.search(line)
                if found:
                    phase.seen(int(found.group(1)))
    except httpx.HTTPError:
        phase.failures += 1


async def run_phase(
    phase: Phase, watchers: list[asyncio.Task[None]], processes: dict[str, psutil.Process], warm_up_s: float
) -> None:
    await asyncio.sleep(warm_up_s)  # every stream open and past its first update
    phase.updates, phase.latencies_ms, phase.failures = 0, [], phase.failures
    before = {name: cpu_seconds(process) for name, process in processes.items()}
    await asyncio.sleep(phase.seconds)
    phase.cpu_s = {name: cpu_seconds(process) - before[name] for name, process in processes.items()}
    for task in watchers:
        task.cancel()
    await asyncio.gather(*watchers, return_exceptions=True)


@contextlib.asynccontextmanager
async def channels(target: str, count: int) -> AsyncIterator[list[grpc.aio.Channel]]:
    opened = [grpc.aio.insecure_channel(target) for _ in range(max(count, 1))]
    try:
        yield opened
    finally:
        for channel in opened:
            await channel.close()


async def direct_phase(
    name: str, target: str, renters: list[str], rentals: list[str], watchers: int, args: argparse.Namespace,
    processes: dict[str, psutil.Process],
) -> Phase:  # fmt: skip
    phase = Phase(name, watchers, args.seconds)
    async with channels(target, -(-watchers // STREAMS_PER_CHANNEL)) as opened:
        tasks = [
            asyncio.create_task(watch_direct(opened[i // STREAMS_PER_CHANNEL], renters[i % len(rentals)],
                                             rentals[i % len(rentals)], phase))
            for i in range(watchers)
        ]  # fmt: skip
        await run_phase(phase, tasks, processes, args.warm_up)
    return phase


async def portal_phase(
    portal_url: str, secret: str, renters: list[str], rentals: list[str], args: argparse.Namespace,
    processes: dict[str, psutil.Process],
) -> Phase:  # fmt: skip
    phase = Phase("portal (SSE)", args.watchers, args.seconds)
    clients = []
    for index, token in enumerate(renters):
        session: dict[str, object] = {}
        account = accounts_pb2.Account(name=f"r{index}", role="renter", subject=f"r{index}")
        auth.sign_in(session, token, account, datetime.now(UTC) + timedelta(hours=1))
        cookies = {cookie_name(False): encode_session(secret, session)}
        limits = httpx.Limits(max_connections=args.watchers, max_keepalive_connections=0)
        clients.append(httpx.AsyncClient(base_url=portal_url, cookies=cookies, timeout=None, limits=limits))
    try:
        tasks = [
            asyncio.create_task(watch_portal(clients[i % len(rentals)], rentals[i % len(rentals)], phase))
            for i in range(args.watchers)
        ]
        await run_phase(phase, tasks, processes, args.warm_up)
    finally:
        for client in clients:
            await client.aclose()
    return phase


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="rentmeter-bench-portal-"))
    db_url = args.db or f"sqlite:///{workdir / 'collector.db'}"
    collector_port, portal_port = free_port(), free_port()
    target, portal_url = f"127.0.0.1:{collector_port}", f"http://127.0.0.1:{portal_port}"
    secret_file = workdir / "portal.key"
    secret = secrets.token_urlsafe(32)
    secret_file.write_text(secret)
    subprocess.run([sys.executable, "-m", "rentmeter", "collector", "migrate", "--db", db_url], cwd=ROOT,
                   check=True, capture_output=True)  # fmt: skip
    machines, admin, renters = prepare(db_url, args.sessions)
    collector_command = ["collector", "serve", "--listen", target, "--db", db_url]
    portal_command = ["portal", "serve", "--collector", target, "--listen", f"127.0.0.1:{portal_port}",
                      "--secret-key-file", str(secret_file)]  # fmt: skip
    with (
        child(collector_command, workdir / "collector.log") as collector,
        child(portal_command, workdir / "portal.log") as portal,
    ):
        rentals = await start_rentals(target, admin, machines)
        await wait_until_serving(f"{portal_url}/signin")
        processes = {"collector": collector, "portal": portal}
        print(f"{args.sessions} rentals, {args.watchers} watchers, phases of {args.seconds:.0f} s "
              f"(after {args.warm_up:.0f} s of warm-up each); database {db_url}")  # fmt: skip
        phases = [
            await direct_phase("direct, one per rental", target, renters, rentals, args.sessions, args,
                               {"collector": collector}),
            await direct_phase("direct, all", target, renters, rentals, args.watchers, args,
                               {"collector": collector}),
            await portal_phase(portal_url, secret, renters, rentals, args, processes),
        ]  # fmt: skip
    for phase in phases:
        phase.report()
    one, all_direct, through_portal = phases
    ratio = all_direct.cpu_s["collector"] / max(one.cpu_s["collector"], 1e-9)
    fold = args.watchers // args.sessions
    print(f"\ncollector CPU, {fold}x the watchers on the same rentals: {ratio:.2f}x "
          "(one rating per rental per update, shared by its watchers)")  # fmt: skip
    portal_cpu = sum(through_portal.cpu_s.values()) / max(all_direct.cpu_s["collector"], 1e-9)
    print(
        f"portal + collector CPU through the portal vs the collector alone, same watchers: {portal_cpu:.2f}x"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--watchers", type=int, default=500)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warm-up", type=float, default=5.0)
    parser.add_argument(
        "--db", help="collector database URL (default: an SQLite file in a temporary directory)"
    )
    asyncio.run(main(parser.parse_args()))
