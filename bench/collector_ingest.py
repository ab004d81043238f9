"""Collector ingest against its same-run raw ceiling, on SQLite and PostgreSQL.

    python bench/collector_ingest.py [--agents 1000] [--reports 20] [--samples 5] [--per-message 20]
                                     [--db both|sqlite|postgresql] [--pg-url URL]

For each database: starts `rentmeter collector serve` as a child process on a free loopback port, enrolls
N agents through the real enrollment path, opens one report stream per agent (all held open at once), sends
pre-signed reports (`--per-message` per stream message, SignedReport.more) and waits for every ack. Then,
as the baseline of the same run, the raw ceiling (bench/raw_ingest.py: a bare gRPC stream -> Ed25519 verify
-> raw insert of the same rows, acks after commit) takes the very same messages over the same streams.
Prints, for both: samples/s, send->ack p50/p99, CPU per report, CPU peak and RSS peak; then the ratio of
the collector's rate to the raw ceiling's. RENTMETER_BENCH_PYSPY=FILE records a py-spy profile of the
collector (raw format, for flame graphs) while it ingests.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import grpc
import psutil
from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parents[1]
STREAMS_PER_CHANNEL = 20  # streams multiplexed on one client connection
sys.path.insert(0, str(ROOT))

from agent.identity import Identity, public_key_bytes  # noqa: E402
from agent.sampler import SampleData  # noqa: E402
from agent.wire import build_report, sample_to_proto, sign_report  # noqa: E402
from collector.accounts.tokens import create_api_token  # noqa: E402
from collector.core.limits import raise_open_files_limit  # noqa: E402
from collector.db.database import Database  # noqa: E402
from protos.rentmeter.v1 import agent_pb2, agent_pb2_grpc  # noqa: E402
from rentmeter.loadgen import enroll_agents  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@dataclass
class Run:
    """One server's figures over the same messages."""

    wall_s: float = 0.0
    accepted: int = 0
    cpu_s: float = 0.0
    cpu_peak: float = 0.0  # % of one core, over 0.25 s windows
    rss_peak: int = 0
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies) or [0.0]
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_database(kind: str, name: str, workdir: Path, pg_url: str) -> str:
    """An empty database for one server: an SQLite file, or a PostgreSQL database emptied first."""
    if kind == "sqlite":
        return f"sqlite:///{workdir / f'{name}.db'}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(pg_url).set(database=name).render_as_string(hide_password=False)


def messages_for(
    identity: Identity, reports: int, samples: int, per_message: int, t0: float
) -> list[agent_pb2.SignedReport]:
    envelopes, t = [], t0
    for seq in range(1, reports + 1):
        batch = []
        for _ in range(samples):
            batch.append(
                sample_to_proto(SampleData(int(t * 1e6), int((t + 1) * 1e6), 1000, 0.1, 1, 2, 3, 4, 5, 6))
            )
            t += 1
        envelopes.append(sign_report(identity, build_report(identity.agent_id, seq, batch, [], 0)))
    messages = []
    for at in range(0, len(envelopes), per_message):
        first = agent_pb2.SignedReport()
        first.CopyFrom(envelopes[at])
        first.more.extend(envelopes[at + 1 : at + per_message])
        messages.append(first)
    return messages


async def watch(proc: psutil.Process, run: Run, stop: asyncio.Event) -> None:
    last, at = sum(proc.cpu_times()[:2]), time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0.25)
        cpu, now = sum(proc.cpu_times()[:2]), time.perf_counter()
        run.cpu_peak = max(run.cpu_peak, (cpu - last) / (now - at) * 100)
        run.rss_peak = max(run.rss_peak, proc.memory_info().rss)
        last, at = cpu, now


