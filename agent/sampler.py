"""Sampling this machine with psutil: back-to-back intervals of usage from cumulative counters.

Durations come from the monotonic clock, placement from the wall clock: each sample starts where the
previous one ended and lasts exactly the monotonic time elapsed, so a wall-clock step can neither create
nor erase billable time. When wall time and the chain of samples drift apart by more than MAX_DRIFT
(clock stepped, machine suspended), the next sample is re-anchored at the wall clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import psutil

MAX_DRIFT_US = 2_000_000


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


@dataclass(frozen=True, slots=True)
class _Counters:
    mono_ns: int
    wall_us: int
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
    ) -> None:
        self._ps = ps
        self._wall_ns = wall_ns
        self._mono_ns = mono_ns
        self._previous = self._read()
        self._next_start_us = self._previous.wall_us

    def _read(self) -> _Counters:
        cpu = self._ps.cpu_times()
        idle = cpu.idle + getattr(cpu, "iowait", 0.0)
        total = sum(cpu)
        disk = self._ps.disk_io_counters(nowrap=True)
        nics = self._ps.net_io_counters(pernic=True, nowrap=True)
        return _Counters(
            mono_ns=self._mono_ns(),
            wall_us=self._wall_ns() // 1000,
            cpu_busy_s=total - idle,
            cpu_total_s=total,
            disk_read=disk.read_bytes if disk else 0,
            disk_write=disk.write_bytes if disk else 0,
            net={nic: (c.bytes_recv, c.bytes_sent) for nic, c in nics.items() if not is_loopback(nic)},
        )

    def sample(self) -> SampleData:
        current, previous = self._read(), self._previous
        start_us = self._next_start_us
        end_us = start_us + max(0, (current.mono_ns - previous.mono_ns) // 1000)
        self._next_start_us = end_us if abs(current.wall_us - end_us) <= MAX_DRIFT_US else current.wall_us
        self._previous = current
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
        )

    def logins(self) -> list[Login]:
        """OS login sessions now (user, terminal, remote host, start)."""
        return [
            Login(u.name, u.terminal or "", u.host or "", int(u.started * 1_000_000))
            for u in self._ps.users()
        ]

    def boot_time_us(self) -> int:
        return int(self._ps.boot_time() * 1_000_000)
