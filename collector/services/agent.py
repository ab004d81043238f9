"""AgentService: enrollment and the signed report stream."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import grpc
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from google.protobuf.message import DecodeError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from collector import wire
from collector.database import Database
from collector.db.models import Machine
from collector.enrollment import enroll
from collector.errors import CollectorError, InvalidArgument, Unauthenticated
from collector.ingest import Ack
from collector.services.base import Servicer, maps_errors
from collector.writer import ReportWriter
from protos.rentmeter.v1 import agent_pb2, agent_pb2_grpc
from protos.signing import report_signing_bytes

logger = logging.getLogger(__name__)

# Reports a stream may have waiting for storage before it stops reading (back-pressure).
MAX_IN_FLIGHT = 256


class AgentService(Servicer, agent_pb2_grpc.AgentServiceServicer):
    def __init__(self, database: Database, writer: ReportWriter, now: Callable[[], datetime]) -> None:
        super().__init__(database, now)
        self._writer = writer
        self._keys: dict[str, Ed25519PublicKey] = {}

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
    ) -> AsyncIterator[agent_pb2.ReportAcks]:
        """Verify each report as it arrives, store them in the background, answer in arrival order."""
        pending: asyncio.Queue[asyncio.Future[Ack] | None] = asyncio.Queue(MAX_IN_FLIGHT)
        reader = asyncio.create_task(self._read(request_iterator, pending))
        try:
            ended = False
            while not ended and (future := await pending.get()) is not None:
                acks = [await future]
                while not pending.empty():
                    ready = pending.get_nowait()
                    if ready is None:
                        ended = True
                        break
                    acks.append(await ready)
                yield wire.acks_to_proto(acks)
            await reader
        except CollectorError as exc:
            await context.abort(exc.code, str(exc))
        except SQLAlchemyError:
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, "storage failed; resend the unacknowledged reports"
            )
        finally:
            reader.cancel()

    async def _read(
        self,
        request_iterator: AsyncIterator[agent_pb2.SignedReport],
        pending: asyncio.Queue[asyncio.Future[Ack] | None],
    ) -> None:
        stream_agent = ""
        try:
            async for envelope in request_iterator:
                stream_agent = stream_agent or envelope.agent_id
                if envelope.agent_id != stream_agent:
                    raise InvalidArgument("a report stream carries the reports of one agent only")
                report = await self._verify(envelope)
                await pending.put(self._writer.submit(wire.report_from_proto(envelope, report)))
        finally:
            await pending.put(None)

    async def _verify(self, envelope: agent_pb2.SignedReport) -> agent_pb2.UsageReport:
        """Check the signature over the exact payload bytes, then parse them."""
        key = self._keys.get(envelope.agent_id) or await self._load_key(envelope.agent_id)
        try:
            key.verify(envelope.signature, report_signing_bytes(envelope.payload))
        except InvalidSignature:
            logger.warning("agent %s: report signature does not verify", envelope.agent_id)
            raise Unauthenticated(f"report signature does not verify for agent {envelope.agent_id}") from None
        report = agent_pb2.UsageReport()
        try:
            report.ParseFromString(envelope.payload)
        except DecodeError:
            raise InvalidArgument("report payload is not a UsageReport") from None
        if report.agent_id != envelope.agent_id:
            raise InvalidArgument(f"report of agent {report.agent_id!r} sent as agent {envelope.agent_id!r}")
        return report

    async def _load_key(self, agent_id: str) -> Ed25519PublicKey:
        raw = await self.db.run(_public_key, agent_id) if agent_id else None
        if raw is None:
            logger.warning("report from unknown agent %r refused", agent_id)
            raise Unauthenticated(f"agent {agent_id!r} is not enrolled")
        key = Ed25519PublicKey.from_public_bytes(raw)
        self._keys[agent_id] = key
        return key


def _public_key(db: Session, agent_id: str) -> bytes | None:
    machine = db.get(Machine, agent_id)
    return machine.public_key if machine else None
