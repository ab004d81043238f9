"""Who may call what: bearer tokens with roles, checked on every admin RPC, and object ownership.

Roles: `admin` (the provider: everything), `host` (owns machines: its machines and their sessions),
`renter` (its sessions, invoices, wallet and account). Agents do not use bearer tokens: AgentService is
open to enrolled machines, whose reports are verified by their signatures. Tokens are shown once and stored
as SHA-256 hashes (they are 256-bit random, so a plain hash is enough).

The interceptor authenticates the token and checks the method against POLICY before the servicer runs;
servicers then check ownership through current(): another account's object answers NOT_FOUND, so its
existence is not revealed.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import grpc
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from sqlalchemy import select
from sqlalchemy.orm import Session

from collector import audit
from collector.database import Database
from collector.db.models import ApiToken
from collector.errors import InvalidArgument, NotFound
from collector.limits import RateLimiter

logger = logging.getLogger(__name__)

ADMIN, HOST, RENTER = "admin", "host", "renter"
ROLES = (ADMIN, HOST, RENTER)
TOKEN_PREFIX = "rmk_"
CACHE_TTL_S = 30.0

_ALL = frozenset(ROLES)
_HOSTS = frozenset({ADMIN, HOST})
_RENTERS = frozenset({ADMIN, RENTER})
# Method -> roles allowed to call it; a method not listed is the admin's only.
POLICY: dict[str, frozenset[str]] = {
    "MachineService/CreateEnrollmentToken": _HOSTS,
    "MachineService/ListMachines": _HOSTS,
    "MachineService/GetMachine": _HOSTS,
    "MachineService/SendControl": _HOSTS,
    "MachineService/RevokeMachine": _HOSTS,
    "PlanService/ListPlans": _ALL,
    "PlanService/GetPlan": _ALL,
    "PlanService/Quote": _ALL,
    "SessionService/StartSession": _HOSTS,
    "SessionService/StopSession": _HOSTS,
    "SessionService/GetSession": _ALL,
    "SessionService/ListSessions": _ALL,
    "SessionService/ExplainSession": _ALL,
    "SessionService/WatchSession": _ALL,
    "UsageService/GetUsage": _ALL,
    "InvoiceService/ListInvoices": _RENTERS,
    "InvoiceService/GetInvoice": _RENTERS,
    "InvoiceService/RenderInvoice": _RENTERS,
    "WalletService/GetWallet": _RENTERS,
    "RenterService/GetRenter": _RENTERS,
    "RenterService/ExportRenter": _RENTERS,
}
# Open to anyone: health, reflection, and the agents' own service (signatures instead of tokens).
OPEN_PREFIXES = ("/grpc.", "/rentmeter.v1.AgentService/")


@dataclass(frozen=True)
class Principal:
    role: str
    subject: str = ""  # the host account or renter id

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    def may_see_renter(self, renter_id: str) -> bool:
        return self.is_admin or (self.role == RENTER and self.subject == renter_id)

    def may_see_host(self, host_id: str) -> bool:
        return self.is_admin or (self.role == HOST and self.subject == host_id)


# The principal of the call being served, set by the interceptor.
_current: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("principal", default=None)


def current() -> Principal:
    """The caller of the RPC being served. Outside an authenticated call this is a bug: it raises."""
    principal = _current.get()
    if principal is None:
        raise RuntimeError("no authenticated caller: is the AuthInterceptor installed?")
    return principal


def hide_unless(visible: bool, what: str, key: str) -> None:
    """NOT_FOUND for an object the caller may not see, exactly as if it did not exist."""
    if not visible:
        raise NotFound(what, key)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(db: Session, role: str, subject: str, label: str, now: datetime) -> str:
    """A new bearer token (returned once; only its hash is kept)."""
    if role not in ROLES:
        raise InvalidArgument(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    subject = subject.strip()
    if role != ADMIN and not subject:
        raise InvalidArgument(f"a {role} token names its {role} account (subject)")
    if len(subject) > 100 or len(label) > 200:
        raise InvalidArgument("subject is at most 100 characters, label 200")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.add(ApiToken(token_hash=hash_token(token), role=role, subject=subject if role != ADMIN else "",
                    label=label, created_at=now))  # fmt: skip
    db.flush()
    logger.info("API token created: role %s, subject %s, label %r", role, subject or "-", label)
    return token


def revoke_api_token(db: Session, token_id: int, now: datetime) -> ApiToken:
    row = db.get(ApiToken, token_id)
    if row is None:
        raise NotFound("API token", str(token_id))
    row.revoked_at = row.revoked_at or now
    return row


def list_api_tokens(db: Session) -> list[ApiToken]:
    return list(db.scalars(select(ApiToken).order_by(ApiToken.id)))


def _principal(db: Session, token_hash: str) -> Principal | None:
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))
    if row is None or row.revoked_at is not None:
        return None
    return Principal(row.role, row.subject)


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
        principal = await self._db.run(_principal, key)
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


# Calls that change nothing; every other admin call is written to the audit log when it succeeds.
READ_ONLY = ("Get", "List", "Explain", "Watch", "Quote", "Render", "CheckLedger")


def _as(handler: Any, principal: Principal, audit_log: Callable[[Any], Any] | None = None) -> Any:
    """The handler, run with `principal` as current(); a successful call is passed to `audit_log`."""
    if handler.unary_unary:
        inner = handler.unary_unary

        async def unary(request: Any, context: Any) -> Any:
            _current.set(principal)
            response = await inner(request, context)
            if audit_log is not None:
                await audit_log(request)
            return response

        return grpc.unary_unary_rpc_method_handler(
            unary, handler.request_deserializer, handler.response_serializer
        )
    if handler.unary_stream:
        stream = handler.unary_stream

        async def streaming(request: Any, context: Any) -> Any:
            _current.set(principal)
            async for item in stream(request, context):
                yield item

        return grpc.unary_stream_rpc_method_handler(
            streaming, handler.request_deserializer, handler.response_serializer
        )
    return handler


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