async def stream_all(target: str, streams: list[list[agent_pb2.SignedReport]], proc: psutil.Process) -> Run:
    run = Run()
    separate = [("grpc.use_local_subchannel_pool", 1)]  # one connection per channel, as agents have
    channels = [
        grpc.aio.insecure_channel(target, options=separate)
        for _ in range(max(1, len(streams) // STREAMS_PER_CHANNEL))
    ]
    await asyncio.gather(*(channel.channel_ready() for channel in channels))
    opened = asyncio.Event()
    ready = 0

    async def one(index: int, messages: list[agent_pb2.SignedReport]) -> None:
        nonlocal ready
        call = agent_pb2_grpc.AgentServiceStub(channels[index % len(channels)]).StreamReports()
        ready += 1
        if ready == len(streams):
            opened.set()
        await opened.wait()  # every stream is open before any report is sent
        sent: dict[int, float] = {}
        try:
            for message in messages:
                now = time.perf_counter()
                for envelope in (message, *message.more):
                    sent[agent_pb2.UsageReport.FromString(envelope.payload).sequence] = now
                await call.write(message)
            await call.done_writing()
            async for response in call:
                now = time.perf_counter()
                for ack in response.acks:
                    if ack.status == agent_pb2.ReportAck.ACCEPTED:
                        run.accepted += 1
                        run.latencies.append(now - sent[ack.sequence])
        except grpc.aio.AioRpcError as exc:
            run.failures.append(f"{exc.code().name}: {exc.details()}")

    tasks = [asyncio.create_task(one(i, m)) for i, m in enumerate(streams)]
    await opened.wait()
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch(proc, run, stop))
    cpu_before, started = sum(proc.cpu_times()[:2]), time.perf_counter()
    await asyncio.gather(*tasks)
    run.wall_s = time.perf_counter() - started
    run.cpu_s = sum(proc.cpu_times()[:2]) - cpu_before
    stop.set()
    await watcher
    for channel in channels:
        await channel.close()
    return run


def start(command: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    output, environment = log.open("w"), {**os.environ, **(env or {})}
    command = [sys.executable, "-m", *command]
    return subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, env=environment)


def stop(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


async def collector_run(
    args: argparse.Namespace, url: str, workdir: Path
) -> tuple[Run, list[Identity], list[list[agent_pb2.SignedReport]]]:
    port = free_port()
    # The load generator enrolls its agents with one admin token, faster than a person would.
    server = start(["rentmeter", "collector", "serve", "--listen", f"127.0.0.1:{port}", "--db", url],
                   workdir / "collector.log", {"RENTMETER_API_RATE_LIMIT": "0"})  # fmt: skip
    target = f"127.0.0.1:{port}"
    try:
        async with grpc.aio.insecure_channel(target) as channel:
            await asyncio.wait_for(channel.channel_ready(), 60)
        database = Database(url)
        token = database.call(create_api_token, "admin", "", "bench", datetime.now(UTC))
        database.close()
        identities = await enroll_agents(target, token, args.agents)
        t0 = time.time() - args.reports * args.samples - 60
        streams = [messages_for(i, args.reports, args.samples, args.per_message, t0) for i in identities]
        spy = None
        if profile := os.environ.get("RENTMETER_BENCH_PYSPY"):
            spy = subprocess.Popen(
                ["py-spy", "record", "--format", "raw", "-o", profile, "--pid", str(server.pid)]
            )
            await asyncio.sleep(1)
        run = await stream_all(target, streams, psutil.Process(server.pid))
        if spy:
            spy.send_signal(signal.SIGINT)
            spy.wait(30)
        return run, identities, streams
    finally:
        stop(server)


async def raw_run(
    url: str, identities: list[Identity], streams: list[list[agent_pb2.SignedReport]], workdir: Path
) -> Run:
    keys = workdir / "keys.txt"
    keys.write_text("".join(f"{i.agent_id} {public_key_bytes(i.key).hex()}\n" for i in identities))
    port = free_port()
    server = start(["bench.raw_ingest", str(port), url, str(keys)], workdir / "raw.log")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            await asyncio.wait_for(channel.channel_ready(), 60)
        return await stream_all(f"127.0.0.1:{port}", streams, psutil.Process(server.pid))
    finally:
        stop(server)


def show(name: str, run: Run, samples: int) -> None:
    reports = max(1, run.accepted)
    print(f"  {name:<13} {run.accepted * samples / run.wall_s:>10,.0f} samples/s  {run.wall_s:6.2f} s  "
          f"send->ack p50 {run.percentile(0.5) * 1000:7.1f} ms p99 {run.percentile(0.99) * 1000:7.1f} ms  "
          f"CPU {run.cpu_s / reports * 1e6:5.0f} us/report, peak {run.cpu_peak:4.0f} %  "
          f"RSS peak {run.rss_peak / 2**20:5.0f} MiB")  # fmt: skip
    if run.failures:
        print(f"  {name}: {len(run.failures)} streams failed, e.g. {sorted(set(run.failures))[:3]}")


async def bench(kind: str, args: argparse.Namespace) -> float:
    workdir = Path(tempfile.mkdtemp(prefix=f"rentmeter-bench-{kind}-"))
    url = fresh_database(kind, "rentmeter_bench_ingest", workdir, args.pg_url)
    collector, identities, streams = await collector_run(args, url, workdir)
    raw = await raw_run(
        fresh_database(kind, "rentmeter_bench_raw", workdir, args.pg_url), identities, streams, workdir
    )
    expected = args.agents * args.reports
    print(f"{kind}: {args.agents} concurrent streams x {args.reports} reports x {args.samples} samples, "
          f"{args.per_message} reports per message ({expected:,} reports)")  # fmt: skip
    show("collector", collector, args.samples)
    show("raw ceiling", raw, args.samples)
    rate = collector.accepted / collector.wall_s
    ratio = rate / (raw.accepted / raw.wall_s)
    print(f"  ratio collector/raw ceiling (samples/s): {ratio:.2f}")
    print(f"  collector stored {collector.accepted:,} of {expected:,} reports")
    return rate * args.samples


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--reports", type=int, default=20)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument(
        "--per-message", type=int, default=20, help="reports per stream message (1: one each)"
    )
    parser.add_argument("--db", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--pg-url", default=os.environ.get("RENTMETER_BENCH_PG_URL", PG_URL))
    args = parser.parse_args()
    raise_open_files_limit()
    rates = {}
    for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        rates[kind] = await bench(kind, args)
    if len(rates) == 2:
        print(f"PostgreSQL / SQLite (collector samples/s): {rates['postgresql'] / rates['sqlite']:.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
