"""The reconnect policy as pure functions: backoff with jitter, and the server's retry hints."""

from __future__ import annotations

import random
from itertools import pairwise

import grpc
import pytest
from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, duration_pb2, message_factory

from agent.backoff import BACKLOG_MAX_DELAY_S, MAX_DELAY_S, REFUSED_DELAY_S, next_delay, retry_hint


def test_backoff_grows_with_jitter_and_caps() -> None:
    rng = random.Random(7)
    delays = [next_delay(n, grpc.StatusCode.UNAVAILABLE, rng=rng) for n in range(12)]
    assert 0.4 <= delays[0] <= 0.6
    assert 0.8 * MAX_DELAY_S <= delays[-1] <= 1.2 * MAX_DELAY_S
    assert all(later >= earlier * 0.6 for earlier, later in pairwise(delays))


def test_refusal_backs_off_slowly() -> None:
    assert next_delay(0, grpc.StatusCode.UNAUTHENTICATED, rng=random.Random(1)) >= 240


def test_a_local_failure_backs_off_like_an_outage() -> None:
    assert 0.4 <= next_delay(0, None, rng=random.Random(1)) <= 0.6


@pytest.mark.parametrize(
    ("hint", "low", "high"),
    [(5.0, 5.0, 6.0), (0.0, 0.0, 0.0), (10_000.0, REFUSED_DELAY_S, 1.2 * REFUSED_DELAY_S),
     (-1.0, 0.8 * REFUSED_DELAY_S, 1.2 * REFUSED_DELAY_S)],
)  # fmt: skip
def test_a_server_hint_is_followed_never_earlier(hint: float, low: float, high: float) -> None:
    rng = random.Random(3)
    for attempt in (0, 5, 30):
        delay = next_delay(attempt, grpc.StatusCode.RESOURCE_EXHAUSTED, hint=hint, rng=rng)
        assert low <= delay <= high


def _rpc_status_classes():  # type: ignore[no-untyped-def]
    """google.rpc.Status and RetryInfo built from their definitions with protobuf itself, so that the
    test encodes them independently of the agent's reader."""
    pool = descriptor_pool.DescriptorPool()
    for known in (any_pb2, duration_pb2):
        pool.AddSerializedFile(known.DESCRIPTOR.serialized_pb)
    proto = descriptor_pb2.FileDescriptorProto(
        name="google/rpc/status_for_test.proto", package="google.rpc", syntax="proto3",
        dependency=["google/protobuf/any.proto", "google/protobuf/duration.proto"],
    )  # fmt: skip
    field = descriptor_pb2.FieldDescriptorProto
    status = proto.message_type.add(name="Status")
    status.field.add(name="code", number=1, type=field.TYPE_INT32, label=field.LABEL_OPTIONAL)
    status.field.add(name="message", number=2, type=field.TYPE_STRING, label=field.LABEL_OPTIONAL)
    status.field.add(name="details", number=3, type=field.TYPE_MESSAGE, label=field.LABEL_REPEATED,
                     type_name=".google.protobuf.Any")  # fmt: skip
    retry = proto.message_type.add(name="RetryInfo")
    retry.field.add(name="retry_delay", number=1, type=field.TYPE_MESSAGE, label=field.LABEL_OPTIONAL,
                    type_name=".google.protobuf.Duration")  # fmt: skip
    pool.Add(proto)
    make = message_factory.GetMessageClass
    return make(pool.FindMessageTypeByName("google.rpc.Status")), make(
        pool.FindMessageTypeByName("google.rpc.RetryInfo")
    )


def test_retry_hints_are_read_from_pushback_metadata_and_from_retry_info() -> None:
    Status, RetryInfo = _rpc_status_classes()
    info = RetryInfo()
    info.retry_delay.seconds, info.retry_delay.nanos = 7, 500_000_000
    other = {"type_url": "type.googleapis.com/google.rpc.ErrorInfo", "value": b"\x0a\x03abc"}
    retry = {"type_url": "type.googleapis.com/google.rpc.RetryInfo", "value": info.SerializeToString()}
    status = Status(code=8, message="slow down")
    for detail in (other, retry):
        status.details.add(**detail)
    details = status.SerializeToString()
    assert retry_hint([("grpc-status-details-bin", details)]) == 7.5
    assert retry_hint([("grpc-retry-pushback-ms", "2500"), ("grpc-status-details-bin", details)]) == 2.5
    assert retry_hint([("grpc-retry-pushback-ms", "-1")]) == -0.001
    assert retry_hint([("other", "1")]) is None and retry_hint(None) is None
    assert retry_hint([("grpc-retry-pushback-ms", "soon")]) is None
    assert retry_hint([("grpc-status-details-bin", b"\xff\xff\xff")]) is None  # garbage: no hint
    del status.details[1]
    assert retry_hint([("grpc-status-details-bin", status.SerializeToString())]) is None


def test_with_a_backlog_the_agent_retries_within_two_seconds_spread_by_full_jitter() -> None:
    rng = random.Random(3)
    late = [next_delay(20, grpc.StatusCode.UNAVAILABLE, rng=rng, backlog=True) for _ in range(2000)]
    assert max(late) <= BACKLOG_MAX_DELAY_S
    assert min(late) >= BACKLOG_MAX_DELAY_S / 2
    assert max(late) - min(late) > 0.8 * BACKLOG_MAX_DELAY_S / 2  # spread, so agents do not return at once
    assert 0.25 <= next_delay(0, grpc.StatusCode.UNAVAILABLE, rng=rng, backlog=True) <= 0.5


def test_a_server_hint_still_wins_over_the_backlog_cap() -> None:
    delay = next_delay(20, grpc.StatusCode.RESOURCE_EXHAUSTED, hint=4.0, rng=random.Random(2), backlog=True)
    assert 4.0 <= delay <= 4.8
