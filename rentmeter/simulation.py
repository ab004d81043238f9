"""Generated history for demos, tests and benchmarks: renters with habits (night gamers, weekday GPU
trainers, weekend students) in their time zones rent machines for D days, written through the collector's
own code: plans (create_plan), machines (create_token + enroll), renters (update_renter), prepaid top-ups
(top_up), sessions (start_session / stop_session, with holds), usage (store_reports, in five-minute
samples as an agent's compacted spool sends them) and live costs (rate_session); invoices too
(close_invoices, weekly periods) unless told not to.

The same seed gives the same renters, sessions, usage and costs (ids of machines and sessions are random,
as the collector makes them). Reports are stored as verified reports without a signature: they are
generated here, not received.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy.orm import Session

import billing
from collector.accounts.renters import update_renter
from collector.accounts.wallets import top_up
from collector.core.clock import to_us
from collector.core.errors import AlreadyExists
from collector.db.database import Database
from collector.invoicing.invoices import close_invoices
from collector.metering.enrollment import create_token, enroll
from collector.metering.ingest import IncomingGpu, IncomingReport, IncomingSample, store_reports
from collector.sessions.plans import create_plan
from collector.sessions.rating import rate_session
from collector.sessions.rentals import start_session, stop_session

STEP = timedelta(minutes=5)  # one sample
BATCH = 2000  # sessions per transaction
INVOICE_PERIOD = timedelta(days=7)
HOSTS = ("host-1", "host-2", "host-3")
CURRENCY = "EUR"
PLANS = {
    "standard": """name = "standard"
currency = "EUR"
[[classes]]
name = "gpu"
gpu_model = "A100"
min_gpus = 1
[[classes]]
name = "standard"
[[prices]]
meter = "time"
class = "standard"
price = "1.20"
[[prices]]
meter = "time"
class = "gpu"
price = "2.90"
[[prices]]
meter = "traffic_out"
price = "0.09"
""",
    "night": """name = "night"
currency = "EUR"
timezone = "Asia/Shanghai"
[[classes]]
name = "gpu"
gpu_model = "A100"
min_gpus = 1
[[classes]]
name = "standard"
[[windows]]
name = "night"
from = "23:00"
to = "07:00"
[[prices]]
meter = "time"
class = "standard"
price = "1.60"
[[prices]]
meter = "time"
class = "standard"
window = "night"
price = "0.60"
[[prices]]
meter = "time"
class = "gpu"
price = "3.40"
[[prices]]
meter = "traffic_out"
price = "0.09"
""",
    "gpu-pack": """name = "gpu-pack"
currency = "EUR"
[[classes]]
name = "gpu"
gpu_model = "A100"
min_gpus = 1
[[classes]]
name = "standard"
[session]
increment = "1h"
[[prices]]
meter = "time"
class = "gpu"
tiers = [{ up_to = "4", price = "2.90" }, { price = "1.90" }]
[[prices]]
meter = "time"
class = "standard"
price = "1.50"
[[prices]]
meter = "traffic_out"
price = "0.09"
""",
    "weekend": """name = "weekend"
