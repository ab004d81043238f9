"""What the scheduled jobs of this collector did last: a small in-memory board the scheduler writes and
the JobService reads. Collectors sharing PostgreSQL share the jobs: each period runs on one of them
(collector.db.leases), and `elsewhere` counts the periods this one left to the others."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class JobState:
    """One job and its last run."""

    name: str
    interval: timedelta
    runs: int = 0
    last_started: datetime | None = None
    last_finished: datetime | None = None
    last_duration_s: float = 0.0
    processed: int = 0
    failed: int = 0
    deferred: int = 0
    error: str = ""  # the whole last run failed: what the admin is told (with an error id)
    # Periods another collector sharing the database ran (collector.db.leases).
    elsewhere: int = 0


@dataclass
class JobBoard:
    jobs: dict[str, JobState] = field(default_factory=dict)

    def add(self, name: str, interval: timedelta) -> JobState:
        self.jobs[name] = JobState(name, interval)
        return self.jobs[name]

    def states(self) -> list[JobState]:
        return list(self.jobs.values())
