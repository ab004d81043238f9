import time

import psutil
import pytest

from agent.sampler import Sampler, counter_delta, is_loopback
from tests.agent.fake_psutil import Clock, FakePsutil


def make(ps: FakePsutil, clock: Clock) -> Sampler:
    return Sampler(
        ps, wall_ns=lambda: clock.wall_ns, mono_ns=lambda: clock.mono_ns, boot_ns=lambda: clock.boot_ns
    )


def test_samples_are_back_to_back_and_count_deltas() -> None:
    ps, clock = FakePsutil(), Clock()
    sampler = make(ps, clock)
    clock.advance(1)
    ps.busy += 0.5
    ps.idle += 1.5
    ps.nics = {"eth0": (1000, 400), "lo": (10**9, 10**9)}
    ps.disk = (4096, 8192)
    first = sampler.sample()
    clock.advance(1)
    ps.nics = {"eth0": (1500, 500), "lo": (2 * 10**9, 2 * 10**9)}
    second = sampler.sample()
    assert first.end_us - first.start_us == 1_000_000
    assert second.start_us == first.end_us
    assert (first.cpu_busy_us, first.cpu_utilization) == (500_000, 0.25)
    assert (first.net_rx_bytes, first.net_tx_bytes) == (1000, 400)  # loopback excluded
    assert (second.net_rx_bytes, second.net_tx_bytes) == (500, 100)
    assert (first.disk_read_bytes, first.disk_write_bytes) == (4096, 8192)
    assert first.memory_used_bytes == 2 * 2**30


def test_counter_reset_never_goes_negative() -> None:
    assert counter_delta(100, 5000) == 100  # reset, counted from zero
    ps, clock = FakePsutil(nics={"eth0": (10**12, 10**12)}), Clock()
    sampler = make(ps, clock)
    ps.nics = {"eth0": (300, 200)}  # driver reload
    clock.advance(1)
    sample = sampler.sample()
    assert (sample.net_rx_bytes, sample.net_tx_bytes) == (300, 200)


def test_new_interface_starts_from_its_first_reading() -> None:
    ps, clock = FakePsutil(), Clock()
    sampler = make(ps, clock)
    ps.nics = {"eth0": (0, 0), "wlan0": (5 * 10**9, 10**9)}
    clock.advance(1)
    assert sampler.sample().net_rx_bytes == 0
    ps.nics = {"eth0": (0, 0), "wlan0": (5 * 10**9 + 7, 10**9)}
    clock.advance(1)
    assert sampler.sample().net_rx_bytes == 7


@pytest.mark.parametrize("step_s", [3600, -3600, 5, -5])
def test_wall_clock_step_neither_creates_erases_nor_moves_time(step_s: int, caplog) -> None:  # type: ignore[no-untyped-def]
    ps, clock = FakePsutil(), Clock()
    sampler = make(ps, clock)
    start = clock.wall_ns // 1000
    samples = []
    for n in range(6):
        if n == 3:
            clock.wall_ns += step_s * 10**9  # NTP, an admin or a renter moves the clock
        clock.advance(1)
        samples.append(sampler.sample())
    assert [(s.start_us - start, s.end_us - start) for s in samples] == [
        (n * 1_000_000, (n + 1) * 1_000_000) for n in range(6)
    ]
    assert "restart the agent to re-anchor" in caplog.text


def test_suspend_is_a_gap_not_billable_time() -> None:
    ps, clock = FakePsutil(), Clock()
    sampler = make(ps, clock)
    clock.advance(1)
    before = sampler.sample()
    clock.advance(0.5)
    clock.suspend(600)
    clock.advance(0.5)
    after = sampler.sample()
    assert after.end_us - after.start_us == 1_000_000  # only the time the machine was awake
    assert after.start_us - before.end_us == 600_000_000  # the suspend is a gap


def test_loopback_names() -> None:
    assert is_loopback("lo") and is_loopback("lo0") and is_loopback("Loopback Pseudo-Interface 1")
    assert not is_loopback("eth0") and not is_loopback("wlo1") and not is_loopback("lom")


def test_logins_and_boot_time() -> None:
    sampler = make(FakePsutil(), Clock())
    (login,) = sampler.logins()
    assert (login.user, login.terminal, login.host, login.started_us) == (
        "alice",
        "pts/0",
        "10.0.0.9",
        1_700_000_000_500_000,
    )
    assert sampler.boot_time_us() == 1_699_999_000_000_000


def test_real_machine_readings_are_consistent_with_psutil() -> None:
    """Against the real OS: durations follow the clock and counters agree with psutil's own totals."""
    before = psutil.net_io_counters(pernic=True, nowrap=True)
    sampler = Sampler()
    time.sleep(0.3)
    sample = sampler.sample()
    after = psutil.net_io_counters(pernic=True, nowrap=True)
    assert 250_000 <= sample.end_us - sample.start_us <= 2_000_000
    assert abs(sample.start_us - time.time_ns() // 1000) < 5_000_000
    assert 0 <= sample.cpu_utilization <= 1
    assert sample.cpu_busy_us <= (sample.end_us - sample.start_us) * psutil.cpu_count() * 1.05
    assert sample.memory_total_bytes == psutil.virtual_memory().total
    ceiling = sum(
        after[n].bytes_recv - before[n].bytes_recv for n in after if n in before and not is_loopback(n)
    )
    assert 0 <= sample.net_rx_bytes <= ceiling
