"""What this machine is: the facts sent at enrollment."""

from __future__ import annotations

import platform
import socket
from dataclasses import dataclass
from pathlib import Path

import psutil

from agent import __version__
from agent.gpu import GpuInfo, gpu_inventory


@dataclass(frozen=True)
class MachineFacts:
    hostname: str
    os: str
    cpu_model: str
    cpu_cores_logical: int
    cpu_cores_physical: int
    memory_bytes: int
    gpus: tuple[GpuInfo, ...]
    boot_time_us: int
    agent_version: str = __version__


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def collect_facts() -> MachineFacts:
    return MachineFacts(
        hostname=socket.gethostname(),
        os=f"{platform.system()} {platform.release()} ({platform.machine()})",
        cpu_model=cpu_model(),
        cpu_cores_logical=psutil.cpu_count(logical=True) or 0,
        cpu_cores_physical=psutil.cpu_count(logical=False) or 0,
        memory_bytes=psutil.virtual_memory().total,
        gpus=tuple(gpu_inventory()),
        boot_time_us=int(psutil.boot_time() * 1_000_000),
    )
