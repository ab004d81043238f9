"""Rate limits per API token and per agent."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import grpc
import pytest

from collector.config import CollectorSettings
from collector.core.limits import RateLimiter
from protos.rentmeter.v1 import agent_pb2, plans_pb2
from rentmeter.client import AdminClient
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
