"""NVIDIA GPUs through NVML (nvidia-ml-py). Without a driver or a GPU, everything here is an empty no-op.

Per GPU and interval: utilization, memory, power, the energy used (from the cumulative energy counter) and
the processes using it (process ids and memory only: names and command lines are never collected).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GpuInfo:
    name: str
    uuid: str
    memory_bytes: int


@dataclass(frozen=True, slots=True)
class GpuReading:
    index: int
    uuid: str
    utilization_percent: int
    memory_utilization_percent: int
    memory_used_bytes: int
    memory_total_bytes: int
    power_mw: int
    energy_mj: int  # used during the interval
    processes: tuple[tuple[int, int], ...]  # (pid, used GPU memory in bytes)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def load_nvml(module: Any | None = None) -> Any | None:
    """NVML (the pynvml module unless `module` is given), initialised; None when it or its driver is
    missing."""
    if module is None:
        try:
            import pynvml
        except ImportError:
            return None
        module = pynvml
    try:
        module.nvmlInit()
    except module.NVMLError as exc:
        logger.debug("no NVIDIA GPU metrics: %s", exc)
        return None
    return module


def gpu_inventory(nvml: Any | None = None) -> list[GpuInfo]:
    """Model, UUID and memory of each GPU; [] without NVML."""
    nvml = nvml if nvml is not None else load_nvml()
    if nvml is None:
        return []
    gpus = []
    try:
        for index in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            name, uuid = _text(nvml.nvmlDeviceGetName(handle)), _text(nvml.nvmlDeviceGetUUID(handle))
            gpus.append(GpuInfo(name, uuid, int(nvml.nvmlDeviceGetMemoryInfo(handle).total)))
    except nvml.NVMLError as exc:
        logger.warning("reading GPU inventory failed: %s", exc)
    return gpus


class GpuSampler:
    """Reads every GPU once per sample. A metric a GPU does not support reads as 0."""

    def __init__(self, nvml: Any | None = None) -> None:
        self._nvml: Any = nvml if nvml is not None else load_nvml()  # None: no NVML, and no devices
        self._devices: list[tuple[int, str, Any]] = []
        self._energy: dict[int, int] = {}
        self._lost: set[str] = set()  # GPUs that stopped answering (logged once)
        if self._nvml is None:
            return
        try:
            for index in range(self._nvml.nvmlDeviceGetCount()):
                handle = self._nvml.nvmlDeviceGetHandleByIndex(index)
                self._devices.append((index, _text(self._nvml.nvmlDeviceGetUUID(handle)), handle))
                self._energy[index] = self._call(self._nvml.nvmlDeviceGetTotalEnergyConsumption, handle, 0)
        except self._nvml.NVMLError as exc:
            logger.warning("GPU metrics unavailable: %s", exc)
            self._devices = []

    @property
    def present(self) -> bool:
        return bool(self._devices)

    def sample(self) -> list[GpuReading]:
        """A reading of every GPU that answers; a lost GPU (fallen off the bus, its driver gone) is left
        out, so the collector sees fewer GPUs than the machine enrolled with (an SLA credit)."""
        readings = []
        for index, uuid, handle in self._devices:
            if self._answers(uuid, handle):
                readings.append(self._read(index, uuid, handle))
        return readings

    def _answers(self, uuid: str, handle: Any) -> bool:
        try:
            self._nvml.nvmlDeviceGetUUID(handle)
        except self._nvml.NVMLError as exc:
            if uuid not in self._lost:
                logger.warning(
                    "GPU %s does not answer (%s): left out of the samples until it does", uuid, exc
                )
            self._lost.add(uuid)
            return False
        if uuid in self._lost:
            logger.warning("GPU %s answers again", uuid)
            self._lost.discard(uuid)
        return True

    def _read(self, index: int, uuid: str, handle: Any) -> GpuReading:
        nvml = self._nvml
        rates = self._call(nvml.nvmlDeviceGetUtilizationRates, handle, None)
        memory = self._call(nvml.nvmlDeviceGetMemoryInfo, handle, None)
        energy = self._call(nvml.nvmlDeviceGetTotalEnergyConsumption, handle, 0)
        previous = self._energy.get(index, energy)
        self._energy[index] = energy
        processes = {}
        for query in (nvml.nvmlDeviceGetComputeRunningProcesses, nvml.nvmlDeviceGetGraphicsRunningProcesses):
            for process in self._call(query, handle, []):
                processes[int(process.pid)] = int(process.usedGpuMemory or 0)
        return GpuReading(
            index=index,
            uuid=uuid,
            utilization_percent=int(rates.gpu) if rates else 0,
            memory_utilization_percent=int(rates.memory) if rates else 0,
            memory_used_bytes=int(memory.used) if memory else 0,
            memory_total_bytes=int(memory.total) if memory else 0,
            power_mw=int(self._call(nvml.nvmlDeviceGetPowerUsage, handle, 0)),
            energy_mj=energy - previous if energy >= previous else energy,  # a reset counts from zero
            processes=tuple(sorted(processes.items())),
        )

    def _call(self, function: Any, handle: Any, default: Any) -> Any:
        try:
            return function(handle)
        except self._nvml.NVMLError:
            return default
