"""AuditService: the provider reads and checks the hash-chained audit log."""

from __future__ import annotations

from sqlalchemy.orm import Session

from collector.accounts.audit import list_entries, verify
from collector.api import wire
from collector.api.status import Ctx, Servicer, maps_errors
from collector.core.errors import InvalidArgument
from protos.rentmeter.v1 import audit_pb2, audit_pb2_grpc

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_PREFIX = 120


class AuditService(Servicer, audit_pb2_grpc.AuditServiceServicer):
    @maps_errors
    async def ListAuditEntries(
        self, request: audit_pb2.ListAuditEntriesRequest, context: Ctx
    ) -> audit_pb2.ListAuditEntriesResponse:
        """`limit` 0 means the default; above MAX_LIMIT it is MAX_LIMIT (a page size, not an error)."""
        limit = min(request.limit or DEFAULT_LIMIT, MAX_LIMIT)
        actor, action = request.actor, request.action
        if len(actor) > MAX_PREFIX or len(action) > MAX_PREFIX:
            raise InvalidArgument(f"actor and action are prefixes of at most {MAX_PREFIX} characters")

        def run(db: Session) -> audit_pb2.ListAuditEntriesResponse:
            entries = list_entries(db, before_id=request.before_id, limit=limit, actor=actor, action=action)
            return audit_pb2.ListAuditEntriesResponse(entries=[wire.audit_entry_to_proto(e) for e in entries])

        return await self.db.run(run)

    @maps_errors
    async def VerifyAuditLog(
        self, request: audit_pb2.VerifyAuditLogRequest, context: Ctx
    ) -> audit_pb2.AuditVerification:
        return await self.db.run(lambda db: wire.verification_to_proto(verify(db)))
