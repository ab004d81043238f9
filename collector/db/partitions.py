"""Time partitions of the raw measurement tables on PostgreSQL (SQLite keeps plain tables).

`samples`, `gpu_samples` and `reports` are partitioned by range of `end_us` (microseconds since the epoch),
one partition per UTC month (`samples_p2026_12`), plus a default partition for rows outside every month
created (clock trouble far in the past or future). The maintenance job creates the months ahead; raw-data
retention drops a month whole once every machine's retention cutoff has passed its end, instead of
deleting its rows one by one.

A month created while the default partition holds rows of it takes those rows over (they are moved in the
same transaction), so creating months is always safe.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from collector.db.isolation import JobOutcome

logger = logging.getLogger(__name__)

PARTITIONED_TABLES = ("samples", "gpu_samples", "reports")
PARTITIONS_JOB = "create-partitions"
# Months created ahead of the current one by the maintenance job.
MONTHS_AHEAD = 2
_NAME = re.compile(r"^(?P<table>[a-z_]+)_p(?P<year>\d{4})_(?P<month>\d{2})$")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def of(cls, moment: datetime) -> Month:
        moment = moment.astimezone(UTC)
        return cls(moment.year, moment.month)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def start_us(self) -> int:
        return int(datetime(self.year, self.month, 1, tzinfo=UTC).timestamp()) * 1_000_000

    def end_us(self) -> int:
        return self.next().start_us()

    def suffix(self) -> str:
        return f"p{self.year:04d}_{self.month:02d}"


def is_partitioned(connection: Connection) -> bool:
    """Whether this database partitions the raw tables (PostgreSQL, after the partitions migration)."""
    if connection.dialect.name != "postgresql":
        return False
    found = connection.scalar(text("SELECT count(*) FROM pg_partitioned_table pt JOIN pg_class c "
                                   "ON c.oid = pt.partrelid WHERE c.relname = 'samples'"))  # fmt: skip
    return bool(found)


def is_partition_name(name: str | None) -> bool:
    """A partition's table name (`samples_p2026_12`, `reports_default`): not a table of the models."""
    if not name:
        return False
    return bool(_NAME.match(name)) or name in {f"{table}_default" for table in PARTITIONED_TABLES}


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """Alembic's filter: partitions are PostgreSQL's storage of a model's table, not tables of their own."""
    return not (type_ == "table" and is_partition_name(name))


def months_of(connection: Connection, table: str) -> list[Month]:
    """The monthly partitions `table` has, oldest first."""
    names = connection.scalars(
        text("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
             "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :table"), {"table": table}
    )  # fmt: skip
    months = []
    for name in names:
        match = _NAME.match(name)
        if match and match["table"] == table:
            months.append(Month(int(match["year"]), int(match["month"])))
    return sorted(months)


def create_month(connection: Connection, table: str, month: Month) -> bool:
    """Create `table`'s partition of `month` unless it exists, taking over the default partition's rows
    of that month; True when it was created."""
    if month in months_of(connection, table):
        return False
    name, start, end = f"{table}_{month.suffix()}", month.start_us(), month.end_us()
    default = f"{table}_default"
    # A partition cannot be created while the default holds rows of its range: build it as a plain table,
    # move the rows, then attach it (PostgreSQL checks the default holds none of the range any more).
    connection.execute(text(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS)"))
    moved = connection.execute(
        text(f"WITH gone AS (DELETE FROM {default} WHERE end_us >= :start AND end_us < :end RETURNING *) "
             f"INSERT INTO {name} SELECT * FROM gone"), {"start": start, "end": end}
    ).rowcount  # fmt: skip
    connection.execute(
        text(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM ({start}) TO ({end})")
    )
    logger.info("created partition %s (%d rows taken over from %s)", name, moved, default)
    return True


def ensure_months(db: Session, now: datetime, ahead: int = MONTHS_AHEAD) -> int:
    """Create the partitions of this month and `ahead` months after it where missing; how many were made
    (0 on SQLite)."""
    connection = db.connection()
    if not is_partitioned(connection):
        return 0
    months, month = [], Month.of(now)
    for _ in range(ahead + 1):
        months.append(month)
        month = month.next()
    return sum(create_month(connection, table, m) for table in PARTITIONED_TABLES for m in months)


def ensure_partitions(db: Session, now: datetime) -> JobOutcome:
    """The scheduled job: this month's and the next months' partitions exist (`produced`: created)."""
    outcome = JobOutcome(PARTITIONS_JOB)
    outcome.produced = ensure_months(db, now)
    outcome.processed = 1
    return outcome


def drop_months_before(db: Session, cutoff_us: int) -> list[str]:
    """Drop every monthly partition whose rows all end before `cutoff_us`; the names dropped."""
    connection = db.connection()
    if not is_partitioned(connection):
        return []
    dropped = []
    for table in PARTITIONED_TABLES:
        for month in months_of(connection, table):
            if month.end_us() <= cutoff_us:
                name = f"{table}_{month.suffix()}"
                connection.execute(text(f"ALTER TABLE {table} DETACH PARTITION {name}"))
                connection.execute(text(f"DROP TABLE {name}"))
                dropped.append(name)
    if dropped:
        logger.info(
            "dropped partitions %s (all their rows end before the retention cutoff)", ", ".join(dropped)
        )
    return dropped
