"""Time packs: prepaid rental time, bought from the wallet and consumed at the machine class's burn rate.

A plan offers packs (`[[packs]]` in its document): a name, a price, an amount of pack time (none: a pass,
unlimited while valid), how long it stays valid after purchase, and optionally a window of the plan (a
night pack counts only between 23:00 and 07:00). `[burn_rates]` says how fast each machine class uses pack
time: at 1.5 an hour on a GPU box uses 1 h 30 min of a pack (classes not named burn at 1).

Rating a session with the renter's packs (RentalTerms.packs): each segment's covered rental time is paid
from the packs valid in it, in a stated order: the pack expiring first, then the one bought first, then by
id. What the packs cannot pay (used up, expired, outside their window) is metered by the plan's price as
ever; the other meters (traffic, GPU time, resources) are never paid by packs. Each pack used in the
session is an invoice line of amount 0 (it was paid when bought) whose quantity is the pack time used, in
seconds, with the wall time, burn rate, time left and the moment it ran out in its description.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from billing.calendar import local_date
from billing.charges import Charge, Piece
from billing.errors import InvalidPlan
from billing.meters import Usage
from billing.money import Money, to_decimal

if TYPE_CHECKING:
    from billing.plan import PricePlan
    from billing.rated_lines import Segment

MICROS = 1_000_000
PACK_METER = "pack"


@dataclass(frozen=True, slots=True)
class PackOffer:
    """A pack a plan sells: `time_us` of pack time (None: unlimited while valid), valid for `valid_for_us`
    from purchase, usable only inside the plan window `window` when one is named."""

    name: str
    price: Decimal
    time_us: int | None
    valid_for_us: int
    window: str = ""

    def describe(self, currency: str) -> str:
        amount = "unlimited time" if self.time_us is None else duration_text(self.time_us)
        where = f", in {self.window}" if self.window else ""
        price = Money.of(self.price, currency)
        days, rest = divmod(self.valid_for_us, 86_400 * MICROS)
        valid = f"{days} day{'s' * (days != 1)}" if days and not rest else duration_text(self.valid_for_us)
        return f"{self.name}: {amount} for {price}, valid {valid}{where}"


@dataclass(frozen=True, slots=True)
class HeldPack:
    """A pack a renter holds, as one session sees it: the pack time left before this session (None:
    unlimited), its validity and window."""

    id: str
    name: str
    left_us: int | None
    valid_from: datetime
    valid_until: datetime
    window: str = ""


def check_offers(
    packs: Sequence[PackOffer], windows: Sequence[str], burn_rates: Mapping[str, Decimal]
) -> None:
    """InvalidPlan when the plan's packs or burn rates do not make sense."""
    names = [p.name for p in packs]
    if len(set(names)) != len(names):
        raise InvalidPlan("packs: two packs have the same name")
    for pack in packs:
        if not pack.name.strip() or len(pack.name) > 30:
            raise InvalidPlan(f"name: pack names must be 1 to 30 characters: {pack.name!r}")
        if pack.window and pack.window not in windows:
            raise InvalidPlan(f"window: no window is named {pack.window!r}")
        if (pack.time_us is not None and pack.time_us <= 0) or pack.valid_for_us <= 0:
            raise InvalidPlan(f"pack {pack.name!r}: time and valid_for must be positive durations")
    for machine_class, rate in burn_rates.items():
        if not 0 < rate <= 100:
            raise InvalidPlan(f"burn_rates: the rate of {machine_class!r} must be above 0 and at most 100")


def consumption_order(packs: Sequence[HeldPack]) -> list[HeldPack]:
    """The order packs are used in: expiring first, then bought first, then by id."""
    return sorted(packs, key=lambda p: (p.valid_until, p.valid_from, p.id))


def cut_at_packs(found: list[Segment], packs: Sequence[HeldPack]) -> list[Segment]:
    """Segments cut again where a pack becomes valid or expires."""
    if not packs:
        return found
    cuts = sorted({moment for p in packs for moment in (p.valid_from, p.valid_until)})
    result = []
    for segment in found:
        points = [segment.start, *(c for c in cuts if segment.start < c < segment.end), segment.end]
        result += [replace(segment, start=a, end=b) for a, b in itertools.pairwise(points)]
    return result


