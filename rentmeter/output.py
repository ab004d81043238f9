"""What the commands' renderers share: the console, and times, durations and sizes as printed."""

from __future__ import annotations

import sys
from datetime import UTC
from zoneinfo import ZoneInfo

from google.protobuf.timestamp_pb2 import Timestamp
from rich.console import Console
from rich.table import Column

# A terminal uses its own width. Into a pipe or a file nothing is wrapped or cut: ids stay whole, one
# line stays one line (rich would assume 80 columns there).
UNWRAPPED = 10_000
console = Console(highlight=False, width=None if sys.stdout.isatty() else UNWRAPPED)


def id_column(header: str) -> Column:
    """A table column for ids: kept whole as long as the other columns can give way; folded, never cut
    with an ellipsis, on a terminal too narrow for it."""
    return Column(header, no_wrap=True, overflow="fold")


def when(ts: Timestamp, present: bool = True, zone: str = "") -> str:
    """An instant as ISO 8601: in UTC ("…Z"), or local with its offset in the IANA `zone` when given."""
    if not present or (ts.seconds == 0 and ts.nanos == 0):
        return "-"
    moment = ts.ToDatetime(tzinfo=UTC)
    if zone:
        return moment.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def seconds(micros: int) -> str:
    return f"{micros / 1e6:,.1f} s"


def megabytes(count: int) -> str:
    return f"{count / 1e6:,.3f} MB"
