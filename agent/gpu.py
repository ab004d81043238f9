"""NVIDIA GPUs through NVML (nvidia-ml-py). Without a driver or a GPU, every function returns nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import ModuleType
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GpuInfo:
    name: str
    uuid: str
    memory_bytes: int


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def load_nvml() -> ModuleType | None:
    """The pynvml module, initialised; None when NVML or its driver is missing."""
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        logger.debug("no NVIDIA GPU metrics: %s", exc)
        return None
    return pynvml


def gpu_inventory(nvml: Any | None = None) -> list[GpuInfo]:
    """Model, UUID and memory of each GPU; [] without NVML."""
    nvml = nvml if nvml is not None else load_nvml()
    if nvml is None:
        return []
    gpus = []
    try:
        for index in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            memory = nvml.nvmlDeviceGetMemoryInfo(handle)
            gpus.append(
                GpuInfo(
                    _text(nvml.nvmlDeviceGetName(handle)),
                    _text(nvml.nvmlDeviceGetUUID(handle)),
                    int(memory.total),
                )
            )
    except nvml.NVMLError as exc:
        logger.warning("reading GPU inventory failed: %s", exc)
    return gpus
