"""Host CPU energy from RAPL (Intel and AMD package energy counters under /sys/class/powercap).

Each top-level zone `intel-rapl:N` (one per CPU package; its sub-zones `intel-rapl:N:M` are parts of it and
not added again) has `energy_uj`, a microjoule counter that wraps at `max_energy_range_uj`. The sampler
reads every package each sample and returns the energy used since the last reading, in millijoules
(microjoules carried over, so nothing is lost to rounding). Where no zone is readable (no RAPL, or
energy_uj readable by root only, as on recent kernels) the host's energy is not metered: logged once.
"""

from __future__ import annotations

import logging
from pathlib import Path

logger = logging.getLogger(__name__)

POWERCAP = Path("/sys/class/powercap")


class RaplSampler:
    """Package energy used between readings; `root` is the powercap directory (a fake one in tests)."""

    def __init__(self, root: Path = POWERCAP) -> None:
        self._zones = sorted(p for p in root.glob("intel-rapl:*") if p.name.count(":") == 1)
        self._last: dict[Path, int] = {}
        self._carry_uj = 0
        self._warned = False
        for zone in list(self._zones):
            reading = self._counter(zone)
            if reading is None:
                self._zones.remove(zone)
            else:
                self._last[zone] = reading
        if not self._zones:
            self._not_metered(f"no readable RAPL energy counter under {root}")

    @property
    def present(self) -> bool:
        return bool(self._zones)

    def sample_mj(self) -> int:
        """Millijoules the CPU packages used since the previous call (0 where not metered)."""
        used_uj = self._carry_uj
        for zone in self._zones:
            reading = self._counter(zone)
            if reading is None:
                continue
            previous = self._last[zone]
            self._last[zone] = reading
            if reading >= previous:
                used_uj += reading - previous
            else:  # wrapped at max_energy_range_uj
                used_uj += self._range(zone) - previous + reading
        self._carry_uj = used_uj % 1000
        return used_uj // 1000

    def _counter(self, zone: Path) -> int | None:
        try:
            return int((zone / "energy_uj").read_text().strip())
        except (OSError, ValueError) as exc:
            self._not_metered(f"RAPL zone {zone.name} unreadable ({exc})")
            return None

    def _range(self, zone: Path) -> int:
        try:
            return int((zone / "max_energy_range_uj").read_text().strip())
        except (OSError, ValueError):
            return 0  # unknown range: the wrapped reading counts from zero

    def _not_metered(self, why: str) -> None:
        if not self._warned:
            logger.warning("host CPU energy not metered: %s", why)
            self._warned = True
