"""Control delivery between collectors sharing PostgreSQL: how long a control sent through one collector
takes to reach an agent's stream on another (LISTEN/NOTIFY), against the same control sent through the
collector the stream is on (the baseline, measured in the same run).

    python bench/control_bus.py [--controls 100] [--db URL]

Two collectors run in this process on one database (RENTMETER_TEST_PG_URL's server, database
rentmeter_bench_controls, recreated; or --db naming an empty one); an enrolled agent holds a real report
stream on the second. Each control is a LOCK_NOW through MachineService.SendControl; the time is from the
call to the control's arrival on the agent's stream. Prints p50, p99 and max of both, and their ratio.
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import grpc
from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.identity import Identity, public_key_bytes  # noqa: E402
from collector.accounts.tokens import create_api_token  # noqa: E402
from collector.config import CollectorSettings  # noqa: E402
from protos.rentmeter.v1 import agent_pb2, agent_pb2_grpc, machines_pb2  # noqa: E402
from rentmeter.client import AdminClient  # noqa: E402
from rentmeter.embedded import running_collector  # noqa: E402
from tests.collector.helpers import (  # noqa: E402
    new_identity,
    sample,
    signed,
)


def fresh_database(url: str | None) -> str:
    if url:
        return url
    base = make_url(
        os.environ.get("RENTMETER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    )
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS rentmeter_bench_controls WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE rentmeter_bench_controls"))
    engine.dispose()
    return base.set(database="rentmeter_bench_controls").render_as_string(hide_password=False)


def enroll(channel: grpc.Channel, admin: AdminClient) -> Identity:
    """A new machine enrolled with a fresh key, as `rentmeter agent run --token` does."""
    token = admin.machines.CreateEnrollmentToken(machines_pb2.CreateEnrollmentTokenRequest()).token
    owner = new_identity()
    request = agent_pb2.EnrollRequest(token=token, public_key=public_key_bytes(owner.key))
    response = agent_pb2_grpc.AgentServiceStub(channel).Enroll(request)
    return Identity(response.agent_id, response.machine_class, owner.key)


def timings(admin: AdminClient, agent_id: str, arrivals: queue.Queue[float], count: int) -> list[float]:
    """Seconds from each SendControl to the control's arrival on the stream."""
    found = []
    request = machines_pb2.SendControlRequest(agent_id=agent_id, kind=agent_pb2.Control.LOCK_NOW)
    for _ in range(count):
        sent = time.monotonic()
        threading.Thread(target=admin.machines.SendControl, args=(request,), daemon=True).start()
        found.append(arrivals.get(timeout=10) - sent)
        time.sleep(0.35)  # the call waits 0.3 s for the other collectors' counts: one at a time
    return found


def describe(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"{name}: p50 {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
            f"max {ordered[-1] * 1000:.1f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--controls", type=int, default=100)
    parser.add_argument("--db")
    args = parser.parse_args()
    settings = CollectorSettings(listen="127.0.0.1:0", db_url=fresh_database(args.db))
    with running_collector(settings) as first, running_collector(settings) as second:
        token = first.database.call(create_api_token, "admin", "", "bench", datetime.now(UTC))
        via_first = AdminClient.connect(f"127.0.0.1:{first.port}", token)
        via_second = AdminClient.connect(f"127.0.0.1:{second.port}", token)
        channel = grpc.insecure_channel(f"127.0.0.1:{second.port}")
        identity = enroll(channel, via_second)
        outgoing: queue.Queue[agent_pb2.SignedReport | None] = queue.Queue()
        arrivals: queue.Queue[float] = queue.Queue()
        responses = agent_pb2_grpc.AgentServiceStub(channel).StreamReports(iter(outgoing.get, None))

        def read() -> None:
            try:
                for message in responses:
                    for _ in message.controls:
                        arrivals.put(time.monotonic())
            except grpc.RpcError:  # cancelled at the end
                pass

        threading.Thread(target=read, daemon=True).start()
        outgoing.put(signed(identity, 1, [sample(time.time() - 2, time.time() - 1)]))
        time.sleep(1.0)  # attached
        same = timings(via_second, identity.agent_id, arrivals, args.controls)
        other = timings(via_first, identity.agent_id, arrivals, args.controls)
        print(describe("baseline, through the stream's collector", same))
        print(describe("through another collector (NOTIFY)", other))
        print(f"ratio (p50): {statistics.median(other) / statistics.median(same):.1f}x")
        outgoing.put(None)
        responses.cancel()
        for client in (via_first, via_second):
            client.close()
        channel.close()


if __name__ == "__main__":
    main()
