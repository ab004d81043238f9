"""The collector's exceptions. Each carries the gRPC status it maps to (see collector/services/base.py)."""

from __future__ import annotations

import grpc


class CollectorError(Exception):
    """Base of the collector's domain errors; `code` is the gRPC status a client receives."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL


class InvalidArgument(CollectorError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(CollectorError):
    code = grpc.StatusCode.NOT_FOUND

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!r} not found")
        self.kind = kind
        self.key = key


class AlreadyExists(CollectorError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(CollectorError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class PermissionDenied(CollectorError):
    code = grpc.StatusCode.PERMISSION_DENIED


class Unauthenticated(CollectorError):
    code = grpc.StatusCode.UNAUTHENTICATED


class ResourceExhausted(CollectorError):
    """A caller over its rate limit: retry later."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED
