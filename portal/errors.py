"""The portal's one exception hierarchy. The collector's answers become these at the call boundary
(portal/api.py); the application's handlers (portal/web.py) turn them into pages."""

from __future__ import annotations


class PortalError(Exception):
    """Anything the portal refuses or cannot do, as one sentence."""


class SettingsError(PortalError):
    """The portal cannot start with these settings (a missing or placeholder secret, a bad address)."""


class PageNotFound(PortalError):
    """404: absent, or the signed-in user may not see it (the collector's NOT_FOUND / PERMISSION_DENIED)."""


class SignInRequired(PortalError):
    """Redirect to the sign-in page: nobody is signed in, or the token expired or was revoked."""


class CollectorUnavailable(PortalError):
    """503: the collector cannot be reached (UNAVAILABLE, DEADLINE_EXCEEDED)."""


class Refused(PortalError):
    """The collector refused the request with a sentence the user can act on (INVALID_ARGUMENT,
    FAILED_PRECONDITION, ALREADY_EXISTS, RESOURCE_EXHAUSTED, UNAUTHENTICATED on sign-in): the form is shown
    again with it. `code` is the gRPC status name."""

    def __init__(self, sentence: str, code: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence
        self.code = code


class CollectorFailed(PortalError):
    """The collector answered with an error no page can act on (INTERNAL, UNIMPLEMENTED, ...): a 502."""

    def __init__(self, sentence: str, code: str) -> None:
        super().__init__(sentence)
        self.code = code
