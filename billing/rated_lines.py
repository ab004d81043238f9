"""One charge as it is rated, segment by segment: a rule's price of the cumulative quantity, and the
state it can be stopped and resumed from (billing/checkpoints.py).

A line prices the session's cumulative quantity of its rule (free allowance first, then its unit price or
tiers), so a piece costs amount(quantity after) - amount(quantity before) and the pieces add up to the
whole. Amounts are exact fractions; they become Decimals only in the Charge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from billing.charges import Charge, Piece
from billing.dynamic import PriceLock, lock_at
from billing.meters import METER_NAMES, display_quantity, to_units
from billing.money import EXACT, to_decimal
from billing.plan import PricePlan, RentalTerms
from billing.window_caps import Occurrence


@dataclass(frozen=True, slots=True)
class Segment:
    """[start, end) of a session under one plan version (index into the sorted versions) and one window
    ("" = none); `day` is the local date when the plan caps charges per day; `capped` the occurrence of a
    window with a cap (e.g. one night) that the segment lies in."""

    start: datetime
    end: datetime
    version: int
    window: str = ""
    day: date | None = None
    capped: Occurrence | None = None  # the occurrence of a capped window the segment lies in

    @property
    def span_us(self) -> int:
        return (self.end - self.start) // timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class LineState:
    """Everything a line has accumulated after some segments: what a checkpoint keeps of it. `version`
    and `rule` index the sorted plan versions and the version's rules."""

    key: str
    version: int
    rule: int
    item: str
    multiplier: Fraction
    window: str
    locks: tuple[PriceLock | None, ...]
    base: Fraction
    amount: Fraction
    priced: Fraction
    notes: tuple[str, ...]
    pieces: tuple[Piece, ...]
    days: tuple[tuple[date | None, Fraction], ...]


class RatedLine:
    """Accumulates one charge: cumulative quantity through its rule's pricing, piece by piece."""

    def __init__(
        self,
        key: str,
        versions: tuple[int, PricePlan],
        rule: int,
        terms: RentalTerms,
        item: str,
        multiplier: Fraction,
        window: str,
    ) -> None:
        self.key, self.version_index, self.version = key, versions[0], versions[1]
        self.rule_index, self.rule, self.item = rule, versions[1].rules[rule], item
        self.terms, self.multiplier, self.window = terms, multiplier, window
        # Demand-price locks met by the pieces (None: static); a lock scales its pieces only, so a session
        # whose lock changes keeps one line per rule and its keys.
        self.locks: dict[PriceLock | None, None] = {}
        self.session_start: datetime | None = None  # set by rate_segments, to name a lock taken at the start
        self.base: Fraction = Fraction(0)
        self.amount = Fraction(0)
        self._free = Fraction(self.rule.free)
        self._priced = Fraction(0)  # the rule's price of the cumulative quantity so far, unscaled
        self.notes: list[str] = []
        self.pieces: list[Piece] = []
        self.days: dict[date | None, Fraction] = {}
        # amounts per (capped window occurrence, local day): not kept in checkpoints, as sessions with window
        # caps are rated from the start (rating.resumable)
        self.slots: dict[tuple[Occurrence | None, date | None], Fraction] = {}

    def snapshot(self) -> LineState:
        return LineState(
            self.key, self.version_index, self.rule_index, self.item, self.multiplier, self.window,
            tuple(self.locks), self.base, self.amount, self._priced, tuple(self.notes), tuple(self.pieces),
            tuple(self.days.items()),
        )  # fmt: skip

    @classmethod
    def resume(cls, state: LineState, versions: list[PricePlan], terms: RentalTerms) -> RatedLine:
        """A line that goes on from `state` (taken under the same versions and terms)."""
        version = (state.version, versions[state.version])
        line = cls(state.key, version, state.rule, terms, state.item, state.multiplier, state.window)
        line.locks = dict.fromkeys(state.locks)
        line.base, line.amount, line._priced = state.base, state.amount, state.priced
        line.notes, line.pieces, line.days = list(state.notes), list(state.pieces), dict(state.days)
        return line

    def add(self, segment: Segment, base: int | Fraction, note: str) -> None:
        rule = self.rule
        self.base += base
        priced = rule.pricing.amount(max(to_units(self.base, rule.meter, rule.per) - self._free, Fraction(0)))
        lock = lock_at(self.terms.demand, segment.start)
        self.locks[lock] = None
        amount = (priced - self._priced) * self.multiplier * (Fraction(lock.multiplier) if lock else 1)
        self._priced = priced
        self.amount += amount
        self.days[segment.day] = self.days.get(segment.day, Fraction(0)) + amount
        slot = (segment.capped, segment.day)
        self.slots[slot] = self.slots.get(slot, Fraction(0)) + amount
        quantity, _ = display_quantity(base, rule.meter, rule.per, rule.unit)
        self.pieces.append(
            Piece(segment.start, segment.end, segment.window, quantity, to_decimal(amount), note)
        )
        if note:
            self.notes.append(note)

    def charge(self, currency: str) -> Charge:
        rule = self.rule
        quantity, unit = display_quantity(self.base, rule.meter, rule.per, rule.unit)
        if rule.pricing.mode == "standard" and len(self.locks) <= 1:
            (lock,) = self.locks or (None,)
            scale = self.multiplier * (Fraction(lock.multiplier) if lock else 1)
            rate = to_decimal(Fraction(rule.pricing.price) * scale)
        else:
            units = to_units(self.base, rule.meter, rule.per)
            rate = (
                to_decimal(self.amount / units).quantize(Decimal("1e-6"), context=EXACT)
                if units
                else Decimal(0)
            )
        return Charge(
            meter=self.key,
            description=self._description(currency),
            quantity=quantity,
            unit=unit,
            rate=rate.normalize(),
            rate_unit=rule.unit_label,
            amount=to_decimal(self.amount),
            currency=currency,
            pieces=tuple(self.pieces),
            day_amounts=tuple(self.days.items()),
            window_amounts=tuple((o, d, a) for (o, d), a in self.slots.items()),
        )

    def _description(self, currency: str) -> str:
        rule, terms = self.rule, self.terms
        what = METER_NAMES[rule.meter] if rule.meter != "resource" else f"{self.item} held"
        details = []
        if rule.meter == "time":
            details.append(terms.machine_class)
        if rule.meter == "gpu" and self.item:
            details.append(self.item)
        if rule.window or self.window:
            details.append(f"in {rule.window or self.window}")
        text = what + (", " + ", ".join(details) if details else "")
        if rule.pricing.mode != "standard" or rule.free:
            text += f" [{rule.describe(currency)}]"
        scale = []
        if self.window:
            window = next(w for w in self.version.windows if w.name == self.window)
            assert window.multiplier is not None, "a line names a window only when the window scales it"
            scale.append(f"{self.window} x{format(window.multiplier.normalize(), 'f')}")
        if terms.service_level and self.version.service_levels.get(terms.service_level, 1) != 1:
            level = self.version.service_levels[terms.service_level]
            scale.append(f"{terms.service_level} service x{format(level.normalize(), 'f')}")
        several = len(self.locks) > 1
        scale += [
            lock.label(self.session_start) if lock else "static price"
            for lock in self.locks
            if lock or several
        ]
        if scale:
            text += " (" + ", ".join(scale) + ")"
        if self.version.effective_from.year > 1970:
            since = self.version.effective_from.astimezone(self.version.tzinfo)
            text += f", prices from {since.date().isoformat()}"
        if self.notes:
            text += " (" + "; ".join(dict.fromkeys(self.notes)) + ")"
        return text
