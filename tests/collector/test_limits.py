"""Rate limits per API token and per agent; the admission of agent report streams."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import grpc
import pytest

from agent.backoff import retry_hint
from collector.config import CollectorSettings
from collector.core.limits import RateLimiter, StreamAdmission
from protos.rentmeter.v1 import agent_pb2, agent_pb2_grpc, plans_pb2
from rentmeter.client import AdminClient
from rentmeter.embedded import running_collector
from tests.collector.helpers import sample, signed
from tests.collector.test_services import enroll, now_s, stream


def test_a_token_bucket_refills_at_its_rate() -> None:
    clock = [0.0]
    limiter = RateLimiter(rate=2.0, burst=3.0, clock=lambda: clock[0])
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")  # keys are independent
    clock[0] = 0.5  # one token back
    assert [limiter.allow("a"), limiter.allow("a")] == [True, False]
    assert RateLimiter(rate=0, burst=0).allow("x")  # 0 = no limit


@pytest.fixture
def collector_settings(tmp_path: Path) -> CollectorSettings:
    return CollectorSettings(
        listen="127.0.0.1:0", db_url=f"sqlite:///{tmp_path / 'c.db'}", rating_interval=timedelta(seconds=60),
        api_rate_limit=1.0, agent_report_rate_limit=1.0,
    )  # fmt: skip


def test_callers_over_their_limit_are_told_to_retry_later(channel: grpc.Channel, admin: AdminClient) -> None:
    identity = enroll(channel, admin)  # two admin calls
    codes = []
    for _ in range(12):
        try:
            admin.plans.ListPlans(plans_pb2.ListPlansRequest())
            codes.append("OK")
        except grpc.RpcError as exc:
            codes.append(exc.code().name)
    assert "RESOURCE_EXHAUSTED" in codes and codes[0] == "OK"
    t = now_s() - 100
    acks = stream(channel, [signed(identity, n, [sample(t + n, t + n + 1)]) for n in range(1, 11)])
    assert [a.status for a in acks] == [agent_pb2.ReportAck.ACCEPTED] * 10  # the burst
    with pytest.raises(grpc.RpcError) as limited:
        stream(channel, [signed(identity, 11, [sample(t + 11, t + 12)])])
    assert limited.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED


def test_stream_admission_bounds_open_streams_and_their_opening_rate() -> None:
    clock = [0.0]
    admission = StreamAdmission(3, open_rate=2.0, clock=lambda: clock[0], rng=random.Random(5))
    assert [admission.admit() for _ in range(2)] == [None, None]
    refused = admission.admit()  # the opening rate's burst (2) is spent
    assert refused is not None and 1.0 <= refused <= 5.0
    clock[0] = 10.0
    assert admission.admit() is None  # 3 open: the most it holds
    waits = [admission.admit() for _ in range(50)]
    assert all(w is not None and 1.0 <= w <= 5.0 for w in waits)
    assert max(w for w in waits if w) - min(w for w in waits if w) > 2.0  # spread over the window
    admission.release()
    assert admission.admit() is None


def test_a_stream_over_the_limit_is_refused_with_a_retry_hint(tmp_path: Path) -> None:
    settings = CollectorSettings(listen="127.0.0.1:0", db_url=f"sqlite:///{tmp_path / 'c.db'}",
                                 rating_interval=timedelta(seconds=60), max_agent_streams=1)  # fmt: skip
    with (
        running_collector(settings) as collector,
        grpc.insecure_channel(f"127.0.0.1:{collector.port}") as channel,
    ):
        stub = agent_pb2_grpc.AgentServiceStub(channel)
        hold = threading.Event()

        def held() -> Iterator[agent_pb2.SignedReport]:
            hold.wait(20)
            return
            yield

        first = stub.StreamReports(held())
        time.sleep(0.5)  # the first stream is open and counted
        with pytest.raises(grpc.RpcError) as refused:
            list(stub.StreamReports(iter([]), timeout=10))
        hold.set()
        list(first)
    error = refused.value
    assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[attr-defined]
    assert "many agent streams" in error.details()  # type: ignore[attr-defined]
    hint = retry_hint(error.trailing_metadata())  # type: ignore[attr-defined]
    assert hint is not None and 1.0 <= hint <= 5.0
