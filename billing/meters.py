"""Meters: what is measured, in which base unit, and the units a price can be quoted per.

Base units are integers so that usage adds up exactly: microseconds of covered rental time, core-
microseconds of busy CPU, GPU-microseconds per GPU model, byte-microseconds of used memory, bytes of
traffic, millijoules of energy, and unit-microseconds of extra resources (e.g. 500 GB of storage held for
a second = 500 x 10^6 GB-microseconds). A price is per one "per" unit, e.g. per hour, per GB or per kWh.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal
from fractions import Fraction
from types import MappingProxyType

from billing.money import EXACT, to_decimal

_SECOND = 10**6
_HOUR = 3600 * _SECOND
# A month of a resource is 730 hours (a year of 8,760 hours / 12), the same for every calendar month.
MONTH_US = 730 * _HOUR

# meter -> {per: (base units in one per-unit, unit label)}; the first entry is the default.
_UNITS: dict[str, dict[str, tuple[int, str]]] = {
    "time": {"hour": (_HOUR, "h"), "minute": (60 * _SECOND, "min"), "second": (_SECOND, "s"),
             "day": (24 * _HOUR, "d")},
    "cpu": {"hour": (_HOUR, "core-h"), "second": (_SECOND, "core-s")},
    "gpu": {"hour": (_HOUR, "GPU-h"), "minute": (60 * _SECOND, "GPU-min"), "second": (_SECOND, "GPU-s")},
    "memory": {"hour": (10**9 * _HOUR, "GB-h")},
    "traffic_in": {"GB": (10**9, "GB"), "MB": (10**6, "MB"), "TB": (10**12, "TB"), "GiB": (2**30, "GiB")},
    "traffic_out": {"GB": (10**9, "GB"), "MB": (10**6, "MB"), "TB": (10**12, "TB"), "GiB": (2**30, "GiB")},
    "energy": {"kWh": (3_600_000_000, "kWh")},
    "resource": {"month": (MONTH_US, "month"), "day": (24 * _HOUR, "day"), "hour": (_HOUR, "h")},
}  # fmt: skip

METERS = tuple(_UNITS)

METER_NAMES = {
    "time": "rental time",
    "cpu": "CPU time",
    "gpu": "GPU time",
    "memory": "memory",
    "traffic_in": "network traffic received",
    "traffic_out": "network traffic sent",
    "energy": "energy",
    "resource": "resource",
}


def default_per(meter: str) -> str:
    return next(iter(_UNITS[meter]))


def allowed_pers(meter: str) -> tuple[str, ...]:
    return tuple(_UNITS[meter])


def unit_size(meter: str, per: str) -> int:
    """How many base units make one `per` unit of `meter` (KeyError for an unknown pair)."""
    return _UNITS[meter][per][0]


def unit_label(meter: str, per: str, resource_unit: str = "") -> str:
    label = _UNITS[meter][per][1]
    return f"{resource_unit}-{label}" if meter == "resource" and resource_unit else label


@dataclass(frozen=True, slots=True)
class Usage:
    """Measured usage of one machine over one stretch of time, in base units (all non-negative ints).

    covered_us: rental time covered by the machine's reports (silence is not billed).
    net_rx_bytes / net_tx_bytes: traffic received / sent.
    cpu_busy_us: busy CPU time summed over cores (core-microseconds).
    memory_byte_us: used memory integrated over time (bytes x microseconds).
    energy_mj: energy measured (GPU power; hosts without a power meter report none), millijoules.
    gpu_us: GPU-microseconds per GPU model name (two GPUs for one second = 2 x 10^6).
    """

    covered_us: int = 0
    net_rx_bytes: int = 0
    net_tx_bytes: int = 0
    cpu_busy_us: int = 0
    memory_byte_us: int = 0
    energy_mj: int = 0
    gpu_us: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in (
            "covered_us",
            "net_rx_bytes",
            "net_tx_bytes",
            "cpu_busy_us",
            "memory_byte_us",
            "energy_mj",
        ):
            _check_count(name, getattr(self, name))
        for model, micros in self.gpu_us.items():
            _check_count(f"gpu_us[{model}]", micros)
        object.__setattr__(self, "gpu_us", MappingProxyType(dict(self.gpu_us)))

    def __add__(self, other: Usage) -> Usage:
        gpus = dict(self.gpu_us)
        for model, micros in other.gpu_us.items():
            gpus[model] = gpus.get(model, 0) + micros
        return Usage(
            self.covered_us + other.covered_us,
            self.net_rx_bytes + other.net_rx_bytes,
            self.net_tx_bytes + other.net_tx_bytes,
            self.cpu_busy_us + other.cpu_busy_us,
            self.memory_byte_us + other.memory_byte_us,
            self.energy_mj + other.energy_mj,
            gpus,
        )

    def quantities(self) -> Iterator[tuple[str, str, int]]:
        """(meter, key, base quantity) for every measured meter; key is the GPU model for "gpu"."""
        yield "time", "", self.covered_us
        yield "cpu", "", self.cpu_busy_us
        for model in sorted(self.gpu_us):
            yield "gpu", model, self.gpu_us[model]
        yield "memory", "", self.memory_byte_us
        yield "traffic_in", "", self.net_rx_bytes
        yield "traffic_out", "", self.net_tx_bytes
        yield "energy", "", self.energy_mj


def to_units(base: int | Fraction, meter: str, per: str) -> Fraction:
    """A base quantity in `per` units, exactly."""
    return Fraction(base) / unit_size(meter, per)


def display_quantity(
    base: int | Fraction, meter: str, per: str, resource_unit: str = ""
) -> tuple[Decimal, str]:
    """A quantity as shown on an invoice line: time-like meters in seconds, others in the price's unit;
    at most nine decimal places (round half up), so that shown quantities add up."""
    if meter in _TIME_LIKE:
        size, label = _SECOND, _TIME_LIKE[meter]
    else:
        size, label = unit_size(meter, per), unit_label(meter, per, resource_unit)
    value = to_decimal(Fraction(base) / size)
    # Nine places of a quantity beyond 10^50 need more digits than EXACT keeps (such usage is refused by
    # the range check, which needs its description first).
    context = EXACT if value.adjusted() < 50 else Context(prec=value.adjusted() + 11, rounding=ROUND_HALF_UP)
    return value.quantize(_NINE_PLACES, rounding=ROUND_HALF_UP, context=context).normalize(context), label


_TIME_LIKE = {"time": "s", "cpu": "core-s", "gpu": "GPU-s"}
_NINE_PLACES = Decimal("1e-9")


def _check_count(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")
