"""Checkpoints: a session's rating stopped at a closed segment boundary, to go on from there.

A checkpoint holds, for [session start, `until`), the cumulative usage, the segment where covered time was
last seen (where a billing-increment top-up is charged) and the state of every line (cumulative quantity,
amount, pieces, amounts per local day). `until` is always a cut of the engine's segmentation strictly
inside the span rated when it was taken (a version change, a window edge, a local midnight, a demand-price
lock), so the segments after it are the same whatever the session's end: rating [until, end) from the
checkpoint gives exactly the charges of rating [start, end) from the start.

A checkpoint is valid only for the versions, terms and usage it was taken with; whoever stores it keeps
what it was taken under and drops it when that changes (collector/sessions/checkpoints.py).

`to_json`/`from_json` keep every amount exact: fractions as "numerator/denominator", decimals as text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from billing.charges import Piece
from billing.dynamic import PriceLock
from billing.meters import Usage
from billing.rated_lines import LineState, Segment

FORMAT = 1


@dataclass(frozen=True, slots=True)
class Checkpoint:
    until: datetime
    usage: Usage  # cumulative over [session start, until)
    last_covered: Segment | None  # the last segment before `until` with covered time
    lines: tuple[LineState, ...]

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "until": self.until.isoformat(),
                "usage": _usage_out(self.usage),
                "last_covered": _segment_out(self.last_covered),
                "lines": [_line_out(line) for line in self.lines],
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> Checkpoint | None:
        """The checkpoint written by to_json; None for one of another format (rated again from the start)."""
        data = json.loads(text)
        if data.get("format") != FORMAT:
            return None
        return cls(
            datetime.fromisoformat(data["until"]),
            _usage_in(data["usage"]),
            _segment_in(data["last_covered"]),
            tuple(_line_in(line) for line in data["lines"]),
        )


def _usage_out(usage: Usage) -> list[Any]:
    return [usage.covered_us, usage.net_rx_bytes, usage.net_tx_bytes, usage.cpu_busy_us,
            usage.memory_byte_us, usage.energy_mj, dict(usage.gpu_us)]  # fmt: skip


def _usage_in(data: list[Any]) -> Usage:
    covered, rx, tx, cpu, memory, energy, gpus = data
    return Usage(covered, rx, tx, cpu, memory, energy, gpus)


def _segment_out(segment: Segment | None) -> list[Any] | None:
    if segment is None:
        return None
    return [segment.start.isoformat(), segment.end.isoformat(), segment.version, segment.window,
            _day_out(segment.day)]  # fmt: skip


def _segment_in(data: list[Any] | None) -> Segment | None:
    if data is None:
        return None
    start, end, version, window, day = data
    return Segment(datetime.fromisoformat(start), datetime.fromisoformat(end), version, window, _day_in(day))


def _line_out(line: LineState) -> dict[str, Any]:
    return {
        "key": line.key,
        "version": line.version,
        "rule": line.rule,
        "item": line.item,
        "multiplier": _fraction_out(line.multiplier),
        "window": line.window,
        "locks": [_lock_out(lock) for lock in line.locks],
        "base": _fraction_out(line.base),
        "amount": _fraction_out(line.amount),
        "priced": _fraction_out(line.priced),
        "notes": list(line.notes),
        "pieces": [
            [p.start.isoformat(), p.end.isoformat(), p.window, str(p.quantity), str(p.amount), p.note]
            for p in line.pieces
        ],
        "days": [[_day_out(day), _fraction_out(amount)] for day, amount in line.days],
    }


def _line_in(data: dict[str, Any]) -> LineState:
    return LineState(
        key=data["key"],
        version=data["version"],
        rule=data["rule"],
        item=data["item"],
        multiplier=Fraction(data["multiplier"]),
        window=data["window"],
        locks=tuple(_lock_in(lock) for lock in data["locks"]),
        base=Fraction(data["base"]),
        amount=Fraction(data["amount"]),
        priced=Fraction(data["priced"]),
        notes=tuple(data["notes"]),
        pieces=tuple(_piece_in(piece) for piece in data["pieces"]),
        days=tuple((_day_in(day), Fraction(amount)) for day, amount in data["days"]),
    )


def _lock_out(lock: PriceLock | None) -> list[str] | None:
    return None if lock is None else [lock.since.isoformat(), str(lock.multiplier)]


def _lock_in(data: list[str] | None) -> PriceLock | None:
    return None if data is None else PriceLock(datetime.fromisoformat(data[0]), Decimal(data[1]))


def _piece_in(data: list[str]) -> Piece:
    start, end, window, quantity, amount, note = data
    span = (datetime.fromisoformat(start), datetime.fromisoformat(end))
    return Piece(*span, window, Decimal(quantity), Decimal(amount), note)


def _fraction_out(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def _day_out(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _day_in(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)
