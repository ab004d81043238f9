"""AgentService: enrollment and the signed report stream."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

import grpc
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from google.protobuf.message import DecodeError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from collector.api import wire
from collector.api.controls import ControlHub, Outbox
from collector.api.metrics import Metrics
from collector.api.report_acks import PendingAcks, forward_acks
from collector.api.status import Servicer, abort_with, internal_error, maps_errors
from collector.core.errors import (
    CollectorError,
    InvalidArgument,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    quoted,
)
from collector.core.limits import RateLimiter, StreamAdmission
from collector.db.database import Database
from collector.db.models import Machine
from collector.metering.enrollment import enroll
from collector.metering.ingest import Ack, AckStatus, IncomingReport
from collector.metering.keys import AgentKeys, KeyRing
from collector.metering.rejections import record_rejections, refused
from collector.metering.writer import ReportWriter
from collector.sessions.live_ticks import LiveTicks
from collector.sessions.rentals import open_session_of
from protos.rentmeter.v1 import agent_pb2, agent_pb2_grpc
from protos.signing import report_signing_bytes, rotation_signing_bytes

logger = logging.getLogger(__name__)

# Reports a stream may have waiting for storage before it stops reading (back-pressure).
MAX_IN_FLIGHT = 256
# A damaged spool yields a few FORGED reports; a stream sending more than this is ended.
MAX_FORGED_PER_STREAM = 100
# Over its rate limit, an agent is told (gRPC's retry pushback) to come back when half its burst refilled.
PUSHBACK_KEY = "grpc-retry-pushback-ms"
RATE_PUSHBACK_S = 5.0


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
        ticks: LiveTicks | None = None,
        admission: StreamAdmission | None = None,
    ) -> None:
        super().__init__(database, now)
        self._ticks = ticks if ticks is not None else LiveTicks()
        self._writer = writer
        self._hub = hub
        self._keys = keys
        self._metrics = metrics
        self._streams: set[_Stream] = set()
        self._limiter = RateLimiter(report_rate, report_rate * 10)
        self._admission = admission or StreamAdmission(0, 0.0)

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
        """Verify each report as it arrives and store it in the background; answer with one ack per report
        in arrival order, interleaved with control messages for this agent. A report that does not verify
        gets its FORGED ack and the stream goes on; an unknown or revoked agent ends it. Over the stream
        limits (StreamAdmission) the stream is refused at once with a retry hint."""
        retry_s = self._admission.admit()
        if retry_s is not None:
            self._metrics.refused_streams.labels("busy").inc()
            context.set_trailing_metadata(((PUSHBACK_KEY, str(int(retry_s * 1000))),))
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                "the collector is taking on many agent streams at once; resend after the retry hint",
            )
        try:
            async for message in self._stream_reports(request_iterator, context):
                yield message
        finally:
            self._admission.release()

    async def _stream_reports(
        self, request_iterator: AsyncIterator[agent_pb2.SignedReport], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[agent_pb2.CollectorMessage]:
        outbox: Outbox = asyncio.Queue()
        pending: asyncio.Queue[PendingAcks | None] = asyncio.Queue(MAX_IN_FLIGHT)
        stream = _Stream(outbox)
        reader = stream.reader = asyncio.create_task(self._read(request_iterator, pending, stream))
        acker = asyncio.create_task(
            forward_acks(pending, outbox, self._metrics, partial(self._remember_refused, stream))
        )
        self._streams.add(stream)
        self._metrics.streams.inc()
        try:
            while (message := await outbox.get()) is not None:
                yield message
            if stream.refusal is not None:
                raise stream.refusal
            await acker  # a storage failure ends the acks first: raise it (the reader is cancelled below)
            if stream.draining:
                raise Unavailable("this collector is shutting down: reconnect, to it or another collector")
            await reader  # a refused stream ends the reading: raise why
        except CollectorError as exc:
            self._metrics.refused_streams.labels(_refusal_kind(exc)).inc()
            if isinstance(exc, ResourceExhausted):
                context.set_trailing_metadata(((PUSHBACK_KEY, str(int(RATE_PUSHBACK_S * 1000))),))
            await abort_with(context, exc, "StreamReports")
        except SQLAlchemyError:
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, "storage failed; resend the unacknowledged reports"
            )
        finally:
            reader.cancel()
            acker.cancel()
            self._streams.discard(stream)
            self._metrics.streams.dec()
            stream.ended.set()
            if stream.attached:
                self._hub.unsubscribe(stream.agent_id, outbox)
                self._keys.unwatch(stream.agent_id, stream.on_revoked)

    async def drain(self, grace_s: float) -> None:
        """Shutting down: stop reading reports, send the acks of those already read once they are stored,
        then end every stream with UNAVAILABLE so that its agent reconnects (to another collector behind
        the load balancer) and resends what was not acknowledged. Waits up to `grace_s`."""
        streams = list(self._streams)
        for stream in streams:
            stream.draining = True
            if stream.reader is not None:
                stream.reader.cancel()
        if streams:
            await asyncio.wait([asyncio.ensure_future(s.ended.wait()) for s in streams], timeout=grace_s)
            logger.info("drained %d report stream(s): their agents reconnect elsewhere", len(streams))

    async def _read(
        self,
        request_iterator: AsyncIterator[agent_pb2.SignedReport],
        pending: asyncio.Queue[PendingAcks | None],
        stream: _Stream,
    ) -> None:
        try:
            async for message in request_iterator:
                if message.HasField("live_tick"):  # shown, never billed: no ack, no rate limit
                    self._take_tick(stream, message)
                    continue
                received = time.monotonic()
                envelopes = [message, *message.more] if message.more else [message]
                for envelope in envelopes:
                    if stream.agent_id and envelope.agent_id != stream.agent_id:
                        raise InvalidArgument("a report stream carries the reports of one agent only")
                    stream.agent_id = envelope.agent_id
                if not self._limiter.allow(stream.agent_id, len(envelopes)):
                    raise ResourceExhausted(
                        "too many reports from this agent; resend the unacknowledged later"
                    )
                await pending.put(await self._admit(envelopes, stream, received))
        finally:
            await pending.put(None)

    async def _admit(
        self, envelopes: list[agent_pb2.SignedReport], stream: _Stream, received: float
    ) -> PendingAcks:
        """Verify the reports of one message and hand the verified ones to the writer together."""
        refused: dict[int, Ack] = {}
        verified: list[IncomingReport] = []
        for index, envelope in enumerate(envelopes):
            outcome = await self._verify(envelope, stream)
            if isinstance(outcome, Ack):  # refused on its own: the stream goes on
                stream.count_refusal(outcome)
                refused[index] = outcome
            else:
                verified.append(outcome)
        if verified and not stream.attached:
            await self._attach(stream)
        gaps = tuple(tuple(gap.kind for gap in report.gaps) for report in verified)
        return PendingAcks(refused, self._writer.submit(verified, stream), gaps, received)

    def _take_tick(self, stream: _Stream, message: agent_pb2.SignedReport) -> None:
        """Keep a live tick (shown, never billed) of the stream's agent once a report verified on the
        stream; a tick before that, of another agent, or malformed, is dropped (ticks get no acks)."""
        outcome = "unattached"
        if stream.attached and message.agent_id == stream.agent_id:
            tick = wire.live_tick_from_proto(stream.agent_id, message.live_tick)
            problem = self._ticks.offer(tick, self.now())
            outcome = "kept" if problem is None else "refused"
            if problem is not None:
                logger.debug("agent %s: live tick dropped: %s", stream.agent_id, problem)
        self._metrics.live_ticks.labels(outcome).inc()

    async def _remember_refused(self, stream: _Stream, acks: list[Ack]) -> None:
        """Keep the refused reports in the database (after their acks went out). Losing these records is
        no reason to end the agent's stream: a failure is logged with an error id."""
        if not stream.agent_id or not refused(acks):
            return
        try:
            await self.db.run(record_rejections, stream.agent_id, acks, self.now())
        except Exception:  # a loop boundary: the stream goes on
            internal_error(f"recording refused reports of agent {stream.agent_id}")

    async def _attach(self, stream: _Stream) -> None:
        """Route this agent's controls to the stream, tell it the last sequence stored and the rental open
        now, if any; end the stream if the machine is revoked."""
        agent_id = stream.agent_id
        stream.attached = True
        self._hub.subscribe(agent_id, stream.outbox)
        self._keys.watch(agent_id, stream.on_revoked)
        rental, last = await self.db.run(_stream_start, agent_id)
        message = agent_pb2.CollectorMessage(
            last_stored_sequence=last, reads_more=True, reads_live_ticks=True
        )
        if rental is not None:
            message.controls.append(rental)
        stream.outbox.put_nowait(message)

    async def _verify(self, envelope: agent_pb2.SignedReport, stream: _Stream) -> IncomingReport | Ack:
        """Check the signature over the exact payload bytes, then parse them; an Ack when the report is
        refused on its own (FORGED, or signed but not a report of this agent). After a key rotation the
        previous key is accepted for the reports it signed before (sequence up to the rotation's).
        Unauthenticated (ending the stream) for an unknown or revoked agent. The stream keeps the keys it
        looked up: a revocation ends it (AgentKeys.watch) and a rotated key is looked up again below."""
        ring = stream.ring
        if ring is None:
            try:
                ring = stream.ring = await self._keys.key_of(envelope.agent_id)
            except Unauthenticated:
                logger.warning("report from agent %s refused: unknown or revoked", quoted(envelope.agent_id))
                raise
        report: agent_pb2.UsageReport | None
        report = agent_pb2.UsageReport()
        try:
            report.ParseFromString(envelope.payload)
        except DecodeError:
            report = None
        named = envelope.sequence or (report.sequence if report is not None else 0)
        # Before calling a report forged, look the key up again: it may have been rotated elsewhere.
        if not _signed_by(ring, envelope, report) and not _signed_by(
            await self._fresh_ring(stream), envelope, report
        ):
            logger.warning("agent %s report %d: signature does not verify", envelope.agent_id, named)
            return Ack(named, AckStatus.FORGED, f"report signature does not verify for agent "
                       f"{envelope.agent_id}; keep this copy aside", "bad_signature")  # fmt: skip
        if report is None:
            return Ack(named, AckStatus.REJECTED, "report payload is not a UsageReport", "garbage_payload")
        if report.agent_id != envelope.agent_id:
            reason = f"report of agent {quoted(report.agent_id)} sent as agent {envelope.agent_id}"
            return Ack(named, AckStatus.REJECTED, reason, "agent_mismatch")
        return wire.report_from_proto(envelope, report)

    async def _fresh_ring(self, stream: _Stream) -> KeyRing:
        stream.ring = await self._keys.key_of(stream.agent_id, fresh=True)
        return stream.ring

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
            repeated = request.new_public_key == current
            if repeated and ring.previous is not None and _verifies(ring.previous, request.signature, signed):
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