currency = "EUR"
[[classes]]
name = "gpu"
gpu_model = "A100"
min_gpus = 1
[[classes]]
name = "standard"
[[windows]]
name = "weekend"
days = "weekends"
from = "00:00"
to = "00:00"
[[prices]]
meter = "time"
class = "standard"
price = "1.40"
[[prices]]
meter = "time"
class = "standard"
window = "weekend"
price = "0.90"
[[prices]]
meter = "time"
class = "gpu"
price = "3.20"
[[prices]]
meter = "traffic_out"
price = "0.09"
[member_discounts]
silver = "5"
""",
}


@dataclass(frozen=True)
class Persona:
    """A kind of renter: when and how long it rents, on what, how hard it uses the machine."""

    name: str
    zones: tuple[str, ...]
    days: tuple[int, ...]  # weekdays it may rent (0 = Monday)
    chance: float  # of renting on such a day
    start_hours: tuple[int, int]  # local start hour, from-to
    hours: tuple[float, float]  # session length
    machine_class: str
    cpu: tuple[float, float]  # utilisation while rented
    gpu: tuple[int, int]  # percent
    rx_mb_per_min: float
    prepaid: bool


PERSONAS = (
    Persona("night gamer", ("Asia/Shanghai", "Asia/Tokyo", "Asia/Singapore"), (0, 1, 2, 3, 4, 5, 6),
            0.7, (21, 25), (1.5, 5.0), "standard", (0.35, 0.85), (0, 0), 40.0, False),
    Persona("weekday GPU trainer", ("Europe/Berlin", "America/New_York", "Asia/Shanghai"), (0, 1, 2, 3, 4),
            0.8, (8, 11), (3.0, 10.0), "gpu", (0.2, 0.5), (75, 100), 5.0, False),
    Persona("weekend student", ("Europe/London", "America/Los_Angeles", "Asia/Shanghai"), (5, 6),
            0.75, (10, 16), (1.0, 4.0), "standard", (0.0, 0.25), (0, 0), 10.0, True),
)  # fmt: skip


@dataclass
class Rental:
    renter: str
    persona: Persona
    start: datetime
    end: datetime
    plan: str
    machine: int = -1  # index into the class's machines


@dataclass
class World:
    renters: dict[str, tuple[Persona, str]] = field(default_factory=dict)  # id -> persona, zone
    rentals: list[Rental] = field(default_factory=list)
    top_ups: list[tuple[datetime, str, int]] = field(default_factory=list)  # when, renter, minor units
    machines: dict[str, int] = field(default_factory=dict)  # class -> how many


def plan_world(renters: int, days: int, seed: int, until: datetime) -> World:
    """Everything to write, decided by `seed`: renters, their sessions and top-ups, and the machines."""
    rng = random.Random(seed)
    world = World()
    start = until - timedelta(days=days)
    for number in range(renters):
        persona = PERSONAS[rng.randrange(len(PERSONAS))]
        renter, zone_name = f"sim-{number:05d}", rng.choice(persona.zones)
        world.renters[renter] = (persona, zone_name)
        plan = "weekend" if persona.prepaid and rng.random() < 0.3 else "standard"
        zone = ZoneInfo(zone_name)
        day = start.astimezone(zone).date()
        while day <= until.astimezone(zone).date():
            if day.weekday() in persona.days and rng.random() < persona.chance:
                hour = rng.uniform(*persona.start_hours)
                begin = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(hours=hour)
                begin = begin.astimezone(UTC).replace(second=0, microsecond=0)
                end = begin + timedelta(minutes=5 * round(rng.uniform(*persona.hours) * 12))
                if start <= begin and end <= until:
                    world.rentals.append(Rental(renter, persona, begin, end, plan))
            day += timedelta(days=1)
        if persona.prepaid:
            moment = start - timedelta(hours=1)
            while moment < until:
                world.top_ups.append((moment, renter, 100 * rng.choice((20, 30, 50))))
                moment += timedelta(days=rng.choice((5, 7, 10)))
    world.rentals.sort(key=lambda r: (r.start, r.renter))
    _assign_machines(world)
    return world


def _assign_machines(world: World) -> None:
    """The first machine of its class free over each session (a new one when none is)."""
    free_from: dict[str, list[datetime]] = {}
    for rental in world.rentals:
        pool = free_from.setdefault(rental.persona.machine_class, [])
        index = next((i for i, t in enumerate(pool) if t <= rental.start), len(pool))
        if index == len(pool):
            pool.append(rental.end)
        pool[index] = rental.end
        rental.machine = index
    world.machines = {name: len(pool) for name, pool in free_from.items()}


def simulate(
    database: Database,
    *,
    renters: int,
    days: int,
    seed: int,
    until: datetime,
    invoices: bool = True,
    progress: Callable[[str], None] = lambda _: None,
) -> World:
    """Write the world of `seed` into `database`; `progress` is told what is done."""
    world = plan_world(renters, days, seed, until)
    start = until - timedelta(days=days)
    for document in PLANS.values():
        with contextlib.suppress(AlreadyExists):  # a second run into the same database
            database.call(create_plan, document, start - timedelta(days=1))
    agents = {name: [_machine(database, name, i, start) for i in range(count)]
              for name, count in world.machines.items()}  # fmt: skip
    database.call(_renters, world, start)
    progress(f"{len(world.renters)} renters, {sum(world.machines.values())} machines")
    rng = random.Random(seed + 1)
    sequences: dict[str, int] = {}
    events = _timeline(world)
    for first in range(0, len(events), BATCH):
        batch = events[first : first + BATCH]
        database.call(_write_batch, batch, agents, sequences, rng)
        progress(f"{min(first + BATCH, len(events))} of {len(events)} sessions and top-ups")
    if invoices:
        ids = sorted(world.renters)
        for first in range(0, len(ids), 1000):
            database.call(_invoice, until, ids[first : first + 1000])
        progress("invoiced")
    return world


def _invoice(db: Session, until: datetime, renter_ids: list[str]) -> None:
    close_invoices(db, until, period=INVOICE_PERIOD, grace=timedelta(minutes=5), renter_ids=renter_ids)


def _machine(database: Database, machine_class: str, index: int, start: datetime) -> str:
    key = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    host = HOSTS[index % len(HOSTS)]
    at = start - timedelta(days=1)
    facts: dict[str, object] = {"hostname": f"{machine_class}-{index}", "cpu_cores_logical": 8,
                                "memory_bytes": 32 * 2**30}  # fmt: skip
    if machine_class == "gpu":
        facts["gpus"] = [{"name": "NVIDIA A100", "uuid": f"GPU-sim-{index}", "memory_bytes": 80 * 2**30}]
    token, _ = database.call(create_token, machine_class=machine_class, ttl=timedelta(hours=1),
                             label=f"simulated {machine_class} {index}", now=at, host_id=host)  # fmt: skip
    return database.call(enroll, token=token, public_key=key, facts=facts, now=at).agent_id


def _renters(db: Session, world: World, start: datetime) -> None:
    for renter, (_, zone) in world.renters.items():
        update_renter(db, renter, start - timedelta(days=1), time_zone=zone)


def _timeline(world: World) -> list[Rental | tuple[datetime, str, int]]:
    events: list[tuple[datetime, int, Rental | tuple[datetime, str, int]]] = []
    events += [(t[0], 0, t) for t in world.top_ups]
    events += [(r.start, 1, r) for r in world.rentals]
    events.sort(key=lambda e: (e[0], e[1]))
    return [e[2] for e in events]


def _write_batch(
    db: Session,
    batch: list[Rental | tuple[datetime, str, int]],
    agents: dict[str, list[str]],
    sequences: dict[str, int],
    rng: random.Random,
) -> None:
    reports, written = [], []
    for event in batch:
        if isinstance(event, tuple):
            at, renter, minor = event
            top_up(db, renter, billing.Money(minor, CURRENCY), f"sim:{renter}:{at.isoformat()}", at)
            continue
        agent = agents[event.persona.machine_class][event.machine]
        rental = start_session(
            db, agent_id=agent, renter_id=event.renter, plan_name=event.plan, now=event.start
        )
        stop_session(db, rental.id, event.end)
        sequences[agent] = sequences.get(agent, 0) + 1
        reports.append(_report(agent, sequences[agent], event, rng))
        written.append((rental, event.end))
    store_reports(db, reports, max((e for _, e in written), default=datetime.now(UTC)))
    for rental, end in written:
        rate_session(db, rental, end)


def _report(agent: str, sequence: int, rental: Rental, rng: random.Random) -> IncomingReport:
    persona = rental.persona
    samples = []
    for begin in _steps(rental.start, rental.end):
        cpu = rng.uniform(*persona.cpu)
        seconds = STEP.total_seconds()
        gpus: tuple[IncomingGpu, ...] = ()
        if persona.machine_class == "gpu":
            busy = rng.randint(*persona.gpu)
            gpus = (IncomingGpu(0, f"GPU-sim-{agent}", busy, busy, 40 * 2**30, 80 * 2**30, 300_000,
                                int(300_000 * seconds * busy / 100), ()),)  # fmt: skip
        rx = int(rng.uniform(0.2, 1.8) * persona.rx_mb_per_min * 5 * 10**6)
        samples.append(IncomingSample(
            start_us=to_us(begin), end_us=to_us(begin + STEP), cpu_busy_us=int(cpu * 8 * seconds * 1e6),
            cpu_utilization=cpu, memory_used_bytes=8 * 2**30, memory_total_bytes=32 * 2**30,
            disk_read_bytes=0, disk_write_bytes=0, net_rx_bytes=rx, net_tx_bytes=rx // 10, gpus=gpus,
        ))  # fmt: skip
    return IncomingReport(agent, sequence, to_us(rental.start), to_us(rental.end), tuple(samples), (), None,
                          b"simulated", b"\0" * 64)  # fmt: skip


def _steps(start: datetime, end: datetime) -> Iterator[datetime]:
    moment = start
    while moment < end:
        yield moment
        moment += STEP
