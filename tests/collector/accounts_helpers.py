"""What the account tests share: a collector with a clock the test moves, clients, and call outcomes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc

from collector.accounts.tokens import create_api_token
from collector.config import CollectorSettings
from collector.server import Collector
from protos.rentmeter.v1 import accounts_pb2
from rentmeter.client import AdminClient
from rentmeter.embedded import running_collector

PASSWORD = "correct horse battery"
NEW_PASSWORD = "purple elephant umbrella"


class Clock:
    """The collector's "now", moved by the test."""

    def __init__(self) -> None:
        self.at = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **amount: float) -> None:
        self.at += timedelta(**amount)


@contextmanager
def clocked_collector(settings: CollectorSettings, clock: Clock) -> Iterator[Collector]:
    """A collector on `settings` whose clock is `clock` (jobs off), with an admin API token `admin_token`."""
    with running_collector(settings, now=clock, run_jobs=False) as running:
        running.admin_token = running.database.call(create_api_token, "admin", "", "tests", clock())  # type: ignore[attr-defined]
        yield running


def client(collector: Collector, token: str = "") -> AdminClient:
    return AdminClient.connect(f"127.0.0.1:{collector.port}", token)


def outcome(call: Callable[[], Any]) -> tuple[grpc.StatusCode, str]:
    """The status code and sentence a call ends with (OK and "" when it succeeds)."""
    try:
        call()
    except grpc.RpcError as exc:
        return exc.code(), exc.details() or ""  # type: ignore[attr-defined]
    return grpc.StatusCode.OK, ""


def login(anyone: AdminClient, name: str, password: str = PASSWORD) -> accounts_pb2.LoginResponse:
    return anyone.accounts.Login(accounts_pb2.LoginRequest(name=name, password=password))


def create(admin: AdminClient, name: str, role: str = "renter", **fields: str) -> accounts_pb2.Account:
    request = accounts_pb2.CreateAccountRequest(name=name, role=role, password=PASSWORD, **fields)
    return admin.accounts.CreateAccount(request)


def whoami(collector: Collector, token: str) -> tuple[grpc.StatusCode, str]:
    signed_in = client(collector, token)
    try:
        return outcome(lambda: signed_in.accounts.WhoAmI(accounts_pb2.WhoAmIRequest()))
    finally:
        signed_in.close()
