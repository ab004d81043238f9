"""A typed bundle of the collector's admin stubs over one channel."""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from protos.rentmeter.v1 import (
    invoices_pb2_grpc,
    machines_pb2_grpc,
    plans_pb2_grpc,
    renters_pb2_grpc,
    sessions_pb2_grpc,
    usage_pb2_grpc,
    wallets_pb2_grpc,
)


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

    @classmethod
    def connect(cls, target: str) -> AdminClient:
        channel = grpc.insecure_channel(target)
        return cls(
            channel,
            machines_pb2_grpc.MachineServiceStub(channel),
            plans_pb2_grpc.PlanServiceStub(channel),
            sessions_pb2_grpc.SessionServiceStub(channel),
            usage_pb2_grpc.UsageServiceStub(channel),
            invoices_pb2_grpc.InvoiceServiceStub(channel),
            wallets_pb2_grpc.WalletServiceStub(channel),
            renters_pb2_grpc.RenterServiceStub(channel),
        )

    def close(self) -> None:
        self.channel.close()
