"""Simulated agents for load tests: real Ed25519 keys enrolled through the collector's real enrollment path
(CreateEnrollmentToken, then AgentService.Enroll), real signatures, one real gRPC report stream each.

Each agent samples every `interval` seconds and seals a signed report every `report_every` samples (as
`rentmeter agent run` does), its first report at a random offset so agents do not all send at once. A
stream that fails is opened again after agent.backoff's delay (honouring the collector's retry hint) and
the unacknowledged reports are sent again, oldest first; the collector counts each (agent, sequence) once.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import grpc

from agent.backoff import next_delay, retry_hint
from agent.identity import Identity, public_key_bytes
from agent.sampler import SampleData
from agent.wire import build_report, sample_to_proto, sign_report
from protos.rentmeter.v1 import agent_pb2, agent_pb2_grpc, machines_pb2, machines_pb2_grpc

ENROLL_CONCURRENCY = 50
DONE = (agent_pb2.ReportAck.ACCEPTED, agent_pb2.ReportAck.DUPLICATE)
# One TCP connection per agent, as real agents on separate machines have.
T = TypeVar("T")
OWN_CONNECTION = [("grpc.use_local_subchannel_pool", 1)]


@dataclass
class LoadStats:
    """What the agents of one process saw; `merge` adds another process's."""

    sent: int = 0
    acked: int = 0
    failed: int = 0  # reports refused (REJECTED, CONFLICT, FORGED)
    unacked: int = 0  # reports still waiting for their ack when the run ended
    latencies_s: list[float] = field(default_factory=list)  # send -> ack of each acked report
    ack_statuses: Counter[str] = field(default_factory=Counter)
    stream_errors: Counter[str] = field(default_factory=Counter)  # status code names of failed streams

    def merge(self, other: LoadStats) -> None:
        self.sent += other.sent
        self.acked += other.acked
        self.failed += other.failed
        self.unacked += other.unacked
        self.latencies_s += other.latencies_s
        self.ack_statuses.update(other.ack_statuses)
        self.stream_errors.update(other.stream_errors)

    def percentile(self, fraction: float) -> float:
        """The send->ack latency below which `fraction` of the acked reports fall (seconds; 0 if none)."""
        if not self.latencies_s:
            return 0.0
        ordered = sorted(self.latencies_s)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def enroll_agents(target: str, api_token: str, count: int, machine_class: str = "") -> list[Identity]:
    """Enroll `count` new agents through the real path; each gets a fresh Ed25519 key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    bearer = [("authorization", f"Bearer {api_token}")]
    async with grpc.aio.insecure_channel(target) as channel:
        machines = machines_pb2_grpc.MachineServiceStub(channel)
        agents = agent_pb2_grpc.AgentServiceStub(channel)

        async def one() -> Identity:
            request = machines_pb2.CreateEnrollmentTokenRequest(machine_class=machine_class, label="loadgen")
            token = (await _retried(lambda: machines.CreateEnrollmentToken(request, metadata=bearer))).token
            key = Ed25519PrivateKey.generate()
            enroll = agent_pb2.EnrollRequest(token=token, public_key=public_key_bytes(key))
            response = await _retried(lambda: agents.Enroll(enroll))
            return Identity(response.agent_id, response.machine_class, key)

        identities: list[Identity] = []
        for start in range(0, count, ENROLL_CONCURRENCY):
            batch = min(ENROLL_CONCURRENCY, count - start)
            identities += await asyncio.gather(*(one() for _ in range(batch)))
        return identities


async def _retried(call: Callable[[], Awaitable[T]]) -> T:
    """`call()` again after RESOURCE_EXHAUSTED or UNAVAILABLE (the collector's rate limit, a busy moment),
    as long as the collector's hint or the backoff says."""
    for attempt in range(20):
        try:
            return await call()
        except grpc.aio.AioRpcError as exc:
            if exc.code() not in (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE):
                raise
            await asyncio.sleep(next_delay(attempt, exc.code(), hint=retry_hint(exc.trailing_metadata())))  # type: ignore[arg-type]
    return await call()


@dataclass
class _Sent:
    envelope: agent_pb2.SignedReport
    first_sent: float


class SimulatedAgent:
    """One agent: seals and signs reports on its schedule and keeps one report stream open."""

    def __init__(
        self,
        identity: Identity,
        channel: grpc.aio.Channel,
        interval: float,
        report_every: int,
        stats: LoadStats,
    ) -> None:
        self._identity = identity
        self._stub = agent_pb2_grpc.AgentServiceStub(channel)
        self._interval = interval
        self._report_every = report_every
        self._stats = stats
        self._pending: dict[int, _Sent] = {}
        self._sequence = 0
        self._last_end_us = 0
        self._loop = asyncio.get_running_loop()
        self._next_seal = self._loop.time() + random.uniform(0, interval * report_every)

    async def run(self, stop_at: float, drain_s: float) -> None:
        """Report until `stop_at` (event-loop time), then wait up to `drain_s` for the last acks."""
        attempt = 0
        drain_until = stop_at + drain_s
        while self._loop.time() < drain_until and (self._loop.time() < stop_at or self._pending):
            try:
                if await self._stream(stop_at, drain_until):
                    attempt = 0
                continue
            except grpc.aio.AioRpcError as exc:
                self._stats.stream_errors[exc.code().name] += 1
                hint = retry_hint(exc.trailing_metadata())  # type: ignore[arg-type]
                delay = next_delay(attempt, exc.code(), hint=hint, backlog=bool(self._pending))
            attempt += 1
            await asyncio.sleep(max(0.0, min(delay, drain_until - self._loop.time())))
        self._stats.unacked += len(self._pending)

    async def _stream(self, stop_at: float, drain_until: float) -> bool:
        """One stream's life: resend what waits, then seal and send on schedule; True if anything was
        acknowledged. Raises the stream's error."""
        call = self._stub.StreamReports()
        acked_before = self._stats.acked
        reader = asyncio.create_task(self._read_acks(call))
        try:
            for sequence in sorted(self._pending):
                await call.write(self._pending[sequence].envelope)
            while True:
                now = self._loop.time()
                if now >= stop_at and (not self._pending or now >= drain_until):
                    break
                wait = (self._next_seal if now < stop_at else min(drain_until, now + 0.05)) - now
                await asyncio.wait([reader], timeout=max(0.0, wait))
                if reader.done():
                    break
                if self._loop.time() >= self._next_seal and self._loop.time() < stop_at:
                    await call.write(self._seal())
            if reader.done():
                reader.result()  # the stream failed: raise why
            else:
                await call.done_writing()
        except asyncio.InvalidStateError:
            raise await _status_error(call) from None
        finally:
            reader.cancel()
            call.cancel()
        return self._stats.acked > acked_before

    def _seal(self) -> agent_pb2.SignedReport:
        """The next report: `report_every` back-to-back samples from the last report's end to now."""
        end_us = int(time.time() * 1e6)
        start_us = self._last_end_us or end_us - int(self._interval * 1e6) * self._report_every
        step = max(1, (end_us - start_us) // self._report_every)
        bounds = [start_us + i * step for i in range(self._report_every)] + [end_us]
        usage = (0.1, 1 << 30, 1 << 34, 4096, 8192, 1500, 900)
        samples = [
            sample_to_proto(SampleData(bounds[i], bounds[i + 1], random.randrange(1, step + 1), *usage))
            for i in range(self._report_every)
        ]
        self._last_end_us = end_us
        self._sequence += 1
        report = build_report(self._identity.agent_id, self._sequence, samples, [], 0)
        envelope = sign_report(self._identity, report)
        self._pending[self._sequence] = _Sent(envelope, self._loop.time())
        self._stats.sent += 1
        self._next_seal += self._interval * self._report_every
        return envelope

    async def _read_acks(self, call: grpc.aio.StreamStreamCall) -> None:
        async for message in call:
            now = self._loop.time()
            for ack in message.acks:
                sent = self._pending.pop(ack.sequence, None)
                if sent is None:
                    continue
                self._stats.ack_statuses[agent_pb2.ReportAck.Status.Name(ack.status)] += 1
                if ack.status in DONE:
                    self._stats.acked += 1
                    self._stats.latencies_s.append(now - sent.first_sent)
                else:
                    self._stats.failed += 1


async def _status_error(call: grpc.aio.StreamStreamCall) -> grpc.aio.AioRpcError:
    """The error a failed stream ended with (a write after the end raises no status of its own)."""
    code = await call.code()
    return grpc.aio.AioRpcError(
        code, await call.initial_metadata(), await call.trailing_metadata(), await call.details()
    )


async def drive(
    target: str,
    identities: list[Identity],
    *,
    interval: float,
    duration: float,
    report_every: int = 5,
    drain_s: float = 30.0,
    streams_per_connection: int = 1,
) -> LoadStats:
    """Run `identities` as simulated agents against `target` for `duration` seconds; their stats."""
    stats = LoadStats()
    count = max(1, -(-len(identities) // max(1, streams_per_connection)))
    channels = [grpc.aio.insecure_channel(target, options=OWN_CONNECTION) for _ in range(count)]
    try:
        agents = [
            SimulatedAgent(identity, channels[i % count], interval, report_every, stats)
            for i, identity in enumerate(identities)
        ]
        stop_at = asyncio.get_running_loop().time() + duration
        await asyncio.gather(*(agent.run(stop_at, drain_s) for agent in agents))
    finally:
        await asyncio.gather(*(channel.close() for channel in channels))
    return stats
