"""What a report may carry. A valid signature proves who sent a report, not that its content is sane: an
agent's key on a hostile machine can sign a 5 MiB login name. Each bound has its own metrics label.

The agent keeps to the same bounds when it builds a report (agent/limits.py; a test checks they agree).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from collector.core.clock import to_us

if TYPE_CHECKING:
    from collector.metering.ingest import IncomingReport

MAX_FUTURE_SKEW = timedelta(minutes=5)
MAX_SAMPLES_PER_REPORT = 10_000
MAX_LOGINS = 256
MAX_LOGIN_FIELD_CHARS = 256  # user, terminal, host
MAX_GPUS_PER_SAMPLE = 64
MAX_PROCESSES_PER_GPU = 1024
MAX_UUID_CHARS = 80  # gpu_samples.uuid
MAX_SESSION_ID_CHARS = 40
MAX_GAPS_PER_REPORT = 100
MAX_GAP_REASON_CHARS = 200
# Usage queries look this far back for samples straddling their start.
MAX_SAMPLE_US = 3600 * 1_000_000
# Stored numbers are signed 64-bit (BigInteger); GPU indexes 32-bit.
MAX_STORED = 2**63 - 1
MAX_GPU_INDEX = 2**31 - 1
_SAMPLE_COUNTERS = ("cpu_busy_us", "memory_used_bytes", "memory_total_bytes", "disk_read_bytes",
                    "disk_write_bytes", "net_rx_bytes", "net_tx_bytes", "host_energy_mj")  # fmt: skip
_GPU_COUNTERS = ("memory_used_bytes", "memory_total_bytes", "power_mw", "energy_mj")


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a report is refused: `kind` is a bounded metrics label, `text` the sentence in the ack."""

    kind: str
    text: str


def validation_problem(report: IncomingReport, now: datetime, enrolled_at: datetime) -> Problem | None:
    """Why `report` cannot be stored, or None when it is well formed, within bounds and plausible."""
    return size_problem(report) or number_problem(report, now) or _time_problem(report, now, enrolled_at)


def size_problem(report: IncomingReport) -> Problem | None:
    """The first bound `report` exceeds, if any."""
    if len(report.samples) > MAX_SAMPLES_PER_REPORT:
        return _over("too_many_samples", f"{len(report.samples)} samples", MAX_SAMPLES_PER_REPORT)
    if len(report.logins) > MAX_LOGINS:
        return _over("too_many_logins", f"{len(report.logins)} logins", MAX_LOGINS)
    for login in report.logins:
        for name in ("user", "terminal", "host"):
            if len(str(login.get(name, ""))) > MAX_LOGIN_FIELD_CHARS:
                return _over("login_too_long", f"a login {name} of {len(login[name])} characters",
                             MAX_LOGIN_FIELD_CHARS)  # fmt: skip
    if len(report.rental_session_id) > MAX_SESSION_ID_CHARS:
        return _over("session_id_too_long", "a rental session id of "
                     f"{len(report.rental_session_id)} characters", MAX_SESSION_ID_CHARS)  # fmt: skip
    if len(report.gaps) > MAX_GAPS_PER_REPORT:
        return _over("too_many_gaps", f"{len(report.gaps)} gaps", MAX_GAPS_PER_REPORT)
    if any(len(gap.reason) > MAX_GAP_REASON_CHARS for gap in report.gaps):
        return _over("gap_reason_too_long", "a gap reason longer", MAX_GAP_REASON_CHARS)
    for n, sample in enumerate(report.samples):
        if len(sample.gpus) > MAX_GPUS_PER_SAMPLE:
            return _over("too_many_gpus", f"sample {n} with {len(sample.gpus)} GPUs", MAX_GPUS_PER_SAMPLE)
        for gpu in sample.gpus:
            if len(gpu.processes) > MAX_PROCESSES_PER_GPU:
                return _over("too_many_processes", f"GPU {gpu.gpu_index} of sample {n} with "
                             f"{len(gpu.processes)} processes", MAX_PROCESSES_PER_GPU)  # fmt: skip
            if len(gpu.uuid) > MAX_UUID_CHARS:
                return _over("uuid_too_long", f"a GPU uuid of {len(gpu.uuid)} characters", MAX_UUID_CHARS)
    return None


def number_problem(report: IncomingReport, now: datetime) -> Problem | None:
    """A number that cannot be stored (beyond 64-bit signed, not finite) or a gap in the future."""
    if report.sequence > MAX_STORED:
        return Problem("number_too_large", f"sequence {report.sequence} is beyond {MAX_STORED}")
    if report.boot_time_us is not None and not 0 <= report.boot_time_us <= MAX_STORED // 2:
        return Problem("number_too_large", "boot time out of range")
    latest = to_us(now + MAX_FUTURE_SKEW)
    for gap in report.gaps:
        if (gap.sequence or 0) > MAX_STORED:
            return Problem("number_too_large", f"gap sequence {gap.sequence} is beyond {MAX_STORED}")
        if any(t is not None and not 0 <= t <= latest for t in (gap.start_us, gap.end_us)):
            return Problem("clock_skew", "a gap's time is before 1970 or in the future")
    for n, sample in enumerate(report.samples):
        if not math.isfinite(sample.cpu_utilization) or sample.cpu_utilization < 0:
            return Problem("malformed", f"sample {n} has a CPU utilization of {sample.cpu_utilization}")
        if any(getattr(sample, name) > MAX_STORED for name in _SAMPLE_COUNTERS):
            return Problem("number_too_large", f"sample {n} has a counter beyond {MAX_STORED}")
        for gpu in sample.gpus:
            if gpu.gpu_index > MAX_GPU_INDEX or any(getattr(gpu, c) > MAX_STORED for c in _GPU_COUNTERS):
                return Problem("number_too_large", f"sample {n} has a GPU number beyond what is stored")
    return None


def _over(kind: str, what: str, limit: int) -> Problem:
    return Problem(kind, f"report has {what}, more than {limit}")


def _time_problem(report: IncomingReport, now: datetime, enrolled_at: datetime) -> Problem | None:
    if report.end_us <= report.start_us:
        return Problem("malformed", "report end is not after its start")
    if not report.samples:
        return Problem("malformed", "report has no samples")
    if report.end_us > to_us(now + MAX_FUTURE_SKEW):
        return Problem("clock_skew", f"report ends more than {MAX_FUTURE_SKEW} in the future")
    if report.start_us < to_us(enrolled_at - MAX_FUTURE_SKEW):
        return Problem("before_enrollment", "report starts before the machine enrolled")
    previous_end = report.start_us
    for n, sample in enumerate(report.samples):
        if sample.end_us <= sample.start_us:
            return Problem("malformed", f"sample {n} ends before it starts")
        if sample.end_us - sample.start_us > MAX_SAMPLE_US:
            return Problem("malformed", f"sample {n} is longer than one hour")
        if sample.start_us < previous_end:
            return Problem("malformed", f"sample {n} overlaps the one before it or starts before the report")
        previous_end = sample.end_us
    if previous_end > report.end_us:
        return Problem("malformed", "samples extend past the report's end")
    return None
