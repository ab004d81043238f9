"""One bad account never stops the others: scheduled jobs process each subject (a session, a renter, an
invoice, a notification, a machine) in a savepoint of their batch's transaction.

A subject whose processing raises is rolled back to its savepoint, logged with its id and a new error id
(with the stack trace), and recorded in `job_failures` (shown by `rentmeter jobs status`); the job goes on
with the others. A failed subject is retried by a later run once its back-off has passed (doubling from
FIRST_RETRY up to LONGEST_RETRY); its row is removed when it succeeds.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from collector.core.errors import CollectorError
from collector.db.models import JobFailure

logger = logging.getLogger(__name__)

T = TypeVar("T")
FIRST_RETRY = timedelta(seconds=10)
LONGEST_RETRY = timedelta(minutes=15)
MAX_ERROR = 500


@dataclass
class JobOutcome:
    """What one run of a job did: subjects done, subjects that failed, subjects left for a later retry."""

    job: str
    processed: int = 0
    failed: list[str] = field(default_factory=list)
    deferred: int = 0
    produced: int = 0  # what the job made, when it makes something (invoices, notifications sent)

    def add(self, other: JobOutcome) -> None:
        self.processed += other.processed
        self.failed += other.failed
        self.deferred += other.deferred
        self.produced += other.produced


class JobRun:
    """A job's pass over its subjects inside one transaction: call `each()` per subject."""

    def __init__(self, db: Session, job: str, now: datetime, *, retry_now: bool = False) -> None:
        """`retry_now`: process subjects that failed recently too (an admin's explicit request)."""
        self.db, self.now, self._retry_now = db, now, retry_now
        self.outcome = JobOutcome(job)
        self._failing = {f.subject: f for f in db.scalars(select(JobFailure).where(JobFailure.job == job))}

    def backing_off(self, subject: str) -> bool:
        """True while `subject` failed recently and its retry is not due yet."""
        failure = self._failing.get(subject)
        return not self._retry_now and failure is not None and failure.retry_at > self.now

    def each(self, subject: str, work: Callable[[], T]) -> T | None:
        """Run `work` for `subject` in a savepoint; its result, or None when it failed or waits to retry."""
        if self.backing_off(subject):
            self.outcome.deferred += 1
            return None
        try:
            with self.db.begin_nested():
                result = work()
        except Exception as exc:  # the loop boundary of a job: one subject's failure stays its own
            self._failed(subject, exc)
            return None
        self._succeeded(subject)
        return result

    def _succeeded(self, subject: str) -> None:
        failure = self._failing.pop(subject, None)
        if failure is not None:
            self.db.delete(failure)
            logger.info("job %s: %s succeeded after %d failed attempts", self.outcome.job, subject,
                        failure.attempts)  # fmt: skip
        self.outcome.processed += 1

    def each_unflushed(self, subject: str, work: Callable[[], T], discard: Callable[[], None]) -> T | None:
        """`each` without a savepoint, for work that only reads the database and changes objects in the
        session (flushed together after the pass, under no_autoflush): much cheaper per subject. When it
        fails, `discard()` must undo its changes to the session's objects (e.g. Session.expire)."""
        if self.backing_off(subject):
            self.outcome.deferred += 1
            return None
        try:
            result = work()
        except Exception as exc:  # the loop boundary of a job: one subject's failure stays its own
            discard()
            self._failed(subject, exc)
            return None
        self._succeeded(subject)
        return result

    def settle(self, considered: Iterable[str]) -> None:
        """For a job that saw all its candidates in this run: forget failures of subjects that are no longer
        candidates (a session invoiced to its end, a machine removed)."""
        gone = set(self._failing) - set(considered)
        if gone:
            job = self.outcome.job
            self.db.execute(delete(JobFailure).where(JobFailure.job == job, JobFailure.subject.in_(gone)))
            for subject in gone:
                del self._failing[subject]

    def _failed(self, subject: str, exc: Exception) -> None:
        job, now = self.outcome.job, self.now
        error_id = secrets.token_hex(6)
        logger.error("job %s: %s failed (error id %s)", job, subject, error_id, exc_info=exc)
        self.outcome.failed.append(subject)
        failure = self._failing.get(subject)
        if failure is None:
            failure = JobFailure(job=job, subject=subject[:200], attempts=0, first_failed_at=now)
            self.db.add(failure)
            self._failing[subject] = failure
        failure.attempts += 1
        failure.last_failed_at = now
        failure.retry_at = now + min(FIRST_RETRY * 2 ** (failure.attempts - 1), LONGEST_RETRY)
        failure.error = describe(exc)
        failure.error_id = error_id


def describe(exc: Exception) -> str:
    """What an admin is shown of a failure: a domain error's sentence; for anything else only its type,
    since its text may carry SQL and parameters (the log has the details under the error id)."""
    if isinstance(exc, CollectorError) or type(exc).__module__.split(".")[0] == "billing":
        text = str(exc)
    else:
        text = f"{type(exc).__name__} (unexpected; the collector's log has the details)"
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"


def current_failures(db: Session, job: str = "") -> list[JobFailure]:
    """Subjects that jobs are failing on now, oldest first (of one job when `job` is given)."""
    query = select(JobFailure).order_by(JobFailure.first_failed_at, JobFailure.id)
    if job:
        query = query.where(JobFailure.job == job)
    return list(db.scalars(query))
