"""SessionService: starting, stopping, explaining and watching rental sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy.orm import Session

from collector.api import authorization, wire
from collector.api.controls import ControlHub
from collector.api.ownership import own_machine, own_session
from collector.api.status import Ctx, Servicer, abort_with, maps_errors
from collector.db.database import Database
from collector.insights.offers import applying_offer, offered_terms
from collector.sessions.explain import explain_session
from collector.sessions.live import Burn, live_cost
from collector.sessions.live_hub import LiveHub
from collector.sessions.live_ticks import LiveTicks
from collector.sessions.rentals import (
    list_sessions,
    start_session,
    stop_session,
)
from protos.rentmeter.v1 import (
    agent_pb2,
    sessions_pb2,
    sessions_pb2_grpc,
)

# How often a watched session is re-rated: within a second of each report that arrives, and at once (after
# LiveHub's least gap) when its machine sends a live tick.
WATCH_INTERVAL_S = 1.0


class LiveUpdate(NamedTuple):
    """What the watchers of a session receive, and the burn rate kept for the next rating."""

    message: sessions_pb2.LiveCost
    burn: Burn | None


class SessionService(Servicer, sessions_pb2_grpc.SessionServiceServicer):
    """Sessions; starting and stopping one tells the machine's agent (SESSION_STARTED / SESSION_STOPPED)."""

    def __init__(
        self,
        database: Database,
        now: Callable[[], datetime],
        hub: ControlHub,
        hold_for: timedelta,
        ticks: LiveTicks | None = None,
    ) -> None:
        super().__init__(database, now)
        self._hub = hub
        self._hold_for = hold_for
        self._live: LiveHub[LiveUpdate] = LiveHub(
            self._live_update, WATCH_INTERVAL_S, lambda u: u.message.state != sessions_pb2.RentalSession.OPEN
        )
        self._ticks = ticks if ticks is not None else LiveTicks()
        self._ticks.listen(self._live.poke)  # a live tick re-rates its session's feed at once

    @maps_errors
    async def StartSession(
        self, request: sessions_pb2.StartSessionRequest, context: Ctx
    ) -> sessions_pb2.RentalSession:
        who = authorization.current()

        def run(db: Session) -> tuple[sessions_pb2.RentalSession, agent_pb2.Control]:
            own_machine(db, request.agent_id, who)
            now = self.now()
            offer = applying_offer(db, request.renter, request.plan, now)
            rental = start_session(
                db,
                agent_id=request.agent_id,
                renter_id=request.renter,
                plan_name=request.plan,
                now=now,
                terms=offered_terms(wire.terms_from_proto(request.terms), offer),
                hold_for=self._hold_for,
            )
            return wire.session_to_proto(rental), wire.session_control(
                rental, agent_pb2.Control.SESSION_STARTED
            )

        started, control = await self.db.run(run)
        self._hub.publish(started.agent_id, control)
        return started

    @maps_errors
    async def StopSession(
        self, request: sessions_pb2.StopSessionRequest, context: Ctx
    ) -> sessions_pb2.RentalSession:
        who = authorization.current()

        def run(db: Session) -> tuple[sessions_pb2.RentalSession, agent_pb2.Control]:
            own_session(db, request.session_id, who)
            rental = stop_session(db, request.session_id, self.now())
            return wire.session_to_proto(rental), wire.session_control(
                rental, agent_pb2.Control.SESSION_STOPPED
            )

        stopped, control = await self.db.run(run)
        self._hub.publish(stopped.agent_id, control)
        return stopped

    @maps_errors
    async def ExplainSession(
        self, request: sessions_pb2.GetSessionRequest, context: Ctx
    ) -> sessions_pb2.SessionExplanation:
        now, who = self.now(), authorization.current()

        def run(db: Session) -> sessions_pb2.SessionExplanation:
            own_session(db, request.session_id, who)
            return wire.explanation_to_proto(explain_session(db, request.session_id, now))

        return await self.db.run(run)

    async def WatchSession(
        self, request: sessions_pb2.GetSessionRequest, context: Ctx
    ) -> AsyncIterator[sessions_pb2.LiveCost]:
        """The live cost at once, then every second while the session runs; a last message when it stops.
        Every watcher of a session receives the same updates from one rating per second (the hub)."""
        try:
            await self.db.run(own_session, request.session_id, authorization.current())
            async for update in self._live.watch(request.session_id):
                yield update.message
        except Exception as exc:  # the API edge
            await abort_with(context, exc, "WatchSession")

    async def _live_update(self, session_id: str, previous: LiveUpdate | None) -> LiveUpdate:
        """One rating of a watched session, as its watchers receive it."""
        known = previous.burn if previous is not None else None

        def run(db: Session) -> LiveUpdate:
            live = live_cost(db, session_id, self.now(), known, self._ticks)
            return LiveUpdate(wire.live_cost_to_proto(live), live.burn)

        return await self.db.run(run)

    @maps_errors
    async def GetSession(
        self, request: sessions_pb2.GetSessionRequest, context: Ctx
    ) -> sessions_pb2.RentalSession:
        who = authorization.current()
        return await self.db.run(lambda db: wire.session_to_proto(own_session(db, request.session_id, who)))

    @maps_errors
    async def ListSessions(
        self, request: sessions_pb2.ListSessionsRequest, context: Ctx
    ) -> sessions_pb2.ListSessionsResponse:
        who = authorization.current()
        renter = who.subject if who.role == authorization.RENTER else request.renter
        host = who.subject if who.role == authorization.HOST else None

        def run(db: Session) -> sessions_pb2.ListSessionsResponse:
            rentals = list_sessions(
                db, renter_id=renter, agent_id=request.agent_id, open_only=request.open_only, host_id=host
            )
            return sessions_pb2.ListSessionsResponse(sessions=[wire.session_to_proto(r) for r in rentals])

        return await self.db.run(run)
