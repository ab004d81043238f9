"""`rentmeter jobs status`: how the collector's scheduled jobs last ran and which subjects they fail on."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rentmeter.commands.remote import Commands, remote_options, show, with_client

if TYPE_CHECKING:
    from protos.rentmeter.v1 import jobs_pb2
    from rentmeter.client import AdminClient


def register(commands: Commands) -> None:
    jobs = commands.add_parser("jobs", help="the collector's scheduled jobs").add_subparsers(
        dest="action", required=True
    )
    jobs.add_parser(
        "status",
        parents=[remote_options(prints=True)],
        help="each job's last run, and the sessions, renters, invoices... they fail on (exit 1 if any)",
    ).set_defaults(handler=jobs_status)


@with_client
def jobs_status(client: AdminClient, args: argparse.Namespace) -> int:
    from protos.rentmeter.v1 import jobs_pb2

    status = client.jobs.GetJobStatus(jobs_pb2.GetJobStatusRequest(), timeout=30)
    show(args, status, lambda: render_job_status(status))
    return 1 if status.failures or any(job.error for job in status.jobs) else 0


def render_job_status(status: jobs_pb2.JobStatus) -> None:
    from rich.table import Table

    from rentmeter.output import console, id_column, when

    jobs = Table("job", "every", "runs", "last run", "took", "done", "failed", "waiting", "error")
    for job in status.jobs:
        jobs.add_row(
            job.name, f"{job.interval_seconds:g} s", str(job.runs), when(job.last_started),
            f"{job.last_duration_seconds:.3f} s", str(job.processed), str(job.failed), str(job.deferred),
            job.error or "-",
        )  # fmt: skip
    console.print(jobs)
    if not status.failures:
        console.print("no failures: every session, renter, invoice, notification and machine is processed")
        return
    failures = Table(
        "job", id_column("subject"), "attempts", "since", "retry at", "error", id_column("error id")
    )
    for f in status.failures:
        failures.add_row(
            f.job, f.subject, str(f.attempts), when(f.first_failed), when(f.retry_at), f.error, f.error_id
        )
    console.print(failures)