@dataclass
class _Use:
    pack: HeldPack
    burn: Fraction
    wall_us: int = 0
    pack_us: Fraction = Fraction(0)
    ran_out: datetime | None = None
    pieces: list[Piece] = field(default_factory=list)


def consume_packs(
    plans: Sequence[PricePlan],
    machine_class: str,
    packs: Sequence[HeldPack],
    parts: Sequence[tuple[Segment, Usage]],
) -> tuple[list[tuple[Segment, Usage]], list[Charge]]:
    """(segment, usage) parts with the rental time the packs pay taken out of their covered time, and one
    line per pack used. `plans`: the plan versions the segments index."""
    if not packs:
        return list(parts), []
    order = consumption_order(packs)
    left = {p.id: None if p.left_us is None else Fraction(p.left_us) for p in order}
    uses: dict[str, _Use] = {}
    result = []
    for segment, usage in parts:
        version = plans[segment.version]
        burn = Fraction(version.burn_rates.get(machine_class, Decimal(1)))
        remaining = usage.covered_us
        for pack in order:
            if not remaining or not _usable(pack, segment, version):
                continue
            room = left[pack.id]
            wall = remaining if room is None else min(remaining, math.ceil(room / burn))
            if wall <= 0:
                continue
            used = wall * burn if room is None else min(room, wall * burn)
            if room is not None:
                left[pack.id] = room - used
            use = uses.setdefault(pack.id, _Use(pack, burn))
            use.wall_us += wall
            use.pack_us += used
            share = Fraction(usage.covered_us - remaining + wall, usage.covered_us)
            at = segment.start + (segment.end - segment.start) * share.numerator / share.denominator
            if room is not None and left[pack.id] == 0:
                use.ran_out = at
            use.pieces.append(Piece(segment.start, segment.end, segment.window, _seconds(used), Decimal(0)))
            remaining -= wall
        result.append((segment, replace(usage, covered_us=remaining)))
    currency = plans[0].currency
    return result, [_line(use, left[use.pack.id], machine_class, currency) for use in uses.values()]


def _usable(pack: HeldPack, segment: Segment, version: PricePlan) -> bool:
    if not pack.valid_from <= segment.start < pack.valid_until:
        return False
    if not pack.window:
        return True
    window = next((w for w in version.windows if w.name == pack.window), None)
    if window is None:
        return False
    day = local_date(segment.start, version.tzinfo)
    spans = window.intervals(version.tzinfo, day - timedelta(days=1), day, version.holidays)
    return any(a <= segment.start < b for a, b in spans)


def _line(use: _Use, left: Fraction | None, machine_class: str, currency: str) -> Charge:
    pack = use.pack
    text = f"{pack.name} pack: {duration_text(use.wall_us)} of rental time"
    if use.burn != 1:
        text += f" at x{format(to_decimal(use.burn).normalize(), 'f')} ({machine_class})"
    text += f" used {duration_text(use.pack_us)} of pack time"
    if left is None:
        text += f"; unlimited until {pack.valid_until.isoformat(timespec='seconds')}"
    else:
        text += f"; {duration_text(left)} left"
    if use.ran_out is not None:
        text += f", ran out at {use.ran_out.isoformat(timespec='seconds')}"
    return Charge(
        meter=f"{PACK_METER}:{pack.id}",
        description=text,
        quantity=_seconds(use.pack_us),
        unit="s",
        rate=to_decimal(use.burn).normalize(),
        rate_unit="",
        amount=Decimal(0),
        currency=currency,
        pieces=tuple(use.pieces),
    )


def pack_use_us(charges: Sequence[Charge]) -> dict[str, int]:
    """Pack id -> pack time the charges used, whole microseconds (rounded up)."""
    return {
        c.meter.split(":", 1)[1]: int(c.quantity * MICROS)
        for c in charges
        if c.meter.startswith(PACK_METER + ":")
    }


def _seconds(pack_us: Fraction) -> Decimal:
    """Pack time in seconds, rounded up to the microsecond (what a pack's balance is kept in)."""
    return Decimal(math.ceil(pack_us)).scaleb(-6)


def duration_text(micros: int | Fraction) -> str:
    """A duration as "2 h 05 min", "45 min" or "30 s" (whole seconds, rounded down)."""
    seconds = int(Fraction(micros) // MICROS)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min" + (f" {secs:02d} s" if secs else "")
    return f"{secs} s"
