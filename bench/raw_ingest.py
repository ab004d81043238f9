"""The raw ceiling of collector ingest: a bare gRPC report stream → verify → raw insert of the same rows.

    python -m bench.raw_ingest PORT DB_URL KEYS_FILE

A child process of bench/collector_ingest.py, measured the same way as the collector (its CPU, its wall
time to the last ack). It serves only AgentService.StreamReports: each report's Ed25519 signature is
verified over the exact payload bytes, the payload parsed, and its report row and sample rows inserted
with the fastest plain method (the driver's executemany on SQLite, COPY on PostgreSQL) in one transaction per
batch gathered from every stream; acks go out after the commit. No rate limits, no watermarks, no
sequence checks, no validation, no metrics: what is left is the work no ingest can skip.
KEYS_FILE: one `agent_id public_key_hex` per line. Foreign keys are switched off (there are no machines).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Table, event, insert

from collector.db.engine import make_engine, upgrade
from collector.db.models import Report
from protos.rentmeter.v1 import agent_pb2, agent_pb2_grpc
from protos.signing import report_signing_bytes

REPORTS: Table = Report.__table__  # type: ignore[assignment]
SAMPLE_COLUMNS = (
    "agent_id", "report_sequence", "start_us", "end_us", "cpu_busy_us", "cpu_utilization",
    "memory_used_bytes", "memory_total_bytes", "disk_read_bytes", "disk_write_bytes", "net_rx_bytes",
    "net_tx_bytes",
)  # fmt: skip
Rows = tuple[list[dict[str, object]], list[tuple[object, ...]]]


def us(stamp: object) -> int:
    return stamp.seconds * 1_000_000 + stamp.nanos // 1000  # type: ignore[attr-defined]


def rows_of(envelope: agent_pb2.SignedReport, report: agent_pb2.UsageReport, now: datetime) -> Rows:
    agent, seq = report.agent_id, report.sequence
    head = {"agent_id": agent, "sequence": seq, "start_us": us(report.start), "end_us": us(report.end),
            "received_at": now, "logins": {"sessions": []}, "payload": envelope.payload,
            "signature": envelope.signature}  # fmt: skip
    samples: list[tuple[object, ...]] = [
        (agent, seq, us(s.start), us(s.end), s.cpu_busy_us, s.cpu_utilization, s.memory_used_bytes,
         s.memory_total_bytes, s.disk_read_bytes, s.disk_write_bytes, s.net_rx_bytes, s.net_tx_bytes)
        for s in report.samples
    ]  # fmt: skip
    return [head], samples


class RawWriter:
    """One transaction per gathered batch, on one thread."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        upgrade(self.engine)
        if self.engine.dialect.name == "sqlite":  # after the engine's own pragmas: no machines rows here
            event.listen(self.engine, "connect", _no_foreign_keys)
            self.engine.dispose()
        self.postgres = self.engine.dialect.name == "postgresql"
        self.queue: asyncio.Queue[tuple[Rows, asyncio.Future[None]]] = asyncio.Queue()

    def insert(self, batch: list[Rows]) -> None:
        heads = [h for rows, _ in batch for h in rows]
        samples = [s for _, rows in batch for s in rows]
        with self.engine.begin() as connection:
            if self.postgres:
                connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
                connection.execute(insert(REPORTS), heads)
                copy_rows(connection, samples)
            else:
                connection.execute(insert(REPORTS), heads)
                marks = ", ".join("?" for _ in SAMPLE_COLUMNS)
                sql = f"INSERT INTO samples ({', '.join(SAMPLE_COLUMNS)}) VALUES ({marks})"
                connection.exec_driver_sql(sql, samples)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            items = [await self.queue.get()]
            while not self.queue.empty():
                items.append(self.queue.get_nowait())
            try:
                await loop.run_in_executor(None, self.insert, [rows for rows, _ in items])
            except Exception as exc:  # every stream of the batch fails: the bench shows it
                print(f"insert failed: {exc}", file=sys.stderr, flush=True)
                for _, future in items:
                    future.set_exception(exc)
                continue
            for _, future in items:
                future.set_result(None)


def _no_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA foreign_keys=OFF")


def copy_rows(connection: Connection, samples: list[tuple[object, ...]]) -> None:
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY samples ({', '.join(SAMPLE_COLUMNS)}) FROM STDIN") as copy:
        for row in samples:
            copy.write_row(row)


class BareAgentService(agent_pb2_grpc.AgentServiceServicer):
    def __init__(self, keys: dict[str, Ed25519PublicKey], writer: RawWriter) -> None:
        self.keys = keys
        self.writer = writer

    async def StreamReports(
        self, request_iterator: AsyncIterator[agent_pb2.SignedReport], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[agent_pb2.CollectorMessage]:
        loop = asyncio.get_running_loop()
        done: asyncio.Queue[tuple[list[int], asyncio.Future[None]] | None] = asyncio.Queue()

        async def read() -> None:
            async for message in request_iterator:
                heads: list[dict[str, object]] = []
                samples: list[tuple[object, ...]] = []
                sequences = []
                now = datetime.now(UTC)
                for envelope in (message, *message.more):
                    self.keys[envelope.agent_id].verify(
                        envelope.signature, report_signing_bytes(envelope.payload)
                    )
                    report = agent_pb2.UsageReport.FromString(envelope.payload)
                    h, s = rows_of(envelope, report, now)
                    heads += h
                    samples += s
                    sequences.append(report.sequence)
                future: asyncio.Future[None] = loop.create_future()
                self.writer.queue.put_nowait(((heads, samples), future))
                done.put_nowait((sequences, future))
            done.put_nowait(None)

        reader = asyncio.create_task(read())
        while (item := await done.get()) is not None:
            sequences, future = item
            await future
            yield agent_pb2.CollectorMessage(
                acks=[agent_pb2.ReportAck(sequence=s, status=agent_pb2.ReportAck.ACCEPTED) for s in sequences]
            )
        await reader


async def serve(port: int, url: str, keys_file: Path) -> None:
    keys = {}
    for line in keys_file.read_text().split("\n"):
        if line.strip():
            agent_id, key = line.split()
            keys[agent_id] = Ed25519PublicKey.from_public_bytes(bytes.fromhex(key))
    writer = RawWriter(url)
    server = grpc.aio.server(options=[("grpc.max_concurrent_streams", 1 << 20)])
    agent_pb2_grpc.add_AgentServiceServicer_to_server(BareAgentService(keys, writer), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    task = asyncio.create_task(writer.run())
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()
    task.cancel()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])))
