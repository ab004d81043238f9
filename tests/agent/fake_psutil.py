"""A scriptable stand-in for the few psutil functions the sampler reads (the OS is what we fake)."""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field

CpuTimes = namedtuple("CpuTimes", "user nice system idle iowait irq softirq steal")
NetIO = namedtuple("NetIO", "bytes_sent bytes_recv")
DiskIO = namedtuple("DiskIO", "read_bytes write_bytes")
Memory = namedtuple("Memory", "total used")
User = namedtuple("User", "name terminal host started")


@dataclass
class FakePsutil:
    busy: float = 100.0
    idle: float = 1000.0
    nics: dict[str, tuple[int, int]] = field(default_factory=lambda: {"eth0": (0, 0), "lo": (0, 0)})
    disk: tuple[int, int] = (0, 0)

    def cpu_times(self) -> CpuTimes:
        return CpuTimes(self.busy, 0.0, 0.0, self.idle, 0.0, 0.0, 0.0, 0.0)

    def net_io_counters(self, pernic: bool, nowrap: bool) -> dict[str, NetIO]:
        return {nic: NetIO(bytes_sent=tx, bytes_recv=rx) for nic, (rx, tx) in self.nics.items()}

    def disk_io_counters(self, nowrap: bool) -> DiskIO:
        return DiskIO(*self.disk)

    def virtual_memory(self) -> Memory:
        return Memory(total=8 * 2**30, used=2 * 2**30)

    def users(self) -> list[User]:
        return [User("alice", "pts/0", "10.0.0.9", 1_700_000_000.5)]

    def boot_time(self) -> float:
        return 1_699_999_000.0


class Clock:
    """Wall, monotonic and boot-time nanoseconds that tests move by hand."""

    def __init__(self, wall_s: float = 1_700_000_000.0) -> None:
        self.wall_ns = int(wall_s * 1e9)
        self.mono_ns = 5_000_000_000
        self.boot_ns = 7_000_000_000

    def advance(self, seconds: float) -> None:
        self.wall_ns += int(seconds * 1e9)
        self.mono_ns += int(seconds * 1e9)
        self.boot_ns += int(seconds * 1e9)

    def suspend(self, seconds: float) -> None:
        """Time passes for the wall and boot-time clocks only."""
        self.wall_ns += int(seconds * 1e9)
        self.boot_ns += int(seconds * 1e9)
