"""The gRPC server interceptor: authenticates `authorization: Bearer TOKEN`, applies the policy of
api/authorization.py, decodes requests safely and writes successful state-changing calls to the audit log."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import grpc
from google.protobuf import json_format
from google.protobuf.message import DecodeError

from collector.accounts import audit
from collector.accounts.tokens import hash_token, token_holder
from collector.api.authorization import ADMIN, OPEN_PREFIXES, POLICY, READ_ONLY, Principal, act_as
from collector.api.status import abort_with, internal_error
from collector.core.limits import RateLimiter
from collector.db.database import Database

logger = logging.getLogger(__name__)

CACHE_TTL_S = 30.0


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Authenticates `authorization: Bearer TOKEN` and applies POLICY before the servicer runs."""

    def __init__(
        self,
        database: Database,
        now: Callable[[], datetime],
        clock: Callable[[], float] = time.monotonic,
        rate_limit: float = 0.0,
    ) -> None:
        self._db = database
        self._now = now
        self._clock = clock
        self._limiter = RateLimiter(rate_limit, rate_limit * 10, clock)
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    def forget(self) -> None:
        """Drop cached principals (after a token is revoked on this collector)."""
        self._cache.clear()

    async def intercept_service(self, continuation: Any, details: grpc.HandlerCallDetails) -> Any:
        method = details.method
        handler = await continuation(details)
        if handler is None:
            return handler
        handler = _decoding_safely(handler)
        if method.startswith(OPEN_PREFIXES):
            return handler
        token = _bearer(details.invocation_metadata)
        principal = await self._lookup(token) if token else None
        if principal is None:
            return _refusal(handler, grpc.StatusCode.UNAUTHENTICATED,
                            "a valid API token is required: authorization: Bearer rmk_...")  # fmt: skip
        if not self._limiter.allow(token):
            return _refusal(
                handler, grpc.StatusCode.RESOURCE_EXHAUSTED, "too many calls with this API token; retry later"
            )
        name = method.removeprefix("/rentmeter.v1.")
        if principal.role != ADMIN and principal.role not in POLICY.get(name, frozenset()):
            logger.warning("%s %s refused %s", principal.role, principal.subject or "-", name)
            return _refusal(
                handler, grpc.StatusCode.PERMISSION_DENIED, f"a {principal.role} token may not call {name}"
            )
        action = name
        if name.split("/")[-1].startswith(READ_ONLY):
            return _as(handler, principal)

        async def audit_log(request: Any) -> None:
            details = _summary(request)
            actor = principal.role + (f":{principal.subject}" if principal.subject else "")
            await self._db.run(audit.record, actor, action, details, self._now())

        return _as(handler, principal, audit_log)

    async def _lookup(self, token: str) -> Principal | None:
        key = hash_token(token)
        cached = self._cache.get(key)
        if cached is not None and self._clock() - cached[0] < CACHE_TTL_S:
            return cached[1]
        holder = await self._db.run(token_holder, key)
        principal = Principal(*holder) if holder else None
        self._cache[key] = (self._clock(), principal)
        return principal


class _Undecodable:
    """What a request that does not parse as its message type becomes; answered with INVALID_ARGUMENT."""

    def __init__(self, type_name: str) -> None:
        self.message = f"the request is not a valid {type_name} message"


def _decoding_safely(handler: Any) -> Any:
    """The handler, with requests that fail to parse answered INVALID_ARGUMENT (gRPC's default is UNKNOWN
    and an error in the log)."""
    deserialize = handler.request_deserializer
    if deserialize is None:
        return handler
    type_name = getattr(getattr(deserialize, "__self__", None), "__name__", "request")

    def parse(data: bytes) -> Any:
        try:
            return deserialize(data)
        except DecodeError:
            return _Undecodable(type_name)

    serialize = handler.response_serializer
    if handler.unary_unary:
        unary = handler.unary_unary

        async def checked_unary(request: Any, context: Any) -> Any:
            if isinstance(request, _Undecodable):
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.message)
            return await unary(request, context)

        return grpc.unary_unary_rpc_method_handler(checked_unary, parse, serialize)
    if handler.unary_stream:
        streaming = handler.unary_stream

        async def checked_stream(request: Any, context: Any) -> Any:
            if isinstance(request, _Undecodable):
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.message)
            async for item in streaming(request, context):
                yield item

        return grpc.unary_stream_rpc_method_handler(checked_stream, parse, serialize)
    if handler.stream_stream:
        both = handler.stream_stream

        async def checked_both(requests: Any, context: Any) -> Any:
            async def parsed() -> Any:
                async for request in requests:
                    if isinstance(request, _Undecodable):
                        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.message)
                    yield request

            async for item in both(parsed(), context):
                yield item

        return grpc.stream_stream_rpc_method_handler(checked_both, parse, serialize)
    return handler


def _summary(request: Any) -> dict[str, Any]:
    """The request as the audit log keeps it: its fields, long texts (plan documents) shortened."""
    fields = json_format.MessageToDict(request, preserving_proto_field_name=True)
    return {k: (v[:200] + "…" if isinstance(v, str) and len(v) > 200 else v) for k, v in fields.items()}


def _bearer(metadata: Any) -> str:
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
            return value.removeprefix("Bearer ").strip()
    return ""


def _as(handler: Any, principal: Principal, audit_log: Callable[[Any], Any] | None = None) -> Any:
    """The handler, run with `principal` as current(); a successful call is passed to `audit_log`."""
    if handler.unary_unary:
        inner = handler.unary_unary

        async def unary(request: Any, context: Any) -> Any:
            act_as(principal)
            try:
                response = await inner(request, context)
            except grpc.aio.AbortError:
                raise
            except Exception as exc:  # a handler without maps_errors: still never UNKNOWN
                await abort_with(context, exc, "the call")
            if audit_log is not None:
                await _append_audit(audit_log, request)
            return response

        return grpc.unary_unary_rpc_method_handler(
            unary, handler.request_deserializer, handler.response_serializer
        )
    if handler.unary_stream:
        stream = handler.unary_stream

        async def streaming(request: Any, context: Any) -> Any:
            act_as(principal)
            async for item in stream(request, context):
                yield item

        return grpc.unary_stream_rpc_method_handler(
            streaming, handler.request_deserializer, handler.response_serializer
        )
    return handler


AUDIT_ATTEMPTS = 3


async def _append_audit(audit_log: Callable[[Any], Any], request: Any) -> None:
    """Write the audit entry of a call that succeeded; its effect is committed, so a failure to write the
    entry is retried and then logged with an error id rather than turned into an error for the caller."""
    for attempt in range(1, AUDIT_ATTEMPTS + 1):
        try:
            await audit_log(request)
            return
        except Exception:  # a loop boundary: retried, then logged
            if attempt == AUDIT_ATTEMPTS:
                internal_error("writing an audit entry")
            else:
                await asyncio.sleep(0.05 * attempt)


def _refusal(handler: Any, code: grpc.StatusCode, message: str) -> Any:
    async def refuse(request: Any, context: Any) -> Any:
        await context.abort(code, message)

    async def refuse_stream(request: Any, context: Any) -> Any:
        await context.abort(code, message)
        yield  # pragma: no cover - makes this an async generator

    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(
            refuse_stream, handler.request_deserializer, handler.response_serializer
        )
    return grpc.unary_unary_rpc_method_handler(
        refuse, handler.request_deserializer, handler.response_serializer
    )
