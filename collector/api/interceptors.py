"""The gRPC server interceptor: authenticates `authorization: Bearer TOKEN`, applies the policy of
api/authorization.py, decodes requests safely and writes successful state-changing calls to the audit log
(passwords and tokens in a request are redacted first).

Token look-ups are cached for CACHE_TTL_S seconds: a token revoked, or whose account is disabled or gets a
new password, is refused at once on the collector that did it (it calls forget()); on PostgreSQL the other
collectors are told over the control bus and forget theirs within milliseconds, and at worst (their
listening connection down at that moment) the cache expires within CACHE_TTL_S. A sign-in token's expiry
is checked on every call, cached or not.
"""

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
from collector.accounts.tokens import UNKNOWN_TOKEN, hash_token, token_holder
from collector.api.authorization import (
    ADMIN,
    OPEN_METHODS,
    OPEN_PREFIXES,
    POLICY,
    READ_ONLY,
    Principal,
    act_as,
)
from collector.api.status import abort_with, internal_error
from collector.core.errors import Unauthenticated
from collector.core.limits import RateLimiter
from collector.db.bus import ControlBus
from collector.db.database import Database

logger = logging.getLogger(__name__)

CACHE_TTL_S = 30.0
# Request fields the audit log never keeps (any field whose name contains one of these).
SECRET_FIELDS = ("password", "token", "secret")
REDACTED = "[redacted]"


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
        self._cache: dict[str, tuple[float, Principal | str]] = {}
        self._bus: ControlBus | None = None

    def share(self, bus: ControlBus) -> None:
        """Tell the other collectors when cached principals must go, and hear when theirs must."""
        self._bus = bus
        bus.on("tokens-changed", lambda _message: self.forget(tell_others=False))

    def forget(self, *, tell_others: bool = True) -> None:
        """Drop cached principals (after a token is revoked, or an account disabled or given a new
        password), here and on the other collectors."""
        self._cache.clear()
        if tell_others and self._bus is not None:
            self._bus.post("tokens-changed")

    async def intercept_service(self, continuation: Any, details: grpc.HandlerCallDetails) -> Any:
        method = details.method
        handler = await continuation(details)
        if handler is None:
            return handler
        handler = _decoding_safely(handler)
        if method.startswith(OPEN_PREFIXES) or method in OPEN_METHODS:
            return handler
        token = _bearer(details.invocation_metadata)
        principal = await self._lookup(token) if token else UNKNOWN_TOKEN
        if isinstance(principal, str):
            return _refusal(handler, grpc.StatusCode.UNAUTHENTICATED, principal)
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
            await self._db.run(audit.record, principal.actor, action, _summary(request), self._now())

        return _as(handler, principal, audit_log)

    async def _lookup(self, token: str) -> Principal | str:
        """The caller holding `token`, or why it is refused."""
        key = hash_token(token)
        cached = self._cache.get(key)
        if cached is None or self._clock() - cached[0] >= CACHE_TTL_S:
            try:
                holder = await self._db.run(token_holder, key, self._now())
                found: Principal | str = Principal(holder.role, holder.subject, holder.token_id,
                                                   holder.account, holder.expires_at)  # fmt: skip
            except Unauthenticated as exc:
                found = str(exc)
            if len(self._cache) > 100_000:  # forget old entries rather than grow without bound
                self._cache.clear()
            cached = self._cache[key] = (self._clock(), found)
        found = cached[1]
        if isinstance(found, Principal) and found.expires_at is not None and found.expires_at <= self._now():
            return f"the sign-in expired at {found.expires_at.isoformat()}: sign in again"
        return found


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
    """The request as the audit log keeps it: its fields, long texts (plan documents) shortened, and
    passwords, tokens and secrets replaced by REDACTED (at any depth)."""
    return _redacted(json_format.MessageToDict(request, preserving_proto_field_name=True))


def _redacted(fields: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, value in fields.items():
        if any(secret in key.lower() for secret in SECRET_FIELDS):
            kept[key] = REDACTED
        elif isinstance(value, dict):
            kept[key] = _redacted(value)
        elif isinstance(value, list):
            kept[key] = [_redacted(v) if isinstance(v, dict) else v for v in value]
        else:
            kept[key] = value[:200] + "…" if isinstance(value, str) and len(value) > 200 else value
    return kept


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
