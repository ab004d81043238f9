"""The collector's clock ignores wall-clock steps while it runs."""

import pytest

from collector.core.clock import SteadyClock, to_us


def test_steps_of_the_wall_clock_do_not_move_the_collectors_clock(caplog: pytest.LogCaptureFixture) -> None:
    wall, steady = [1_700_000_000 * 10**9], [5 * 10**9]
    clock = SteadyClock(lambda: wall[0], lambda: steady[0])
    start = to_us(clock())
    steady[0] += 10 * 10**9
    wall[0] += 10 * 10**9 - 3600 * 10**9  # ten seconds pass and the clock is stepped back an hour
    assert to_us(clock()) - start == 10_000_000
    assert "restart it to re-anchor" in caplog.text
    steady[0] += 10**9
    wall[0] += 10**9
    assert to_us(clock()) - start == 11_000_000
