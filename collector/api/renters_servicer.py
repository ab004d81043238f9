"""RenterService: a renter's account, billing cycle, time zone and e-mail address."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from collector.accounts.privacy import erase_renter, export_renter
from collector.accounts.renters import get_renter, list_renters, update_renter
from collector.api import authorization, wire
from collector.api.interceptors import AuthInterceptor
from collector.api.status import Ctx, Servicer, maps_errors
from collector.core.errors import InvalidArgument
from collector.db.database import Database
from protos.rentmeter.v1 import renters_pb2, renters_pb2_grpc

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_QUERY = 100  # a renter id's length


class RenterService(Servicer, renters_pb2_grpc.RenterServiceServicer):
    def __init__(self, database: Database, now: Callable[[], datetime], interceptor: AuthInterceptor) -> None:
        super().__init__(database, now)
        self._interceptor = interceptor

    @maps_errors
    async def GetRenter(self, request: renters_pb2.GetRenterRequest, context: Ctx) -> renters_pb2.Renter:
        authorization.hide_unless(
            authorization.current().may_see_renter(request.renter), "renter", request.renter
        )
        return await self.db.run(lambda db: wire.renter_to_proto(get_renter(db, request.renter)))

    @maps_errors
    async def ListRenters(
        self, request: renters_pb2.ListRentersRequest, context: Ctx
    ) -> renters_pb2.ListRentersResponse:
        """`limit` 0 means 100; above 1000 it is 1000 (a page size, not an error)."""
        limit = min(request.limit or DEFAULT_LIMIT, MAX_LIMIT)
        if len(request.query) > MAX_QUERY or len(request.after) > MAX_QUERY:
            raise InvalidArgument(f"query and after are at most {MAX_QUERY} characters")

        def run(db: Session) -> renters_pb2.ListRentersResponse:
            found = list_renters(db, query=request.query, after=request.after, limit=limit)
            return renters_pb2.ListRentersResponse(renters=[wire.renter_to_proto(r) for r in found])

        return await self.db.run(run)

    @maps_errors
    async def UpdateRenter(
        self, request: renters_pb2.UpdateRenterRequest, context: Ctx
    ) -> renters_pb2.Renter:
        changes: dict[str, Any] = {
            "billing_cycle": request.billing_cycle if request.HasField("billing_cycle") else None,
            "cycle_anchor": wire.moment(request.cycle_anchor) if request.HasField("cycle_anchor") else None,
            "email": request.email.strip() if request.HasField("email") else None,
            **{
                field: getattr(request, field).strip() if request.HasField(field) else None
                for field in ("payment_method", "payment_customer", "payment_source", "time_zone")
            },
        }
        return await self.db.run(
            lambda db: wire.renter_to_proto(update_renter(db, request.renter, self.now(), **changes))
        )

    @maps_errors
    async def ExportRenter(
        self, request: renters_pb2.GetRenterRequest, context: Ctx
    ) -> renters_pb2.RenterExport:
        authorization.hide_unless(
            authorization.current().may_see_renter(request.renter), "renter", request.renter
        )
        document = await self.db.run(export_renter, request.renter, self.now())
        return renters_pb2.RenterExport(json=json.dumps(document, indent=2))

    @maps_errors
    async def EraseRenter(
        self, request: renters_pb2.GetRenterRequest, context: Ctx
    ) -> renters_pb2.EraseRenterResponse:
        cleared = await self.db.run(erase_renter, request.renter, self.now())
        self._interceptor.forget()  # its API tokens are gone: refuse them at once
        return renters_pb2.EraseRenterResponse(reports_cleared=cleared)
