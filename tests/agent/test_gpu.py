"""GPU metrics through NVML's interface (a fake NVML here; see README for the run on real hardware)."""

import pytest

from agent.gpu import GpuSampler, gpu_inventory, load_nvml
from tests.agent.fake_nvml import FakeGpu, FakeNvml


def test_inventory_reads_model_uuid_and_memory() -> None:
    nvml = FakeNvml([FakeGpu(name=b"NVIDIA A100-SXM4-40GB", total=40 * 2**30), FakeGpu(uuid="GPU-2")])
    inventory = gpu_inventory(nvml)
    assert [(g.name, g.memory_bytes) for g in inventory] == [
        ("NVIDIA A100-SXM4-40GB", 40 * 2**30), ("NVIDIA H100 80GB HBM3", 80 * 2**30)
    ]  # fmt: skip


def test_sampler_reads_utilization_memory_power_energy_and_processes() -> None:
    gpu = FakeGpu()
    sampler = GpuSampler(FakeNvml([gpu]))
    gpu.gpu_util, gpu.mem_util, gpu.used, gpu.power_mw = 87, 40, 30 * 2**30, 350_000
    gpu.energy_mj += 350_000  # 350 J in one second
    gpu.processes = [(4242, 29 * 2**30), (77, None)]
    (reading,) = sampler.sample()
    assert (reading.utilization_percent, reading.memory_utilization_percent) == (87, 40)
    assert (reading.memory_used_bytes, reading.power_mw, reading.energy_mj) == (30 * 2**30, 350_000, 350_000)
    assert reading.processes == ((77, 0), (4242, 29 * 2**30))


def test_energy_counter_reset_is_not_negative_and_unsupported_metrics_read_zero() -> None:
    gpu, old = FakeGpu(energy_mj=9_000_000), FakeGpu(uuid="GPU-old", supports_energy=False)
    sampler = GpuSampler(FakeNvml([gpu, old]))
    gpu.energy_mj = 5_000  # driver reload
    new, legacy = sampler.sample()
    assert new.energy_mj == 5_000 and legacy.energy_mj == 0


def test_no_driver_means_no_gpu_and_no_error() -> None:
    assert load_nvml(FakeNvml([FakeGpu()], driver=False)) is None
    assert load_nvml(FakeNvml([FakeGpu()])) is not None


def test_machine_without_gpus() -> None:
    sampler = GpuSampler(FakeNvml([]))
    assert not sampler.present and sampler.sample() == []


def test_this_machine_without_nvidia_driver_is_a_clean_no_op() -> None:
    """On the test machines there is no NVIDIA driver: NVML fails to initialise and nothing is reported."""
    if load_nvml() is not None:
        pytest.skip("an NVIDIA driver is present here")
    assert gpu_inventory() == [] and GpuSampler().sample() == []


def test_a_lost_gpu_is_left_out_of_the_samples_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    first, second = FakeGpu(uuid="GPU-1"), FakeGpu(uuid="GPU-2")
    sampler = GpuSampler(FakeNvml([first, second]))
    second.lost = True
    assert [r.uuid for r in sampler.sample()] == ["GPU-1"]
    assert [r.uuid for r in sampler.sample()] == ["GPU-1"]
    assert sum("GPU-2 does not answer" in m for m in caplog.messages) == 1
    second.lost = False
    assert [r.uuid for r in sampler.sample()] == ["GPU-1", "GPU-2"]
