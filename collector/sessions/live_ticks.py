"""Live ticks: what a machine showed it used in its last seconds, before the signed report of it arrives.

While a rental session is open, the agent sends with every sample what the machine used since its last
sealed report (agent.proto LiveTick). The collector keeps the latest tick of each agent in memory and folds
it into the session's live cost (collector/sessions/live.py), so that the renter sees usage within a second
or two instead of at the next report. A tick is shown, never billed:
- it is never stored: rating, invoices, the ledger and the balance checks read signed reports only;
- it counts only while no stored report covers its time (it starts at or after the machine's last report's
  end), for the session it names, on the machine of that session; the report that arrives replaces it;
- it is not signed, so it is bounded: one that is longer than an hour, ends in the future or claims more
  than the machine can do (CPU beyond its cores, traffic beyond 400 Gbit/s, energy beyond 2 kW a GPU) is
  ignored, and what it adds is priced by the session's plan without caps, discounts or minimums.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

import billing
from billing.money import exponent
from collector.core.clock import from_us, to_us
from collector.db.models import RentalSession
from collector.metering.bounds import MAX_FUTURE_SKEW, MAX_SAMPLE_US, MAX_SESSION_ID_CHARS
from collector.sessions.plans import versions_of
from collector.sessions.rating import gpu_models, rental_terms

# Beyond what any machine does: bytes a microsecond (400 Gbit/s), millijoules a microsecond per GPU (2 kW).
MAX_TRAFFIC_BYTES_PER_US = 50_000
MAX_GPU_MJ_PER_US = 2
UNKNOWN_CORES = 1024


@dataclass(frozen=True, slots=True)
class LiveTick:
    """Usage of `agent_id`'s machine over [start_us, end_us) (wall microseconds) as its agent showed it,
    for the session it names: counters are totals over the span, memory the latest reading."""

    agent_id: str
    session_id: str
    start_us: int
    end_us: int
    cpu_busy_us: int = 0
    net_rx_bytes: int = 0
    net_tx_bytes: int = 0
    memory_used_bytes: int = 0
    energy_mj: int = 0
    gpu_uuids: tuple[str, ...] = ()

    def usage_between(self, start_us: int, end_us: int, models: Mapping[str, str]) -> billing.Usage:
        """The tick's usage over [start_us, end_us) within it, counters shared out in proportion to time."""
        span = self.end_us - self.start_us

        def share(total: int) -> int:
            return total * (end_us - self.start_us) // span - total * (start_us - self.start_us) // span

        micros = end_us - start_us
        gpus: dict[str, int] = {}
        for uuid in self.gpu_uuids:
            model = models.get(uuid) or "GPU"
            gpus[model] = gpus.get(model, 0) + micros
        return billing.Usage(
            covered_us=micros,
            net_rx_bytes=share(self.net_rx_bytes),
            net_tx_bytes=share(self.net_tx_bytes),
            cpu_busy_us=share(self.cpu_busy_us),
            memory_byte_us=self.memory_used_bytes * micros,
            energy_mj=share(self.energy_mj),
            gpu_us=gpus,
        )


def shape_problem(tick: LiveTick, now: datetime) -> str | None:
    """Why `tick` cannot be kept at all (a sentence), or None."""
    if len(tick.session_id) > MAX_SESSION_ID_CHARS or not tick.session_id:
        return "a live tick names no session, or one longer than a session id"
    if tick.end_us <= tick.start_us:
        return "a live tick ends before it starts"
    if tick.end_us - tick.start_us > MAX_SAMPLE_US:
        return "a live tick is longer than an hour"
    if tick.end_us > to_us(now + MAX_FUTURE_SKEW):
        return "a live tick ends in the future"
    return None


def implausible(tick: LiveTick, facts: Mapping[str, Any]) -> str | None:
    """Why `tick` claims more than the machine (as its facts describe it) can do, or None."""
    span = tick.end_us - tick.start_us
    cores = int(facts.get("cpu_cores_logical", 0) or 0) or UNKNOWN_CORES
    if tick.cpu_busy_us > span * cores * 11 // 10:
        return f"a live tick claims more CPU time than {cores} cores give"
    if max(tick.net_rx_bytes, tick.net_tx_bytes) > span * MAX_TRAFFIC_BYTES_PER_US:
        return "a live tick claims more traffic than 400 Gbit/s"
    if tick.energy_mj > span * MAX_GPU_MJ_PER_US * max(1, len(tick.gpu_uuids)):
        return "a live tick claims more energy than 2 kW a GPU"
    return None


class LiveTicks:
    """The latest live tick of each agent, in memory (one small entry per agent that ever ticked; kept
    across reconnects, since the report that replaces it comes after). Written on the server's event loop;
    read by ratings on the database threads (a dictionary read: atomic in CPython)."""

    def __init__(self) -> None:
        self._latest: dict[str, LiveTick] = {}
        self._listeners: list[Callable[[str], None]] = []

    def listen(self, callback: Callable[[str], None]) -> None:
        """Call `callback(session_id)` with every tick kept (on the event loop)."""
        self._listeners.append(callback)

    def offer(self, tick: LiveTick, now: datetime) -> str | None:
        """Keep `tick` as its agent's latest and tell the listeners; why not (a sentence), if it is not."""
        problem = shape_problem(tick, now)
        if problem is not None:
            return problem
        self._latest[tick.agent_id] = tick
        for callback in self._listeners:
            callback(tick.session_id)
        return None

    def latest(self, agent_id: str, session_id: str) -> LiveTick | None:
        """The agent's latest tick if it names `session_id`."""
        tick = self._latest.get(agent_id)
        return tick if tick is not None and tick.session_id == session_id else None


def provisional_minor(rental: RentalSession, tick: LiveTick | None, now: datetime) -> int:
    """What `tick` adds to the session's live estimate (minor units, rounded up), beyond the time it covers
    at the current rate, which the estimate already counts: its traffic, CPU, GPU and energy, priced by the
    session's plan. 0 when there is no tick for the session's machine, a stored report already covers
    its start, it is implausible, or the plan cannot price it."""
    if tick is None or tick.agent_id != rental.agent_id or tick.session_id != rental.id:
        return 0
    covered_until = rental.machine.last_report_end_us or 0
    start = max(tick.start_us, to_us(rental.started_at))
    end = min(tick.end_us, to_us(now if rental.ended_at is None else min(now, rental.ended_at)))
    facts = rental.machine.facts or {}
    if tick.start_us < covered_until or end <= start or implausible(tick, facts) is not None:
        return 0
    models = gpu_models(facts)
    versions, terms = versions_of(rental.plan), rental_terms(rental)
    a, b = from_us(start), from_us(end)
    try:
        shown = _usage_cost(billing.rate(versions, terms, a, b, lambda x, y: _part(tick, x, y, models)))
        time_only = _usage_cost(
            billing.rate(versions, terms, a, b, lambda x, y: billing.Usage(covered_us=to_us(y) - to_us(x)))
        )
    except billing.BillingError:
        return 0
    extra = (shown - time_only) * 10 ** exponent(rental.plan.currency)
    return max(0, int(-(-extra // 1)))


def _part(tick: LiveTick, a: datetime, b: datetime, models: Mapping[str, str]) -> billing.Usage:
    return tick.usage_between(to_us(a), to_us(b), models)


def _usage_cost(charges: list[billing.Charge]) -> Fraction:
    """The usage lines' exact amount (caps, discounts, minimums and tax apply to whole sessions)."""
    return sum((Fraction(c.amount) for c in charges if c.pieces), Fraction(0))
