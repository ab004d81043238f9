"""The collector's gRPC API as the portal calls it: one grpc.aio channel per process, and per request the
services as the signed-in user (every call carries that user's bearer token), so authorization is the
API's alone.

A unary call's failure becomes a PortalError here, by one table (STATUS_TO_ERROR): NOT_FOUND and
PERMISSION_DENIED a 404, UNAUTHENTICATED a sign-in, UNAVAILABLE a 503, the refusals with a sentence the
user can act on a Refused shown with the form. Streams (WatchSession) are returned as calls: their reader
(portal/live.py) handles their end and their errors.

    api = user_api(request)                          # portal.auth: the signed-in user's
    rental = await api.sessions.GetSession(sessions_pb2.GetSessionRequest(session_id=...))
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import grpc
import grpc.aio

from portal.errors import (
    CollectorFailed,
    CollectorUnavailable,
    PageNotFound,
    PortalError,
    Refused,
    SettingsError,
    SignInRequired,
)
from portal.settings import PortalSettings, TlsFiles
from protos.rentmeter.v1 import (
    access_pb2_grpc,
    accounts_pb2_grpc,
    audit_pb2_grpc,
    disputes_pb2_grpc,
    fleet_pb2_grpc,
    insights_pb2_grpc,
    invoices_pb2_grpc,
    jobs_pb2_grpc,
    machines_pb2_grpc,
    payments_pb2_grpc,
    plans_pb2_grpc,
    pricing_pb2_grpc,
    renters_pb2_grpc,
    sessions_pb2_grpc,
    usage_pb2_grpc,
    wallets_pb2_grpc,
)

logger = logging.getLogger(__name__)

_CODE = grpc.StatusCode
# The collector's status -> what the page does. Codes not listed are a CollectorFailed (502).
STATUS_TO_ERROR: dict[grpc.StatusCode, type[PortalError]] = {
    _CODE.NOT_FOUND: PageNotFound,
    _CODE.PERMISSION_DENIED: PageNotFound,
    _CODE.UNAUTHENTICATED: SignInRequired,
    _CODE.UNAVAILABLE: CollectorUnavailable,
    _CODE.DEADLINE_EXCEEDED: CollectorUnavailable,
    _CODE.INVALID_ARGUMENT: Refused,
    _CODE.FAILED_PRECONDITION: Refused,
    _CODE.ALREADY_EXISTS: Refused,
    _CODE.RESOURCE_EXHAUSTED: Refused,
    _CODE.OUT_OF_RANGE: Refused,
}


def portal_error(exc: grpc.aio.AioRpcError) -> PortalError:
    """The PortalError for a failed call: the collector's sentence, the page's reaction."""
    code, sentence = exc.code(), exc.details() or ""
    kind = STATUS_TO_ERROR.get(code)
    if kind is None:
        logger.warning("the collector answered %s: %s", code.name, sentence)
        return CollectorFailed(sentence, code.name)
    if kind is Refused:
        return Refused(sentence, code.name)
    return kind(sentence)


# Given a name with several collectors (dns:///..., a headless Kubernetes Service), calls go round robin.
BALANCED = [("grpc.service_config", json.dumps({"loadBalancingConfig": [{"round_robin": {}}]}))]


class Service:
    """One gRPC service's stub whose methods carry the user's token: unary calls are awaited with a
    deadline and raise PortalErrors; stream calls are returned as they are (no deadline)."""

    def __init__(self, stub: Any, metadata: tuple[tuple[str, str], ...], timeout: float) -> None:
        self._stub = stub
        self._metadata = metadata
        self._timeout = timeout

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._stub, name)
        if isinstance(method, grpc.aio.UnaryStreamMultiCallable):
            return partial(method, metadata=self._metadata)
        return partial(_unary, method, self._metadata, self._timeout)


async def _unary(method: Any, metadata: tuple[tuple[str, str], ...], timeout: float, request: Any) -> Any:
    try:
        return await method(request, metadata=metadata, timeout=timeout)
    except grpc.aio.AioRpcError as exc:
        raise portal_error(exc) from None


class Api:
    """Every service of the collector, as one user (an empty token: anonymous, for sign-in and resets)."""

    def __init__(self, channel: grpc.aio.Channel, token: str, timeout: float) -> None:
        metadata = (("authorization", f"Bearer {token}"),) if token else ()

        def service(stub_class: Any) -> Service:
            return Service(stub_class(channel), metadata, timeout)

        self.access = service(access_pb2_grpc.AccessServiceStub)
        self.accounts = service(accounts_pb2_grpc.AccountServiceStub)
        self.audit = service(audit_pb2_grpc.AuditServiceStub)
        self.fleet = service(fleet_pb2_grpc.FleetServiceStub)
        self.insights = service(insights_pb2_grpc.InsightsServiceStub)
        self.invoices = service(invoices_pb2_grpc.InvoiceServiceStub)
        self.jobs = service(jobs_pb2_grpc.JobServiceStub)
        self.machines = service(machines_pb2_grpc.MachineServiceStub)
        self.plans = service(plans_pb2_grpc.PlanServiceStub)
        self.pricing = service(pricing_pb2_grpc.PricingServiceStub)
        self.renters = service(renters_pb2_grpc.RenterServiceStub)
        self.sessions = service(sessions_pb2_grpc.SessionServiceStub)
        self.usage = service(usage_pb2_grpc.UsageServiceStub)
        self.wallets = service(wallets_pb2_grpc.WalletServiceStub)
        self.payments = service(payments_pb2_grpc.PaymentServiceStub)
        self.disputes = service(disputes_pb2_grpc.DisputeServiceStub)


class CollectorLink:
    """The portal's one channel to the collector, opened on the serving event loop (grpc.aio channels
    belong to the loop they are made on)."""

    def __init__(self, settings: PortalSettings) -> None:
        self._target = settings.collector
        # Read the PEM files now, so that a missing one stops the portal before it serves.
        self._credentials = None if settings.tls is None else _credentials(settings.tls)
        self._timeout = settings.call_timeout_s
        self._channel: grpc.aio.Channel | None = None

    async def open(self) -> None:
        if self._credentials is None:
            self._channel = grpc.aio.insecure_channel(self._target, options=BALANCED)
        else:
            self._channel = grpc.aio.secure_channel(self._target, self._credentials, options=BALANCED)

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = None

    def as_user(self, token: str) -> Api:
        if self._channel is None:
            raise RuntimeError("the collector link is not open: is the application's lifespan running?")
        return Api(self._channel, token, self._timeout)


def _credentials(tls: TlsFiles) -> grpc.ChannelCredentials:
    def read(path: str, what: str) -> bytes | None:
        if not path:
            return None
        try:
            return Path(path).read_bytes()
        except OSError as exc:
            raise SettingsError(f"cannot read the TLS {what} {path}: {exc.strerror}") from None

    return grpc.ssl_channel_credentials(
        root_certificates=read(tls.ca, "CA certificate"),
        private_key=read(tls.key, "client key"),
        certificate_chain=read(tls.cert, "client certificate"),
    )
