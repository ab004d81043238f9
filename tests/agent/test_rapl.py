"""Host CPU energy from RAPL counters, read from a fake powercap directory laid out like the kernel's."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.rapl import RaplSampler
from agent.sampler import Sampler
from agent.wire import sample_to_proto
from tests.agent.fake_psutil import Clock, FakePsutil


def zone(root: Path, name: str, energy_uj: int, max_range_uj: int = 262_143_328_850) -> Path:
    path = root / name
    path.mkdir(parents=True)
    (path / "energy_uj").write_text(f"{energy_uj}\n")
    (path / "max_energy_range_uj").write_text(f"{max_range_uj}\n")
    return path


def set_energy(path: Path, energy_uj: int) -> None:
    (path / "energy_uj").write_text(f"{energy_uj}\n")


def test_packages_add_up_sub_zones_are_not_counted_twice_and_microjoules_carry(tmp_path: Path) -> None:
    first, second = zone(tmp_path, "intel-rapl:0", 1_000_000), zone(tmp_path, "intel-rapl:1", 5_000_000)
    core = zone(tmp_path, "intel-rapl:0:0", 0)  # a part of package 0
    sampler = RaplSampler(tmp_path)
    assert sampler.present
    set_energy(first, 1_000_000 + 30_000_400)  # 30.0004 J
    set_energy(second, 5_000_000 + 20_000_000)  # 20 J
    set_energy(core, 99_000_000)
    assert sampler.sample_mj() == 50_000  # 50.0004 J: 400 uJ carried
    set_energy(first, 1_000_000 + 30_000_400 + 600)
    assert sampler.sample_mj() == 1  # 600 + 400 carried = 1 mJ


def test_a_counter_that_wraps_counts_through_its_range(tmp_path: Path) -> None:
    package = zone(tmp_path, "intel-rapl:0", 999_000, max_range_uj=1_000_000)
    sampler = RaplSampler(tmp_path)
    set_energy(package, 4_000)  # 1,000 uJ to the wrap, then 4,000: 5 mJ
    assert sampler.sample_mj() == 5


def test_unreadable_counters_are_not_metered_and_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    package = zone(tmp_path, "intel-rapl:0", 1)
    (package / "energy_uj").chmod(0)
    readable = _can_read(package / "energy_uj")
    sampler = RaplSampler(tmp_path)
    if readable:  # running as root: permissions do not stop reading; a missing file does
        (package / "energy_uj").unlink()
        sampler = RaplSampler(tmp_path)
    assert not sampler.present and sampler.sample_mj() == 0 and sampler.sample_mj() == 0
    assert sum("host CPU energy not metered" in m for m in caplog.messages) == 1
    assert not RaplSampler(tmp_path / "absent").present


def _can_read(path: Path) -> bool:
    try:
        path.read_text()
    except OSError:
        return False
    return True


def test_the_sampler_reports_host_energy_in_its_samples_and_on_the_wire(tmp_path: Path) -> None:
    package = zone(tmp_path, "intel-rapl:0", 0)
    ps, clock = FakePsutil(), Clock()
    sampler = Sampler(ps, wall_ns=lambda: clock.wall_ns, mono_ns=lambda: clock.mono_ns,
                      boot_ns=lambda: clock.boot_ns, rapl=RaplSampler(tmp_path))  # fmt: skip
    clock.advance(1)
    set_energy(package, 65_000_000)  # 65 W for a second
    reading = sampler.sample()
    assert reading.host_energy_mj == 65_000
    assert sample_to_proto(reading).host_energy_mj == 65_000
