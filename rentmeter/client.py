"""A typed bundle of the collector's admin stubs over one channel, authenticated by an API token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc

from protos.rentmeter.v1 import (
    access_pb2_grpc,
    invoices_pb2_grpc,
    jobs_pb2_grpc,
    machines_pb2_grpc,
    plans_pb2_grpc,
    renters_pb2_grpc,
    sessions_pb2_grpc,
    usage_pb2_grpc,
    wallets_pb2_grpc,
)


class _Bearer(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Adds `authorization: Bearer TOKEN` to every call."""

    def __init__(self, token: str) -> None:
        self._metadata = ("authorization", f"Bearer {token}")

    def _with_token(self, details: Any) -> Any:
        return details._replace(metadata=[*(details.metadata or ()), self._metadata])  # grpc's namedtuple

    def intercept_unary_unary(self, continuation, details, request):  # type: ignore[no-untyped-def]
        return continuation(self._with_token(details), request)

    def intercept_unary_stream(self, continuation, details, request):  # type: ignore[no-untyped-def]
        return continuation(self._with_token(details), request)


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

    @classmethod
    def connect(cls, target: str, token: str = "") -> AdminClient:
        channel = grpc.insecure_channel(target)
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
        )

    def close(self) -> None:
        self.channel.close()
