"""The API edge: one table from domain errors to gRPC status codes, and what every servicer shares.

A domain error becomes its status with its sentence (client-supplied values in it already shortened). Any
other exception is a bug or an outage: the client gets INTERNAL with an error id, and the log gets the id
with the stack trace. No SQL, parameters or stack text ever reach a client.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, NoReturn, TypeVar

import grpc

import billing
from collector.core.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
)
from collector.db.database import Database

logger = logging.getLogger(__name__)

R = TypeVar("R")
Ctx = grpc.aio.ServicerContext
Handler = Callable[[Any, Any, grpc.aio.ServicerContext], Awaitable[R]]

STATUS: dict[type[Exception], grpc.StatusCode] = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
    Unavailable: grpc.StatusCode.UNAVAILABLE,
    # The billing engine refusing what the stored state asks of it (a plan that cannot price a session,
    # an amount beyond the money range); servicers turn bad request values into INVALID_ARGUMENT first.
    billing.BillingError: grpc.StatusCode.FAILED_PRECONDITION,
}
# gRPC status details travel in a header; longer messages are cut so that they always fit.
MAX_DETAILS = 1000


def status_of(exc: Exception) -> grpc.StatusCode | None:
    """The status code of a domain error (its nearest listed class); None for anything else."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return None


def internal_error(where: str) -> str:
    """Log the exception being handled with a new error id; return the sentence the client gets."""
    error_id = secrets.token_hex(6)
    logger.exception("%s failed (error id %s)", where, error_id)
    return f"internal error in {where} (error id {error_id}); the collector's log has the details"


def status_and_details(exc: BaseException, where: str) -> tuple[grpc.StatusCode, str]:
    """What a client is told of `exc`, raised while serving `where`."""
    code = status_of(exc) if isinstance(exc, Exception) else None
    if code is None:
        return grpc.StatusCode.INTERNAL, internal_error(where)
    details = str(exc)
    if len(details) > MAX_DETAILS:
        details = details[:MAX_DETAILS] + "…"
    return code, details


async def abort_with(context: grpc.aio.ServicerContext, exc: BaseException, where: str) -> NoReturn:
    """End the call with the status and sentence for `exc`."""
    code, details = status_and_details(exc, where)
    await context.abort(code, details)
    raise AssertionError("unreachable: abort raises")  # pragma: no cover


def maps_errors(handler: Handler[R]) -> Handler[R]:
    """Run a unary handler; whatever it raises becomes a status through the table above."""

    @functools.wraps(handler)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> R:
        try:
            return await handler(self, request, context)
        except Exception as exc:  # the API edge: every exception becomes a status
            await abort_with(context, exc, handler.__name__)

    return wrapper


class Servicer:
    def __init__(self, database: Database, now: Callable[[], datetime]) -> None:
        self.db = database
        self.now = now
