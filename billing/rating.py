"""Rating: a session's usage, priced under the versions of its plan, exactly and with its derivation.

How a session is rated, in order:
1. Its span is cut into segments where the plan version changes (a change mid-session splits it at that
   instant), where a time window starts or ends (in the plan's time zone), at local midnight when the
   plan has a daily cap, and where one of the renter's time packs becomes valid or expires. The caller
   measures usage per segment; the rental time the packs pay is taken out of it (billing/packs.py), each
   pack used becoming a line of its own.
2. Billing increment and minimum time: the session's covered time is rounded up to whole increments and
   to at least the minimum; the extra time is charged at the price in force where the session's covered
   time ends.
3. Each piece of usage is priced by the most specific matching rule of the version in force. A rule prices
   the session's cumulative quantity (free allowance first, then its unit price or tiers), so a piece costs
   amount(quantity after) - amount(quantity before) and the pieces add up to the whole. The service level
   multiplier, and the window multiplier for window-less rules, scale each piece.
4. Session-wide terms of the version in force at the session's start (billing/adjustments.py): window
   caps (per occurrence, billing/window_caps.py), daily and session caps, minimum charge, member
   discount, coupon, tax.
5. Every charge, and the session's total, must lie within the money range (billing/numbers.py); otherwise
   rating raises AmountOutOfRange naming the charge, rather than produce an amount storage cannot hold.

Amounts are exact fractions inside; a charge is rounded once, when it becomes an invoice line.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from billing.adjustments import session_adjustments
from billing.calendar import local_date, local_midnights
from billing.charges import Charge
from billing.checkpoints import Checkpoint
from billing.errors import NotRated
from billing.meters import Usage
from billing.money import Money, exponent, to_decimal
from billing.numbers import check_range
from billing.packs import consume_packs, cut_at_packs
from billing.plan import PricePlan, RentalTerms, check_versions
from billing.rated_lines import RatedLine, Segment
from billing.window_caps import capped_occurrences

MICROS = 1_000_000


def billed_time_us(covered_us: int, increment_us: int = 1, minimum_us: int = 0) -> int:
    """Covered time rounded up to whole increments, and at least the minimum once anything is covered."""
    if covered_us <= 0:
        return 0
    rounded = -(-covered_us // increment_us) * increment_us
    return max(rounded, minimum_us)


def version_at(versions: Sequence[PricePlan], moment: datetime) -> int:
    """Index of the version in force at `moment` (versions sorted by effective_from)."""
    index = None
    for i, version in enumerate(versions):
        if version.effective_from <= moment:
            index = i
    if index is None:
        first = versions[0]
        raise NotRated(f"plan {first.name!r} is not in force before {first.effective_from.isoformat()}")
    return index


def segments(versions: Sequence[PricePlan], start: datetime, end: datetime) -> list[Segment]:
    """[start, end) cut where prices may change: version changes, window edges, local midnights (daily
    caps). Adjacent pieces under the same version, window and day are merged."""
    if end <= start:
        return []
    version_at(versions, start)
    found: list[Segment] = []
    for index, version in enumerate(versions):
        until = versions[index + 1].effective_from if index + 1 < len(versions) else end
        lower, upper = max(start, version.effective_from), min(end, until)
        if lower < upper:
            found.extend(_version_segments(index, version, lower, upper))
    return found


def _version_segments(index: int, version: PricePlan, start: datetime, end: datetime) -> list[Segment]:
    tz = version.tzinfo
    first, last = local_date(start, tz) - timedelta(days=1), local_date(end, tz)
    # Highest priority first; among equal priorities (plans stored before overlaps were refused) the first
    # written, as sorted() is stable.
    ranked = sorted(version.windows, key=lambda w: -w.priority)
    occurrences = [(w.name, w.intervals(tz, first, last, version.holidays)) for w in ranked]
    cuts = {start, end}
    for _, intervals in occurrences:
        cuts.update(p for interval in intervals for p in interval if start < p < end)
    daily = version.daily_cap is not None
    if daily:
        cuts.update(local_midnights(start, end, tz))
    capped = capped_occurrences(ranked, tz, first, last, version.holidays)
    points = sorted(cuts)
    found: list[Segment] = []
    for a, b in itertools.pairwise(points):
        window = next((name for name, spans in occurrences if any(x <= a < y for x, y in spans)), "")
        day = local_date(a, tz) if daily else None
        occurrence = next((o for o in capped if o.start <= a < o.end), None)
        previous = found[-1] if found else None
        if previous and (previous.window, previous.day, previous.capped) == (window, day, occurrence):
            found[-1] = replace(previous, end=b)
        else:
            found.append(Segment(a, b, index, window, day, occurrence))
    return found


def rate(
    versions: Iterable[PricePlan],
    terms: RentalTerms,
    start: datetime,
    end: datetime,
    usage_of: Callable[[datetime, datetime], Usage],
) -> list[Charge]:
    """Charges of a rental from `start` to `end`, asking `usage_of(a, b)` for the usage of each segment."""
    ordered = check_versions(list(versions))
    cut = cut_at_packs(_at_locks(segments(ordered, start, end), terms), terms.packs)
    parts = [(segment, usage_of(segment.start, segment.end)) for segment in cut]
    parts, pack_lines = consume_packs(ordered, terms.machine_class, terms.packs, parts)
    return pack_lines + rate_segments(ordered, terms, start, parts)


def _at_locks(found: list[Segment], terms: RentalTerms) -> list[Segment]:
    """Segments cut again where a later demand-price lock takes over (prices change there)."""
    cuts = sorted({lock.since for lock in terms.demand})
    if not cuts:
        return found
    result = []
    for segment in found:
        points = [segment.start, *(c for c in cuts if segment.start < c < segment.end), segment.end]
        result += [replace(segment, start=a, end=b) for a, b in itertools.pairwise(points)]
    return result


def rate_segments(
    versions: Sequence[PricePlan], terms: RentalTerms, start: datetime, parts: Sequence[tuple[Segment, Usage]]
) -> list[Charge]:
    """Usage charges then session-wide adjustments, for segments in time order with their usage."""
    return _rate(versions, terms, start, parts, None, -1)[0]


def rate_from(
    versions: Iterable[PricePlan],
    terms: RentalTerms,
    start: datetime,
    end: datetime,
    usage_of: Callable[[datetime, datetime], Usage],
    resume: Checkpoint | None,
    settled: datetime | None,
) -> tuple[list[Charge], Checkpoint | None]:
    """Charges of a rental from `start` to `end`, exactly as rate() gives them, going on from `resume` (a
    checkpoint of this rental taken under the same versions, terms and usage; ignored when it lies after
    `end`) so that only the segments after it are measured and priced. Also returns the checkpoint to keep:
    after the last segment that ends before `end` and by `settled` (the time before which usage is
    complete; None: keep none newer), else `resume`."""
    ordered = check_versions(list(versions))
    if not resumable(ordered, terms):
        return rate(ordered, terms, start, end, usage_of), None
    if resume is not None and resume.until > end:
        resume = None
    begin = resume.until if resume is not None else start
    cut = _at_locks(segments(ordered, begin, end), terms)
    parts = [(segment, usage_of(segment.start, segment.end)) for segment in cut]
    closed = [i for i, (s, _) in enumerate(parts) if s.end < end and settled is not None and s.end <= settled]
    return _rate(ordered, terms, start, parts, resume, max(closed, default=-1))


def resumable(versions: Sequence[PricePlan], terms: RentalTerms) -> bool:
    """Whether a rating of these versions and terms can go on from a checkpoint: not with time packs (what
    a pack pays depends on the whole session before) nor window caps (per occurrence, across segments);
    those are rated from the start each time."""
    return not terms.packs and not any(w.cap is not None for v in versions for w in v.windows)


def _rate(
    versions: Sequence[PricePlan],
    terms: RentalTerms,
    start: datetime,
    parts: Sequence[tuple[Segment, Usage]],
    resume: Checkpoint | None,
    keep: int,
) -> tuple[list[Charge], Checkpoint | None]:
    """Charges of the parts after `resume` (or the start), and the checkpoint after part `keep` (-1: none
    newer than `resume`). The billing-increment top-up goes last into the time line of the last covered
    segment: segments after it have no covered time, so no later piece of that line can precede it."""
    first = versions[version_at(versions, start)]
    first.check_terms(terms, start)
    lines: dict[str, RatedLine] = {}
    usage, last_covered, checkpoint = Usage(), None, resume
    if resume is not None:
        lines = {state.key: RatedLine.resume(state, list(versions), terms) for state in resume.lines}
        usage, last_covered = resume.usage, resume.last_covered
    for position, (segment, part) in enumerate(parts):
        for meter, key, base in _quantities(part, segment, terms):
            _price(lines, versions, segment, terms, meter, key, base, "")
        usage = usage + part
        last_covered = segment if part.covered_us else last_covered
        if position == keep:
            states = tuple(line.snapshot() for line in lines.values())
            checkpoint = Checkpoint(segment.end, usage, last_covered, states)
    covered = usage.covered_us
    top_up = billed_time_us(covered, first.increment_us, first.minimum_us) - covered
    if top_up and last_covered is not None:
        _price(lines, versions, last_covered, terms, "time", "", top_up, _top_up_note(covered, first))
    for line in lines.values():  # before anything rounds them
        line.session_start = start
        check_range(to_decimal(line.amount), first.currency, line.key)
    charges = [line.charge(first.currency) for line in lines.values()]
    charges += session_adjustments(first, terms, start, charges)
    _check_range(charges, first.currency)
    return charges, checkpoint


def _check_range(charges: Sequence[Charge], currency: str) -> None:
    """AmountOutOfRange naming the first charge beyond the money range, or the session total (rounded per
    line, as an invoice adds it up): no wrong or overflowing amount is ever written."""
    for charge in charges:
        check_range(charge.amount, currency, charge.meter)
    rounded = sum(Money.of(c.amount, currency).minor for c in charges)
    check_range(Decimal(rounded).scaleb(-exponent(currency)), currency, "session total")


def _quantities(usage: Usage, segment: Segment, terms: RentalTerms) -> list[tuple[str, str, int | Fraction]]:
    found: list[tuple[str, str, int | Fraction]] = [q for q in usage.quantities() if q[2]]
    for name, quantity in sorted(terms.resources.items()):
        held = Fraction(quantity) * segment.span_us
        if held:
            found.append(("resource", name, held))
    return found


def _price(
    lines: dict[str, RatedLine],
    versions: Sequence[PricePlan],
    segment: Segment,
    terms: RentalTerms,
    meter: str,
    key: str,
    base: int | Fraction,
    note: str,
) -> None:
    version = versions[segment.version]
    rule_index = _pick(version, meter, key, segment.window, terms.machine_class)
    if rule_index is None:
        if meter == "time":
            raise NotRated(
                f"plan {version.name!r} has no rental-time price for class {terms.machine_class!r}"
                + (f" in window {segment.window!r}" if segment.window else "")
            )
        return  # a meter the plan does not price is free
    rule = version.rules[rule_index]
    multiplier = Fraction(version.service_levels.get(terms.service_level, Decimal(1)))
    window = next((w for w in version.windows if w.name == segment.window), None)
    window_multiplier = window.multiplier if window is not None and not rule.window else None
    scaled_by_window = window_multiplier is not None
    if window_multiplier is not None:
        multiplier *= Fraction(window_multiplier)
    line_key = _line_key(
        versions, segment.version, rule_index, key, segment.window if scaled_by_window else ""
    )
    line = lines.get(line_key)
    if line is None:
        scaled = segment.window if scaled_by_window else ""
        owner = (segment.version, version)
        line = lines[line_key] = RatedLine(line_key, owner, rule_index, terms, key, multiplier, scaled)
    line.add(segment, base, note)


def _pick(version: PricePlan, meter: str, key: str, window: str, machine_class: str) -> int | None:
    best: tuple[tuple[bool, bool, bool], int] | None = None
    for index, rule in enumerate(version.rules):
        if rule.matches(meter, key, window, machine_class) and (best is None or rule.specificity() > best[0]):
            best = (rule.specificity(), index)
    return None if best is None else best[1]


def _line_key(versions: Sequence[PricePlan], version: int, rule_index: int, key: str, window: str) -> str:
    rules = versions[version].rules
    rule = rules[rule_index]
    first_of_meter = next(i for i, r in enumerate(rules) if r.meter == rule.meter)
    name = rule.meter if rule_index == first_of_meter else f"{rule.meter}#{rule_index + 1}"
    if version:
        name += f"@v{version + 1}"
    if rule.meter in ("gpu", "resource") and key:
        name += f":{key[:40]}"
    return name + (f"~{window}" if window else "")


def _top_up_note(covered: int, version: PricePlan) -> str:
    parts = []
    if version.increment_us > 1:
        parts.append(f"billed per {_seconds(version.increment_us)} s")
    if version.minimum_us:
        parts.append(f"minimum {_seconds(version.minimum_us)} s")
    return f"{_seconds(covered)} s covered, " + ", ".join(parts)


def _seconds(micros: int | Fraction) -> str:
    return format(to_decimal(Fraction(micros) / MICROS).normalize(), "f")
