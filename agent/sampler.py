"""Sampling this machine with psutil: back-to-back intervals of usage from cumulative counters.

Timeline: the agent reads the wall clock once, at start, and from then on places samples by the boot-time
clock (CLOCK_BOOTTIME on Linux: steady, counts suspend, never stepped). A sample lasts the monotonic time
elapsed (which excludes suspend), so
- a wall-clock step (NTP, an admin, a renter) neither creates nor erases billable time, nor moves samples;
- time spent suspended is a gap: nothing is billed for it;
- drift between the wall clock and the timeline is logged; restarting the agent re-anchors it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import psutil

from agent.gpu import GpuReading, GpuSampler
from agent.rapl import RaplSampler

logger = logging.getLogger(__name__)

# Wall clock and timeline further apart than this are logged (once per change of about this much).
MAX_DRIFT_US = 2_000_000
# Boot-time clock ahead of the monotonic one by more than this over one interval means a suspend.
SUSPEND_THRESHOLD_NS = 1_000_000_000


def boottime_ns() -> int:
    """A steady clock that keeps counting during suspend; the monotonic clock where there is none."""
    clock = getattr(time, "CLOCK_BOOTTIME", None)
    return time.clock_gettime_ns(clock) if clock is not None else time.monotonic_ns()


@dataclass(frozen=True, slots=True)
class Login:
    user: str
    terminal: str
    host: str
    started_us: int


@dataclass(frozen=True, slots=True)
class SampleData:
    """Usage over [start_us, end_us) (wall microseconds since the epoch); counters are deltas."""

    start_us: int
    end_us: int
    cpu_busy_us: int
    cpu_utilization: float
    memory_used_bytes: int
    memory_total_bytes: int
    disk_read_bytes: int
    disk_write_bytes: int
    net_rx_bytes: int
    net_tx_bytes: int
    gpus: tuple[GpuReading, ...] = ()
    host_energy_mj: int = 0  # CPU packages (RAPL), during the interval


@dataclass(frozen=True, slots=True)
class _Counters:
    mono_ns: int
    boot_ns: int
    cpu_busy_s: float
    cpu_total_s: float
    disk_read: int
    disk_write: int
    net: dict[str, tuple[int, int]] = field(default_factory=dict)  # nic -> (rx, tx)


def is_loopback(nic: str) -> bool:
    name = nic.lower()
    return name == "lo" or (name.startswith("lo") and name[2:].isdigit()) or "loopback" in name


def counter_delta(current: int, previous: int) -> int:
    """Growth of a cumulative counter; a counter that went down was reset and counts from zero."""
    return current - previous if current >= previous else current


class Sampler:
    """Produces one SampleData per call to sample(), covering the time since the previous call."""

    def __init__(
        self,
        ps: ModuleType | Any = psutil,
        *,
        wall_ns: Callable[[], int] = time.time_ns,
        mono_ns: Callable[[], int] = time.monotonic_ns,
        boot_ns: Callable[[], int] = boottime_ns,
        gpu: GpuSampler | None = None,
        rapl: RaplSampler | None = None,
    ) -> None:
        self._ps = ps
        self._gpu = gpu if gpu is not None else GpuSampler()
        self._rapl = rapl if rapl is not None else RaplSampler()
        self._wall_ns = wall_ns
        self._mono_ns = mono_ns
        self._boot_ns = boot_ns
        self._previous = self._read()
        self._anchor_us = wall_ns() // 1000
        self._anchor_boot_ns = self._previous.boot_ns
        self._reported_drift_us = 0

    def _position_us(self, boot_ns: int) -> int:
        """Where a boot-clock reading lies on the agent's timeline, in wall microseconds."""
        return self._anchor_us + (boot_ns - self._anchor_boot_ns) // 1000

    def _read(self) -> _Counters:
        cpu = self._ps.cpu_times()
        idle = cpu.idle + getattr(cpu, "iowait", 0.0)
        total = sum(cpu)
        disk = self._ps.disk_io_counters(nowrap=True)
        nics = self._ps.net_io_counters(pernic=True, nowrap=True)
        return _Counters(
            mono_ns=self._mono_ns(),
            boot_ns=self._boot_ns(),
            cpu_busy_s=total - idle,
            cpu_total_s=total,
            disk_read=disk.read_bytes if disk else 0,
            disk_write=disk.write_bytes if disk else 0,
            net={nic: (c.bytes_recv, c.bytes_sent) for nic, c in nics.items() if not is_loopback(nic)},
        )

    def sample(self) -> SampleData:
        current, previous = self._read(), self._previous
        self._previous = current
        end_us = self._position_us(current.boot_ns)
        start_us = self._position_us(previous.boot_ns)
        mono_elapsed = max(0, current.mono_ns - previous.mono_ns)
        if (current.boot_ns - previous.boot_ns) - mono_elapsed > SUSPEND_THRESHOLD_NS:
            start_us = end_us - mono_elapsed // 1000  # the suspended time before it is a gap
            logger.info("suspend of %.1f s detected; not counted", (end_us - start_us) / 1e6)
        self._check_drift(end_us)
        busy_us = max(0, round((current.cpu_busy_s - previous.cpu_busy_s) * 1e6))
        total_s = current.cpu_total_s - previous.cpu_total_s
        rx = tx = 0
        for nic, (nic_rx, nic_tx) in current.net.items():
            if nic in previous.net:  # a new interface starts counting from its first reading
                rx += counter_delta(nic_rx, previous.net[nic][0])
                tx += counter_delta(nic_tx, previous.net[nic][1])
        memory = self._ps.virtual_memory()
        return SampleData(
            start_us=start_us,
            end_us=end_us,
            cpu_busy_us=busy_us,
            cpu_utilization=min(1.0, max(0.0, busy_us / 1e6 / total_s)) if total_s > 0 else 0.0,
            memory_used_bytes=memory.used,
            memory_total_bytes=memory.total,
            disk_read_bytes=counter_delta(current.disk_read, previous.disk_read),
            disk_write_bytes=counter_delta(current.disk_write, previous.disk_write),
            net_rx_bytes=rx,
            net_tx_bytes=tx,
            gpus=tuple(self._gpu.sample()),
            host_energy_mj=self._rapl.sample_mj(),
        )

    def _check_drift(self, timeline_us: int) -> None:
        drift = self._wall_ns() // 1000 - timeline_us
        if abs(drift - self._reported_drift_us) > MAX_DRIFT_US:
            self._reported_drift_us = drift
            logger.warning(
                "the wall clock is %+.1f s from the agent's timeline (clock stepped?); samples keep the "
                "timeline, restart the agent to re-anchor it",
                drift / 1e6,
            )

    def logins(self) -> list[Login]:
        """OS login sessions now (user, terminal, remote host, start)."""
        return [
            Login(u.name, u.terminal or "", u.host or "", int(u.started * 1_000_000))
            for u in self._ps.users()
        ]

    def boot_time_us(self) -> int:
        return int(self._ps.boot_time() * 1_000_000)
