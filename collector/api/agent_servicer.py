"""AgentService: enrollment and the signed report stream."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

import grpc
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from google.protobuf.message import DecodeError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from collector.api import wire
from collector.api.controls import ControlHub, Outbox
from collector.api.metrics import Metrics, rejection_kind
from collector.api.status import Servicer, abort_with, maps_errors
from collector.core.errors import CollectorError, InvalidArgument, ResourceExhausted, Unauthenticated
from collector.core.limits import RateLimiter
from collector.db.database import Database
from collector.db.models import Machine
from collector.metering.enrollment import enroll
from collector.metering.ingest import Ack, AckStatus
from collector.metering.keys import AgentKeys
from collector.metering.writer import ReportWriter
from collector.sessions.rentals import open_session_of
from protos.rentmeter.v1 import agent_pb2, agent_pb2_grpc
from protos.signing import report_signing_bytes, rotation_signing_bytes

logger = logging.getLogger(__name__)

# Reports a stream may have waiting for storage before it stops reading (back-pressure).
MAX_IN_FLIGHT = 256


class AgentService(Servicer, agent_pb2_grpc.AgentServiceServicer):
    def __init__(
        self,
        database: Database,
        writer: ReportWriter,
        hub: ControlHub,
        now: Callable[[], datetime],
        keys: AgentKeys,
        metrics: Metrics,
        report_rate: float = 0.0,
    ) -> None:
        super().__init__(database, now)
        self._writer = writer
        self._hub = hub
        self._keys = keys
        self._metrics = metrics
        self._limiter = RateLimiter(report_rate, report_rate * 10)

    @maps_errors
    async def Enroll(
        self, request: agent_pb2.EnrollRequest, context: grpc.aio.ServicerContext
    ) -> agent_pb2.EnrollResponse:
        if not request.token:
            raise InvalidArgument("token is required")
        facts = wire.facts_to_dict(request.facts)

        def register(db: Session) -> agent_pb2.EnrollResponse:
            machine = enroll(
                db, token=request.token, public_key=request.public_key, facts=facts, now=self.now()
            )
            return agent_pb2.EnrollResponse(agent_id=machine.agent_id, machine_class=machine.machine_class)

        return await self.db.run(register)

    async def StreamReports(
        self, request_iterator: AsyncIterator[agent_pb2.SignedReport], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[agent_pb2.CollectorMessage]:
        """Verify each report as it arrives and store it in the background; answer with acks in arrival
        order, interleaved with control messages for this agent."""
        outbox: Outbox = asyncio.Queue()
        pending: asyncio.Queue[asyncio.Future[Ack] | None] = asyncio.Queue(MAX_IN_FLIGHT)
        stream = _Stream(outbox)
        reader = asyncio.create_task(self._read(request_iterator, pending, stream))
        acker = asyncio.create_task(_forward_acks(pending, outbox, self._metrics))
        try:
            while (message := await outbox.get()) is not None:
                yield message
            await acker  # a storage failure ends the acks first: raise it (the reader is cancelled below)
            await reader  # a refused report ends the reading: raise why
        except CollectorError as exc:
            self._metrics.refused_streams.labels(_refusal_kind(exc)).inc()
            await abort_with(context, exc, "StreamReports")
        except SQLAlchemyError:
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, "storage failed; resend the unacknowledged reports"
            )
        finally:
            reader.cancel()
            acker.cancel()
            if stream.agent_id:
                self._hub.unsubscribe(stream.agent_id, outbox)

    async def _read(
        self,
        request_iterator: AsyncIterator[agent_pb2.SignedReport],
        pending: asyncio.Queue[asyncio.Future[Ack] | None],
        stream: _Stream,
    ) -> None:
        try:
            async for envelope in request_iterator:
                if stream.agent_id and envelope.agent_id != stream.agent_id:
                    raise InvalidArgument("a report stream carries the reports of one agent only")
                if not self._limiter.allow(envelope.agent_id):
                    raise ResourceExhausted(
                        "too many reports from this agent; resend the unacknowledged later"
                    )
                report = await self._verify(envelope)
                if not stream.agent_id:
                    await self._attach(stream, envelope.agent_id)
                await pending.put(self._writer.submit(wire.report_from_proto(envelope, report)))
        finally:
            await pending.put(None)

    async def _attach(self, stream: _Stream, agent_id: str) -> None:
        """Route this agent's controls to the stream, starting with the rental session open now, if any."""
        stream.agent_id = agent_id
        self._hub.subscribe(agent_id, stream.outbox)
        rental = await self.db.run(_open_rental, agent_id)
        if rental is not None:
            stream.outbox.put_nowait(agent_pb2.CollectorMessage(controls=[rental]))

    async def _verify(self, envelope: agent_pb2.SignedReport) -> agent_pb2.UsageReport:
        """Check the signature over the exact payload bytes, then parse them. After a key rotation the
        previous key is accepted for the reports it signed before (sequence up to the rotation's)."""
        try:
            ring = await self._keys.key_of(envelope.agent_id)
        except Unauthenticated:
            logger.warning("report from agent %r refused: unknown or revoked", envelope.agent_id)
            raise
        report = agent_pb2.UsageReport()
        try:
            report.ParseFromString(envelope.payload)
        except DecodeError:
            report = None  # type: ignore[assignment]
        signed = report_signing_bytes(envelope.payload)
        keys = ring.for_sequence(report.sequence) if report is not None else [ring.current]
        if not any(_verifies(key, envelope.signature, signed) for key in keys):
            logger.warning("agent %s: report signature does not verify", envelope.agent_id)
            raise Unauthenticated(f"report signature does not verify for agent {envelope.agent_id}")
        if report is None:
            raise InvalidArgument("report payload is not a UsageReport")
        if report.agent_id != envelope.agent_id:
            raise InvalidArgument(f"report of agent {report.agent_id!r} sent as agent {envelope.agent_id!r}")
        return report

    @maps_errors
    async def RotateKey(
        self, request: agent_pb2.RotateKeyRequest, context: grpc.aio.ServicerContext
    ) -> agent_pb2.RotateKeyResponse:
        try:
            Ed25519PublicKey.from_public_bytes(request.new_public_key)
        except ValueError:
            raise InvalidArgument("new_public_key must be a raw 32-byte Ed25519 public key") from None
        ring = await self._keys.key_of(request.agent_id)
        signed = rotation_signing_bytes(request.agent_id, request.new_public_key, request.last_old_sequence)
        if not _verifies(ring.current, request.signature, signed):
            current = ring.current.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            repeated = ring.previous is not None and request.new_public_key == current
            if repeated and _verifies(ring.previous, request.signature, signed):  # type: ignore[arg-type]
                return agent_pb2.RotateKeyResponse()  # sent again after it took effect: nothing to do
            raise Unauthenticated("the rotation is not signed by the agent's current key")
        await self.db.run(_rotate, request.agent_id, request.new_public_key, request.last_old_sequence)
        self._keys.forget(request.agent_id)
        logger.info("agent %s rotated its key; the old one signs up to sequence %d",
                    request.agent_id, request.last_old_sequence)  # fmt: skip
        return agent_pb2.RotateKeyResponse()


