"""The collector as a process and a gRPC server: what it logs when it starts and idles, and the reflection
services that grpcurl and other tools use."""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pb2
from grpc_reflection.v1alpha import reflection_pb2

from agent.actions import ControlEvent, log_action
from collector.server import Collector
from tests.e2e.harness import ROOT, free_port, wait_for

V1_METHOD = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
V1ALPHA_METHOD = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"


def _reflect(
    channel: grpc.Channel, method: str, request: reflection_pb2.ServerReflectionRequest
) -> reflection_pb2.ServerReflectionResponse:
    """One reflection request. v1 and v1alpha messages are the same bytes on the wire, so v1alpha's
    classes serve as a v1 client's (a stand-in for grpcurl, which asks for v1 first)."""
    call = channel.stream_stream(
        method,
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    (response,) = list(call(iter([request]), timeout=10))
    return response


@pytest.mark.parametrize("method", [V1_METHOD, V1ALPHA_METHOD])
def test_reflection_v1_and_v1alpha_list_and_describe_the_services(collector: Collector, method: str) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{collector.port}") as channel:
        listed = _reflect(channel, method, reflection_pb2.ServerReflectionRequest(list_services=""))
        names = {s.name for s in listed.list_services_response.service}
        assert {"rentmeter.v1.SessionService", "grpc.health.v1.Health"} <= names
        assert {"grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"} <= names
        for symbol, package in [("rentmeter.v1.SessionService", "rentmeter.v1"),
                                ("grpc.reflection.v1.ServerReflection", "grpc.reflection.v1")]:  # fmt: skip
            request = reflection_pb2.ServerReflectionRequest(file_containing_symbol=symbol)
            described = _reflect(channel, method, request).file_descriptor_response.file_descriptor_proto
            files = [descriptor_pb2.FileDescriptorProto.FromString(raw) for raw in described]
            assert package in {f.package for f in files}, symbol


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _collector_log(tmp_path: Path, *flags: str, seconds: float = 4.0) -> str:
    """Standard error of `rentmeter [flags] collector serve` running idle for `seconds` (jobs every 1 s) once
    it serves (start-up takes about 2 s on a busy 2-core machine; interrupted before, it exits 130)."""
    port = free_port()
    listen, db = f"127.0.0.1:{port}", f"sqlite:///{tmp_path / 'c.db'}"
    command = [sys.executable, "-m", "rentmeter", *flags, "collector", "serve", "--listen", listen,
               "--db", db, "--rating-interval", "1s"]  # fmt: skip
    with subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True) as process:
        wait_for(lambda: _accepts(port), timeout=60, what="the collector to serve")
        time.sleep(seconds)
        process.send_signal(signal.SIGINT)
        _, log = process.communicate(timeout=30)
    assert process.returncode == 0, log
    return log


@pytest.mark.timeout(90)
def test_an_idle_collector_logs_its_start_and_nothing_routine(tmp_path: Path) -> None:
    log = _collector_log(tmp_path)
    assert "with plaintext (no TLS), database sqlite:///" in log  # the start-up line says how it serves
    assert "WARNING" not in log  # plaintext on loopback is the normal set-up on one machine
    assert "apscheduler" not in log and "alembic" not in log, log  # a line per job run, every second
    assert len(log.splitlines()) <= 4, log
    verbose = _collector_log(tmp_path, "-v", seconds=2.0)
    assert "apscheduler" in verbose and "alembic" in verbose


def test_control_events_are_logged_at_info(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="agent.actions"):
        log_action(ControlEvent("session-started", "s-1", "alice", ""))
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.INFO, "rentmeter: session-started session s-1")
    ]
