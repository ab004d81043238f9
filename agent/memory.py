"""Giving memory back after start-up (Linux).

Importing grpc, cryptography and protobuf touches megabytes of their shared libraries' code that the agent
never runs again; those clean pages stay in its resident set. Once the agent has sent a report (so every
steady-state path has run), it unmaps the resident pages of every read-only, file-backed mapping that holds
no private copy of anything (smaps `Anonymous: 0 kB`), with madvise(MADV_DONTNEED). For such mappings this
discards nothing: a page touched again is read back from the page cache (where it usually still is, and
where other processes keep it). Writable mappings, the heap and the stack are never touched. Freed heap is
returned with malloc_trim. Elsewhere this is a no-op; turn it off with `trim_memory = false`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
from collections.abc import Iterator

logger = logging.getLogger(__name__)

MADV_DONTNEED = 4


def read_only_clean_mappings(smaps: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each read-only, file-backed mapping without anonymous pages, from smaps text."""
    start = end = 0
    eligible = False
    for line in smaps.splitlines():
        fields = line.split()
        if "-" in fields[0] and len(fields) >= 5 and ":" in fields[3]:  # a mapping's header line
            low, high = fields[0].split("-")
            start, end = int(low, 16), int(high, 16)
            path = fields[5] if len(fields) >= 6 else ""
            eligible = path.startswith("/") and "w" not in fields[1]
        elif fields[0] == "Anonymous:" and eligible and fields[1] == "0":
            yield start, end


def release_startup_memory() -> int:
    """Unmap clean read-only file pages and trim the heap; return how many mappings were released."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        with open("/proc/self/smaps") as smaps:
            text = smaps.read()
        released = sum(libc.madvise(a, b - a, MADV_DONTNEED) == 0 for a, b in read_only_clean_mappings(text))
        if hasattr(libc, "malloc_trim"):
            libc.malloc_trim(0)
        return released
    except OSError as exc:  # no libc or no /proc: nothing to give back
        logger.debug("memory trim unavailable: %s", exc)
        return 0
