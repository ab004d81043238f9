"""What the commands' renderers share: the console, and times, durations and sizes as printed."""

from __future__ import annotations

import sys
from datetime import UTC

from google.protobuf.timestamp_pb2 import Timestamp
from rich.console import Console

# Wide enough for an invoice when the output is a pipe or a log (a terminal uses its own width).
console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)


def when(ts: Timestamp, present: bool = True) -> str:
    if not present or (ts.seconds == 0 and ts.nanos == 0):
        return "-"
    return ts.ToDatetime(tzinfo=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def seconds(micros: int) -> str:
    return f"{micros / 1e6:,.1f} s"


def megabytes(count: int) -> str:
    return f"{count / 1e6:,.3f} MB"
