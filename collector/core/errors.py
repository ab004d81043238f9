"""The collector's domain exceptions. They know nothing of gRPC: api/status.py maps each to a status code."""

from __future__ import annotations

# Client-supplied text quoted in an error message is cut to this many characters.
QUOTE_LIMIT = 80


def quoted(text: str, limit: int = QUOTE_LIMIT) -> str:
    """`text` as repr() shows it, shortened: an error message never echoes a huge client-supplied value."""
    if len(text) > limit:
        return repr(text[:limit]) + f"… ({len(text)} characters)"
    return repr(text)


class CollectorError(Exception):
    """Base of the collector's domain errors; the message is one sentence meant for the caller."""


class InvalidArgument(CollectorError):
    """The request is malformed or a value is out of range."""


class NotFound(CollectorError):
    """The object does not exist (or the caller may not see it)."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {quoted(key)} not found")
        self.kind = kind
        self.key = key


class AlreadyExists(CollectorError):
    """An object with this name or key exists already."""


class FailedPrecondition(CollectorError):
    """The request is well formed but the system is not in a state that allows it."""


class PermissionDenied(CollectorError):
    """The caller may not do this."""


class Unauthenticated(CollectorError):
    """The caller (an agent's signature, a token) could not be authenticated."""


class ResourceExhausted(CollectorError):
    """A caller over its rate limit: retry later."""


class Unavailable(CollectorError):
    """This collector cannot serve the call now (it is shutting down): try again, here or elsewhere."""
