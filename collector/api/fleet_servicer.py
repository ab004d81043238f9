"""FleetService: the fleet at a glance, what machines earned, and what needs attention."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from collector.accounts.renters import check_time_zone
from collector.api import authorization, wire
from collector.api.ownership import own_machine
from collector.api.status import Ctx, Servicer, maps_errors
from collector.core.errors import InvalidArgument
from collector.core.job_board import JobBoard
from collector.db.database import Database
from collector.invoicing.earnings import earnings
from collector.sessions.alerts import alerts
from collector.sessions.fleet import fleet
from protos.rentmeter.v1 import fleet_pb2, fleet_pb2_grpc

DEFAULT_EARNINGS_SPAN = timedelta(days=30)


class FleetService(Servicer, fleet_pb2_grpc.FleetServiceServicer):
    def __init__(
        self,
        database: Database,
        now: Callable[[], datetime],
        *,
        online_window: timedelta,
        board: JobBoard,
        low_balance: Decimal | None,
    ) -> None:
        """`low_balance`: below this a prepaid renter with a running session is an alert (the highest
        low-balance alert level; None: only balances below zero)."""
        super().__init__(database, now)
        self._online_window, self._board, self._low_balance = online_window, board, low_balance

    @maps_errors
    async def GetFleet(self, request: fleet_pb2.GetFleetRequest, context: Ctx) -> fleet_pb2.Fleet:
        host = authorization.current().host_scope(request.host)
        now = self.now()
        return await self.db.run(lambda db: wire.fleet_to_proto(fleet(db, now, self._online_window, host)))

    @maps_errors
    async def GetEarnings(self, request: fleet_pb2.GetEarningsRequest, context: Ctx) -> fleet_pb2.Earnings:
        who, now = authorization.current(), self.now()
        end = wire.moment(request.end) if request.HasField("end") else now
        start = wire.moment(request.start) if request.HasField("start") else end - DEFAULT_EARNINGS_SPAN
        if end <= start:
            raise InvalidArgument("end must be after start")
        zone = zoneinfo.ZoneInfo(check_time_zone(request.time_zone) or "UTC")
        host = who.host_scope(request.host)

        def run(db: Session) -> fleet_pb2.Earnings:
            if request.agent_id:
                own_machine(db, request.agent_id, who)
            rows = earnings(
                db, start, end, request.period or "day", zone, host_id=host, agent_id=request.agent_id
            )
            return wire.earnings_to_proto(rows)

        return await self.db.run(run)

    @maps_errors
    async def ListAlerts(
        self, request: fleet_pb2.ListAlertsRequest, context: Ctx
    ) -> fleet_pb2.ListAlertsResponse:
        now = self.now()

        def run(db: Session) -> fleet_pb2.ListAlertsResponse:
            found = alerts(
                db, now, online_window=self._online_window, low_balance=self._low_balance, board=self._board
            )
            return fleet_pb2.ListAlertsResponse(alerts=[wire.alert_to_proto(a) for a in found])

        return await self.db.run(run)
