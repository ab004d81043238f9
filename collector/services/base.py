"""What every servicer shares: the database, the clock, and domain-error-to-status mapping."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import grpc

from collector.database import Database
from collector.errors import CollectorError

logger = logging.getLogger(__name__)

R = TypeVar("R")
Handler = Callable[[Any, Any, grpc.aio.ServicerContext], Awaitable[R]]


def maps_errors(handler: Handler[R]) -> Handler[R]:
    """Turn a CollectorError raised by a unary handler into the matching gRPC status and message."""

    @functools.wraps(handler)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> R:
        try:
            return await handler(self, request, context)
        except CollectorError as exc:
            await context.abort(exc.code, str(exc))
            raise  # unreachable: abort raises
        except Exception:
            logger.exception("%s failed", handler.__name__)
            await context.abort(
                grpc.StatusCode.INTERNAL, f"{handler.__name__} failed; see the collector's log"
            )
            raise

    return wrapper


class Servicer:
    def __init__(self, database: Database, now: Callable[[], datetime]) -> None:
        self.db = database
        self.now = now
