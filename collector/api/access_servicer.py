"""AccessService: API tokens (admin only)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.accounts.tokens import create_api_token, list_api_tokens, revoke_api_token
from collector.api import wire
from collector.api.interceptors import AuthInterceptor
from collector.api.status import Ctx, Servicer, maps_errors
from collector.db.database import Database
from collector.db.models import ApiToken
from protos.rentmeter.v1 import access_pb2, access_pb2_grpc


class AccessService(Servicer, access_pb2_grpc.AccessServiceServicer):
    def __init__(self, database: Database, now: Callable[[], datetime], interceptor: AuthInterceptor) -> None:
        super().__init__(database, now)
        self._interceptor = interceptor

    @maps_errors
    async def CreateApiToken(
        self, request: access_pb2.CreateApiTokenRequest, context: Ctx
    ) -> access_pb2.CreateApiTokenResponse:
        def run(db: Session) -> access_pb2.CreateApiTokenResponse:
            token = create_api_token(db, request.role, request.subject, request.label, self.now())
            row = db.scalars(select(ApiToken).order_by(ApiToken.id.desc()).limit(1)).one()
            return access_pb2.CreateApiTokenResponse(token=token, info=wire.api_token_to_proto(row))

        return await self.db.run(run)

    @maps_errors
    async def ListApiTokens(
        self, request: access_pb2.ListApiTokensRequest, context: Ctx
    ) -> access_pb2.ListApiTokensResponse:
        return await self.db.run(
            lambda db: access_pb2.ListApiTokensResponse(
                tokens=[wire.api_token_to_proto(t) for t in list_api_tokens(db)]
            )
        )

    @maps_errors
    async def RevokeApiToken(
        self, request: access_pb2.RevokeApiTokenRequest, context: Ctx
    ) -> access_pb2.ApiToken:
        token = await self.db.run(
            lambda db: wire.api_token_to_proto(revoke_api_token(db, request.id, self.now()))
        )
        self._interceptor.forget()
        return token
