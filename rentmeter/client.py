"""A typed bundle of the collector's admin stubs over one channel, authenticated by an API token, in
plaintext or over TLS (optionally with a client certificate, for a collector that requires one)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

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
from rentmeter.errors import UsageError


class _Bearer(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Adds `authorization: Bearer TOKEN` to every call."""

    def __init__(self, token: str) -> None:
        self._metadata = ("authorization", f"Bearer {token}")

    def _with_token(self, details: Any) -> Any:
        return details._replace(metadata=[*(details.metadata or ()), self._metadata])  # grpc's namedtuple

    def intercept_unary_unary(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        return continuation(self._with_token(details), request)

    def intercept_unary_stream(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        return continuation(self._with_token(details), request)


@dataclass(frozen=True)
class ClientTls:
    """PEM files for TLS: the CA that signed the collector's certificate ('' = the system's CAs) and, for a
    collector that requires client certificates (mutual TLS), a certificate and its key."""

    ca: str = ""
    cert: str = ""
    key: str = ""

    def credentials(self) -> grpc.ChannelCredentials:
        """Channel credentials from the files; a missing or unreadable file is a UsageError."""
        if bool(self.cert) != bool(self.key):
            raise UsageError("--tls-cert and --tls-key go together (a client certificate and its key)")
        return grpc.ssl_channel_credentials(
            root_certificates=_read(self.ca, "CA certificate"),
            private_key=_read(self.key, "client key"),
            certificate_chain=_read(self.cert, "client certificate"),
        )


def _read(path: str, what: str) -> bytes | None:
    if not path:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the TLS {what} {path}: {exc.strerror}") from None


@dataclass(frozen=True)
class AdminClient:
    channel: grpc.Channel
    machines: machines_pb2_grpc.MachineServiceStub
    plans: plans_pb2_grpc.PlanServiceStub
    sessions: sessions_pb2_grpc.SessionServiceStub
    usage: usage_pb2_grpc.UsageServiceStub
    invoices: invoices_pb2_grpc.InvoiceServiceStub
    wallets: wallets_pb2_grpc.WalletServiceStub
    renters: renters_pb2_grpc.RenterServiceStub
    access: access_pb2_grpc.AccessServiceStub
    jobs: jobs_pb2_grpc.JobServiceStub
    accounts: accounts_pb2_grpc.AccountServiceStub
    fleet: fleet_pb2_grpc.FleetServiceStub
    audit: audit_pb2_grpc.AuditServiceStub
    pricing: pricing_pb2_grpc.PricingServiceStub
    insights: insights_pb2_grpc.InsightsServiceStub
    payments: payments_pb2_grpc.PaymentServiceStub
    disputes: disputes_pb2_grpc.DisputeServiceStub

    @classmethod
    def connect(cls, target: str, token: str = "", tls: ClientTls | None = None) -> AdminClient:
        """A client of the collector at `target` (HOST:PORT): plaintext unless `tls` is given."""
        if tls is None:
            channel = grpc.insecure_channel(target)
        else:
            channel = grpc.secure_channel(target, tls.credentials())
        if token:
            channel = grpc.intercept_channel(channel, _Bearer(token))
        return cls(
            channel,
            machines_pb2_grpc.MachineServiceStub(channel),
            plans_pb2_grpc.PlanServiceStub(channel),
            sessions_pb2_grpc.SessionServiceStub(channel),
            usage_pb2_grpc.UsageServiceStub(channel),
            invoices_pb2_grpc.InvoiceServiceStub(channel),
            wallets_pb2_grpc.WalletServiceStub(channel),
            renters_pb2_grpc.RenterServiceStub(channel),
            access_pb2_grpc.AccessServiceStub(channel),
            jobs_pb2_grpc.JobServiceStub(channel),
            accounts_pb2_grpc.AccountServiceStub(channel),
            fleet_pb2_grpc.FleetServiceStub(channel),
            audit_pb2_grpc.AuditServiceStub(channel),
            pricing_pb2_grpc.PricingServiceStub(channel),
            insights_pb2_grpc.InsightsServiceStub(channel),
            payments_pb2_grpc.PaymentServiceStub(channel),
            disputes_pb2_grpc.DisputeServiceStub(channel),
        )

    def close(self) -> None:
        self.channel.close()