def _verifies(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def _rotate(db: Session, agent_id: str, new_public_key: bytes, last_old_sequence: int) -> None:
    machine = db.get(Machine, agent_id, with_for_update=True)
    if machine is None:
        raise Unauthenticated(f"agent {agent_id!r} is not enrolled")
    machine.previous_public_key = machine.public_key
    machine.previous_key_until_sequence = last_old_sequence
    machine.public_key = new_public_key


@dataclass
class _Stream:
    outbox: Outbox
    agent_id: str = ""


_REFUSALS = (
    ("was revoked", "revoked"),
    ("is not enrolled", "unknown_agent"),
    ("does not verify", "bad_signature"),
    ("not a UsageReport", "garbage_payload"),
    ("sent as agent", "agent_mismatch"),
    ("one agent only", "agent_mismatch"),
)


def _refusal_kind(exc: CollectorError) -> str:
    """A bounded metrics label for why a stream was ended."""
    text = str(exc)
    for marker, kind in _REFUSALS:
        if marker in text:
            return kind
    return "other"


def _count(metrics: Metrics, acks: list[Ack]) -> None:
    for ack in acks:
        metrics.reports.labels(ack.status.name.lower()).inc()
        if ack.status is AckStatus.REJECTED:
            metrics.rejected.labels(rejection_kind(ack.reason)).inc()


async def _forward_acks(
    pending: asyncio.Queue[asyncio.Future[Ack] | None], outbox: Outbox, metrics: Metrics
) -> None:
    """Send acks in arrival order, as many per message as are ready; end the stream after the last."""
    try:
        while (future := await pending.get()) is not None:
            acks = [await future]
            while not pending.empty():
                ready = pending.get_nowait()
                if ready is None:
                    pending.put_nowait(None)
                    break
                acks.append(await ready)
            _count(metrics, acks)
            outbox.put_nowait(wire.acks_to_proto(acks))
    finally:
        outbox.put_nowait(None)


def _open_rental(db: Session, agent_id: str) -> agent_pb2.Control | None:
    rental = open_session_of(db, agent_id)
    return wire.session_control(rental, agent_pb2.Control.SESSION_STARTED) if rental else None