def _signed_by(ring: KeyRing, envelope: agent_pb2.SignedReport, report: agent_pb2.UsageReport | None) -> bool:
    keys = ring.for_sequence(report.sequence) if report is not None else [ring.current]
    signed = report_signing_bytes(envelope.payload)
    return any(_verifies(key, envelope.signature, signed) for key in keys)


def _rotate(db: Session, agent_id: str, new_public_key: bytes, last_old_sequence: int) -> None:
    machine = db.get(Machine, agent_id, with_for_update=True)
    if machine is None:
        raise Unauthenticated(f"agent {agent_id!r} is not enrolled")
    machine.previous_public_key = machine.public_key
    machine.previous_key_until_sequence = last_old_sequence
    machine.public_key = new_public_key


@dataclass(eq=False)
class _Stream:
    outbox: Outbox
    reader: asyncio.Task[None] | None = None
    draining: bool = False  # the collector is shutting down: end with UNAVAILABLE once acks are out
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    agent_id: str = ""  # the agent of the first report (every report must be of this agent)
    attached: bool = False  # a report verified: controls routed here, revocations watched
    forged: int = 0
    refusal: CollectorError | None = None
    ring: KeyRing | None = None  # the agent's keys, looked up at its first report

    def on_revoked(self, agent_id: str) -> None:
        """End the stream at once (called on the event loop by AgentKeys)."""
        self.refusal = Unauthenticated(f"machine {agent_id} was revoked")
        self.outbox.put_nowait(None)

    def count_refusal(self, ack: Ack) -> None:
        if ack.status is AckStatus.FORGED:
            self.forged += 1
            if self.forged > MAX_FORGED_PER_STREAM:
                raise Unauthenticated(f"more than {MAX_FORGED_PER_STREAM} reports that do not verify")


_REFUSALS = (
    ("was revoked", "revoked"),
    ("is not enrolled", "unknown_agent"),
    ("do not verify", "too_many_forged"),
    ("one agent only", "agent_mismatch"),
    ("too many reports", "rate_limited"),
    ("shutting down", "shutdown"),
)


def _refusal_kind(exc: CollectorError) -> str:
    """A bounded metrics label for why a stream was ended."""
    text = str(exc)
    for marker, kind in _REFUSALS:
        if marker in text:
            return kind
    return "other"


def _stream_start(db: Session, agent_id: str) -> tuple[agent_pb2.Control | None, int]:
    """The rental session open on the machine (as a SESSION_STARTED control) and its last stored sequence."""
    rental = open_session_of(db, agent_id)
    control = wire.session_control(rental, agent_pb2.Control.SESSION_STARTED) if rental else None
    last = db.scalar(select(Machine.last_sequence).where(Machine.agent_id == agent_id))
    return control, int(last or 0)
