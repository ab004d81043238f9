"""A stand-in for the pynvml functions the agent calls (a GPU cannot exist on the test machines).

It mirrors pynvml's interface: module-level functions, an NVMLError hierarchy, result structs with the
same attribute names, and NotSupported for metrics a board lacks."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace


class NVMLError(Exception):
    pass


class NVMLError_NotSupported(NVMLError):
    pass


class NVMLError_DriverNotLoaded(NVMLError):
    pass


class NVMLError_GpuIsLost(NVMLError):
    pass


@dataclass
class FakeGpu:
    name: bytes | str = "NVIDIA H100 80GB HBM3"
    uuid: str = "GPU-11111111-2222-3333-4444-555555555555"
    total: int = 80 * 2**30
    used: int = 2**30
    gpu_util: int = 0
    mem_util: int = 0
    power_mw: int = 70_000
    energy_mj: int = 1_000_000
    processes: list[tuple[int, int | None]] = field(default_factory=list)
    supports_energy: bool = True
    lost: bool = False  # fallen off the bus: every query fails with GpuIsLost


class FakeNvml:
    NVMLError = NVMLError

    def __init__(self, gpus: list[FakeGpu], *, driver: bool = True) -> None:
        self.gpus = gpus
        self.driver = driver

    def nvmlInit(self) -> None:
        if not self.driver:
            raise NVMLError_DriverNotLoaded("Driver Not Loaded")

    def nvmlDeviceGetCount(self) -> int:
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> FakeGpu:
        return self.gpus[index]

    def nvmlDeviceGetName(self, gpu: FakeGpu) -> bytes | str:
        return gpu.name

    def nvmlDeviceGetUUID(self, gpu: FakeGpu) -> str:
        if gpu.lost:
            raise NVMLError_GpuIsLost("GPU is lost")
        return gpu.uuid

    def nvmlDeviceGetMemoryInfo(self, gpu: FakeGpu) -> SimpleNamespace:
        return SimpleNamespace(total=gpu.total, used=gpu.used, free=gpu.total - gpu.used)

    def nvmlDeviceGetUtilizationRates(self, gpu: FakeGpu) -> SimpleNamespace:
        return SimpleNamespace(gpu=gpu.gpu_util, memory=gpu.mem_util)

    def nvmlDeviceGetPowerUsage(self, gpu: FakeGpu) -> int:
        return gpu.power_mw

    def nvmlDeviceGetTotalEnergyConsumption(self, gpu: FakeGpu) -> int:
        if not gpu.supports_energy:
            raise NVMLError_NotSupported("Not Supported")
        return gpu.energy_mj

    def nvmlDeviceGetComputeRunningProcesses(self, gpu: FakeGpu) -> list[SimpleNamespace]:
        return [SimpleNamespace(pid=pid, usedGpuMemory=mem) for pid, mem in gpu.processes]

    def nvmlDeviceGetGraphicsRunningProcesses(self, gpu: FakeGpu) -> list[SimpleNamespace]:
        return []
