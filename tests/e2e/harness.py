"""Harness for the fault tests: deterministic usage on real clocks, a recorded ground truth, and the
bill that ground truth must produce, computed independently with Fractions."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import grpc

from agent.gpu import GpuSampler
from agent.sampler import SampleData, Sampler
from tests.agent.fake_nvml import FakeNvml
from tests.agent.fake_psutil import FakePsutil

ROOT = Path(__file__).resolve().parents[2]
RX_PER_SAMPLE, TX_PER_SAMPLE = 3_000_000, 1_000_000
PRICES = {"hour": Fraction(36), "in": Fraction(1), "out": Fraction(2)}  # 1 ct a second, 1 and 2 EUR/GB


@dataclass
class TrafficPsutil(FakePsutil):
    """Counters that grow by a fixed amount per reading; `reset()` restarts them like a driver reload."""

    reads: int = 0
    reset_next: bool = False
    truth: list[tuple[int, int]] = field(default_factory=list)  # bytes really moved per reading

    def net_io_counters(self, pernic: bool, nowrap: bool):  # type: ignore[no-untyped-def]
        self.reads += 1
        rx, tx = self.nics["eth0"]
        if self.reset_next:
            self.reset_next = False
            rx, tx = 0, 0
        self.nics["eth0"] = (rx + RX_PER_SAMPLE, tx + TX_PER_SAMPLE)
        if self.reads > 1:
            self.truth.append((RX_PER_SAMPLE, TX_PER_SAMPLE))
        self.busy += 0.25
        self.idle += 0.75
        return super().net_io_counters(pernic, nowrap)


class RecordingSampler(Sampler):
    """The real sampler on real clocks (or a stepped wall clock), remembering every sample it made."""

    def __init__(self, ps: TrafficPsutil, **clocks) -> None:  # type: ignore[no-untyped-def]
        super().__init__(ps, gpu=GpuSampler(FakeNvml([])), **clocks)
        self.recorded: list[SampleData] = []

    def sample(self) -> SampleData:
        sample = super().sample()
        self.recorded.append(sample)
        return sample


def cents(value: Fraction) -> int:
    return int(value * 100 + Fraction(1, 2))


def expected_bill(samples: list[SampleData], start_us: int, end_us: int) -> dict[str, int]:
    """What the recorded usage inside [start_us, end_us) costs: exact overlap for time, bytes by the
    sample's start."""
    covered = sum(max(0, min(s.end_us, end_us) - max(s.start_us, start_us)) for s in samples)
    inside = [s for s in samples if start_us <= s.start_us < end_us]
    return {
        "time": cents(Fraction(covered, 10**6) * PRICES["hour"] / 3600),
        "traffic_in": cents(Fraction(sum(s.net_rx_bytes for s in inside), 10**9) * PRICES["in"]),
        "traffic_out": cents(Fraction(sum(s.net_tx_bytes for s in inside), 10**9) * PRICES["out"]),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 30.0, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class CollectorProcess:
    """`rentmeter collector serve` as a child process on a fixed port, to be stopped or killed."""

    def __init__(self, port: int, db_url: str) -> None:
        self.port, self.db_url = port, db_url
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        listen = f"127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "rentmeter", "collector", "serve", "--listen", listen,
                   "--db", self.db_url, "--rating-interval", "1s"]  # fmt: skip
        self.process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.DEVNULL)
        with grpc.insecure_channel(f"127.0.0.1:{self.port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=30)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)


def rentmeter(*args: str, collector: str) -> subprocess.CompletedProcess[str]:
    """Run the rentmeter CLI against `collector` (HOST:PORT)."""
    return subprocess.run(
        [sys.executable, "-m", "rentmeter", "--collector", collector, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
