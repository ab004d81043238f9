"""MachineService: enrollment tokens, machines, controls and revocation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.api import authorization, wire
from collector.api.controls import ControlHub
from collector.api.ownership import own_machine
from collector.api.status import Ctx, Servicer, maps_errors
from collector.core.errors import InvalidArgument
from collector.db.database import Database
from collector.db.models import Machine, ReportGap
from collector.metering.enrollment import DEFAULT_TOKEN_TTL, create_token
from collector.metering.gaps import gap_counts, gaps_of
from collector.metering.keys import AgentKeys
from collector.sessions.rentals import (
    revoke_machine,
)
from protos.rentmeter.v1 import (
    agent_pb2,
    machines_pb2,
    machines_pb2_grpc,
)


class MachineService(Servicer, machines_pb2_grpc.MachineServiceServicer):
    def __init__(
        self,
        database: Database,
        now: Callable[[], datetime],
        hub: ControlHub,
        keys: AgentKeys,
        online_window: timedelta,
    ) -> None:
        super().__init__(database, now)
        self._online_window = online_window
        self._hub = hub
        self._keys = keys

    @maps_errors
    async def RevokeMachine(
        self, request: machines_pb2.RevokeMachineRequest, context: Ctx
    ) -> machines_pb2.Machine:
        now, who = self.now(), authorization.current()

        def run(db: Session) -> tuple[machines_pb2.Machine, agent_pb2.Control | None]:
            own_machine(db, request.agent_id, who)
            machine, stopped = revoke_machine(db, request.agent_id, request.reason, now)
            control = None
            if stopped is not None:
                control = wire.session_control(stopped, agent_pb2.Control.SESSION_STOPPED, "machine revoked")
            return self._to_proto(machine), control

        machine, control = await self.db.run(run)
        self._keys.revoke(request.agent_id)
        if control is not None:
            self._hub.publish(request.agent_id, control)
        return machine

    @maps_errors
    async def SendControl(
        self, request: machines_pb2.SendControlRequest, context: Ctx
    ) -> machines_pb2.SendControlResponse:
        if request.kind not in (agent_pb2.Control.LOCK_NOW, agent_pb2.Control.LOW_BALANCE):
            raise InvalidArgument("kind must be LOCK_NOW or LOW_BALANCE; sessions send their own controls")
        if len(request.message) > 500:
            raise InvalidArgument("message must be at most 500 characters")
        await self.db.run(own_machine, request.agent_id, authorization.current())
        control = agent_pb2.Control(kind=request.kind, message=request.message, at=wire.timestamp(self.now()))
        return machines_pb2.SendControlResponse(delivered=await self._hub.deliver(request.agent_id, control))

    @maps_errors
    async def CreateEnrollmentToken(
        self, request: machines_pb2.CreateEnrollmentTokenRequest, context: Ctx
    ) -> machines_pb2.CreateEnrollmentTokenResponse:
        ttl = wire.ttl(request.ttl, DEFAULT_TOKEN_TTL)
        who = authorization.current()
        token, expires_at = await self.db.run(
            create_token,
            machine_class=request.machine_class or "standard",
            ttl=ttl,
            label=request.label,
            now=self.now(),
            host_id=who.subject if who.role == authorization.HOST else "",
        )
        return machines_pb2.CreateEnrollmentTokenResponse(token=token, expires_at=wire.timestamp(expires_at))

    @maps_errors
    async def ListMachines(
        self, request: machines_pb2.ListMachinesRequest, context: Ctx
    ) -> machines_pb2.ListMachinesResponse:
        who = authorization.current()

        def run(db: Session) -> machines_pb2.ListMachinesResponse:
            query = select(Machine).order_by(Machine.enrolled_at)
            if not who.is_admin:
                query = query.where(Machine.host_id == who.subject)
            machines, counts = db.scalars(query), gap_counts(db)
            listed = [self._to_proto(m, counts.get(m.agent_id, 0)) for m in machines]
            return machines_pb2.ListMachinesResponse(machines=listed)

        return await self.db.run(run)

    @maps_errors
    async def GetMachine(self, request: machines_pb2.GetMachineRequest, context: Ctx) -> machines_pb2.Machine:
        who = authorization.current()

        def run(db: Session) -> machines_pb2.Machine:
            machine = own_machine(db, request.agent_id, who)
            return self._to_proto(machine, *gaps_of(db, machine.agent_id))

        return await self.db.run(run)

    def _to_proto(
        self, machine: Machine, gap_count: int = 0, gaps: list[ReportGap] | None = None
    ) -> machines_pb2.Machine:
        seen = machine.last_seen_at
        online = seen is not None and self.now() - seen <= self._online_window
        return wire.machine_to_proto(machine, online, gap_count, gaps or [])
