"""Collector ingest: many concurrent agent streams against a real collector process.

    python bench/collector_ingest.py [--agents 1000] [--reports 20] [--samples 5] [--db URL]

Starts `rentmeter collector serve` as a child process on a free loopback port, enrolls N agents, opens one
report stream per agent (all held open at once), sends pre-signed reports and waits for every ack. Prints
samples stored per second, the collector's CPU per report, its peak RSS, and, as the baseline measured in
the same run, SQLAlchemy Core executemany of the same sample rows into an SQLite file (no gRPC, no
signatures): the ratio says how much of the raw insert rate the whole ingest path keeps.
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
from datetime import UTC, datetime
from pathlib import Path

import grpc
import psutil
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
STREAMS_PER_CHANNEL = 20  # load generator: streams multiplexed on one client connection
sys.path.insert(0, str(ROOT))

from agent.identity import Identity, public_key_bytes  # noqa: E402
from agent.sampler import SampleData  # noqa: E402
from agent.wire import build_report, sample_to_proto, sign_report  # noqa: E402
from collector.accounts.tokens import create_api_token  # noqa: E402
from collector.db.database import Database  # noqa: E402
from collector.db.engine import make_engine, upgrade  # noqa: E402
from collector.db.models import Sample  # noqa: E402
from protos.rentmeter.v1 import agent_pb2, agent_pb2_grpc, machines_pb2, machines_pb2_grpc  # noqa: E402
from tests.collector.helpers import new_identity  # noqa: E402


def admin_token(db_url: str) -> str:
    """An admin API token written straight into the collector's database."""
    database = Database(db_url)
    try:
        return database.call(create_api_token, "admin", "", "bench", datetime.now(UTC))
    finally:
        database.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reports_for(identity: Identity, count: int, samples: int, t0: float) -> list[agent_pb2.SignedReport]:
    out, t = [], t0
    for seq in range(1, count + 1):
        batch = []
        for _ in range(samples):
            batch.append(
                sample_to_proto(SampleData(int(t * 1e6), int((t + 1) * 1e6), 1000, 0.1, 1, 2, 3, 4, 5, 6))
            )
            t += 1
        out.append(sign_report(identity, build_report(identity.agent_id, seq, batch, [], 0)))
    return out


async def enroll_all(channel: grpc.aio.Channel, count: int, admin: str) -> list[Identity]:
    machines = machines_pb2_grpc.MachineServiceStub(channel)
    agents = agent_pb2_grpc.AgentServiceStub(channel)
    bearer = [("authorization", f"Bearer {admin}")]

    async def one() -> Identity:
        request = machines_pb2.CreateEnrollmentTokenRequest()
        token = (await machines.CreateEnrollmentToken(request, metadata=bearer)).token
        owner = new_identity()
        response = await agents.Enroll(
            agent_pb2.EnrollRequest(token=token, public_key=public_key_bytes(owner.key))
        )
        return Identity(response.agent_id, "standard", owner.key)

    identities = []
    for start in range(0, count, 100):
        identities += await asyncio.gather(*(one() for _ in range(min(100, count - start))))
    return identities


async def stream_all(target: str, batches: list[list[agent_pb2.SignedReport]]) -> tuple[float, int]:
    separate = [("grpc.use_local_subchannel_pool", 1)]  # one connection per channel, as agents have
    count = max(1, len(batches) // STREAMS_PER_CHANNEL)
    channels = [grpc.aio.insecure_channel(target, options=separate) for _ in range(count)]
    await asyncio.gather(*(channel.channel_ready() for channel in channels))
    opened = asyncio.Event()
    ready = 0

    async def one(index: int, envelopes: list[agent_pb2.SignedReport]) -> int:
        nonlocal ready
        call = agent_pb2_grpc.AgentServiceStub(channels[index % len(channels)]).StreamReports()
        ready += 1
        if ready == len(batches):
            opened.set()
        await opened.wait()  # every stream is open before any report is sent
        acked = 0
        try:
            for envelope in envelopes:
                await call.write(envelope)
            await call.done_writing()
            async for response in call:
                acked += sum(1 for a in response.acks if a.status == agent_pb2.ReportAck.ACCEPTED)
        except grpc.aio.AioRpcError as exc:
            failures.append(f"{exc.code().name}: {exc.details()}")
        return acked

    failures: list[str] = []
    tasks = [asyncio.create_task(one(i, b)) for i, b in enumerate(batches)]
    await opened.wait()
    started = time.perf_counter()
    accepted = sum(await asyncio.gather(*tasks))
    elapsed = time.perf_counter() - started
    for channel in channels:
        await channel.close()
    if failures:
        print(f"{len(failures)} streams failed, e.g. {sorted(set(failures))[:3]}")
    return elapsed, accepted


def baseline(rows: int, workdir: Path) -> float:
    """SQLAlchemy Core executemany of `rows` sample rows into an SQLite file, rows per second."""
    engine = make_engine(f"sqlite:///{workdir / 'baseline.db'}")
    upgrade(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    data = [
        {"agent_id": "m", "report_sequence": i // 5, "start_us": i, "end_us": i + 1, "cpu_busy_us": 1,
         "cpu_utilization": 0.1, "memory_used_bytes": 1, "memory_total_bytes": 2, "disk_read_bytes": 3,
         "disk_write_bytes": 4, "net_rx_bytes": 5, "net_tx_bytes": 6}
        for i in range(rows)
    ]  # fmt: skip
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        for chunk in range(0, rows, 5000):
            connection.execute(insert(Sample), data[chunk : chunk + 5000])
    return rows / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--reports", type=int, default=20)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--db", default="")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="rentmeter-bench-"))
    db_url = args.db or f"sqlite:///{workdir / 'collector.db'}"
    port = free_port()
    command = ["collector", "serve", "--listen", f"127.0.0.1:{port}", "--db", db_url]
    log = (workdir / "collector.log").open("w")  # the collector's own log, for when something fails
    # The load generator enrolls its agents with one admin token, faster than a person would.
    env = {**os.environ, "RENTMETER_API_RATE_LIMIT": "0"}
    server = subprocess.Popen([sys.executable, "-m", "rentmeter", *command], cwd=ROOT, stderr=log, env=env)
    proc = psutil.Process(server.pid)
    target = f"127.0.0.1:{port}"
    try:
        async with grpc.aio.insecure_channel(target) as channel:
            await asyncio.wait_for(channel.channel_ready(), 30)
            identities = await enroll_all(channel, args.agents, admin_token(db_url))
        t0 = time.time() - args.reports * args.samples - 60
        batches = [reports_for(i, args.reports, args.samples, t0) for i in identities]
        profile = os.environ.get("RENTMETER_BENCH_PYSPY")  # where to write a py-spy profile (raw format)
        spy = None
        if profile:
            spy = subprocess.Popen(
                ["py-spy", "record", "--format", "raw", "-o", profile, "--pid", str(server.pid)]
            )
            await asyncio.sleep(1)
        cpu_before = sum(proc.cpu_times()[:2])
        elapsed, accepted = await stream_all(target, batches)
        cpu = sum(proc.cpu_times()[:2]) - cpu_before
        rss = proc.memory_info().rss
        if spy:
            spy.send_signal(signal.SIGINT)
            spy.wait(30)
    finally:
        server.terminate()
        server.wait(30)
    samples = accepted * args.samples
    raw = baseline(samples, workdir)
    print(f"collector ingest: {args.agents} concurrent streams, {accepted} reports x {args.samples} samples")
    print(f"  wall            {elapsed:8.2f} s")
    print(f"  reports/s       {accepted / elapsed:10,.0f}")
    print(f"  samples/s       {samples / elapsed:10,.0f}")
    print(f"  collector CPU   {cpu:8.2f} s  ({cpu / accepted * 1e6:,.0f} us per report)")
    print(f"  collector RSS   {rss / 2**20:8.1f} MiB (holding {args.agents} streams)")
    print(f"baseline: Core executemany into SQLite: {raw:10,.0f} rows/s")
    print(f"ratio ingest/baseline (samples/s): {samples / elapsed / raw:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
