"""Charts of usage insights as PNG or SVG files, drawn by matplotlib without a display (Agg).

Hours of week are drawn as a 7 x 24 grid (Monday at the top, hour 0 on the left) in the zone the
collector counted them in: the renter's for a renter, UTC for the fleet.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rentmeter.errors import UsageError

if TYPE_CHECKING:
    from protos.rentmeter.v1 import insights_pb2

FORMATS = (".png", ".svg")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def chart_path(text: str) -> Path:
    """The chart file of `--chart`: a .png or .svg name (UsageError, exit 2, otherwise)."""
    path = Path(text)
    if path.suffix.lower() not in FORMATS:
        raise UsageError(f"--chart {text}: name a .png or .svg file, e.g. profile.png")
    if not path.parent.is_dir():
        raise UsageError(f"--chart {text}: the folder {path.parent} does not exist")
    return path


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # headless: no display needed
    import matplotlib.pyplot as plt

    return plt


def _week_grid(axes: Any, values: list[float], title: str, unit: str) -> None:
    grid = [values[day * 24 : day * 24 + 24] for day in range(7)]
    image = axes.imshow(grid, aspect="auto", cmap="viridis")
    axes.set_yticks(range(7), DAYS)
    axes.set_xticks(range(0, 24, 3), [f"{h:02d}" for h in range(0, 24, 3)])
    axes.set_title(title)
    axes.figure.colorbar(image, ax=axes, label=unit)


def renter_chart(profile: insights_pb2.RenterProfile, path: Path) -> None:
    """When the renter rents (hours of week), how long its sessions last, what it spends per week."""
    plt = _pyplot()
    figure, (week, lengths, spend) = plt.subplots(3, 1, figsize=(9, 11), layout="constrained")
    hours = [s / 3600 for s in profile.hour_of_week_seconds]
    _week_grid(week, hours, f"{profile.renter}: rented hours by hour of week ({profile.time_zone})", "hours")
    lengths.bar([b.label for b in profile.session_lengths], [b.sessions for b in profile.session_lengths])
    lengths.set_title(f"session lengths ({profile.sessions} sessions)")
    lengths.set_ylabel("sessions")
    weeks = [w.week for w in profile.spend_per_week]
    amounts = [w.spent.minor_units for w in profile.spend_per_week]
    currencies = sorted({w.spent.currency for w in profile.spend_per_week})
    spend.bar(weeks, amounts)
    spend.set_title("spend per week (minor units of " + (", ".join(currencies) or "no currency") + ")")
    spend.tick_params(axis="x", labelrotation=45)
    figure.savefig(path)
    plt.close(figure)


def fleet_chart(fleet: insights_pb2.FleetProfile, path: Path) -> None:
    """Per machine class: the rented share of its machines' time by hour of week (UTC)."""
    plt = _pyplot()
    classes = list(fleet.classes) or []
    figure, axes = plt.subplots(
        max(1, len(classes)), 1, figsize=(9, 3 + 2.5 * len(classes)), layout="constrained", squeeze=False
    )
    for row, profile in zip(axes, classes, strict=False):
        shares = [100 * s for s in profile.occupancy]
        title = f"{profile.machine_class}: occupancy by hour of week (UTC), {profile.machines} machines"
        _week_grid(row[0], shares, title, "% rented")
    if not classes:
        axes[0][0].set_title("no class profiles yet")
    figure.savefig(path)
    plt.close(figure)


def backtest_chart(rows: list[dict[str, str]], multipliers: dict[str, list[float]], currency: str,
                   path: Path) -> None:  # fmt: skip
    """A backtest beside the static prices: revenue and occupancy per class (static, dynamic), and the
    multiplier the policy set at each step of each class."""
    plt = _pyplot()
    figure, (revenue, occupancy, steps) = plt.subplots(3, 1, figsize=(9, 10), layout="constrained")
    classes = [row["class"] for row in rows]
    positions = list(range(len(classes)))
    width = 0.38
    for axes, key, label in ((revenue, "revenue", f"revenue ({currency})"),
                             (occupancy, "occupancy_percent", "occupancy (%)")):  # fmt: skip
        axes.bar([p - width / 2 for p in positions], [float(r[f"static_{key}"]) for r in rows], width,
                 label="static")  # fmt: skip
        axes.bar([p + width / 2 for p in positions], [float(r[f"dynamic_{key}"]) for r in rows], width,
                 label="dynamic")  # fmt: skip
        axes.set_xticks(positions, classes)
        axes.set_ylabel(label)
        axes.legend()
    for name, values in multipliers.items():
        steps.step(range(len(values)), values, where="post", label=name)
    steps.set_ylabel("multiplier")
    steps.set_xlabel("step")
    if multipliers:
        steps.legend()
    revenue.set_title("backtest: static prices beside the policy")
    figure.savefig(path)
    plt.close(figure)
