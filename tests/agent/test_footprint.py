"""The agent stays light: what it imports, and the memory it gives back after start-up."""

from __future__ import annotations

import subprocess
import sys

import pytest

from agent.memory import read_only_clean_mappings

AGENT_IMPORTS = "import rentmeter.cli, agent.runner, agent.config, agent.service, agent.memory"


def test_agent_imports_no_collector_libraries() -> None:
    code = f"{AGENT_IMPORTS}; import sys; print(sorted(m for m in sys.modules if m.split('.')[0] in " \
        "('sqlalchemy', 'apscheduler', 'alembic', 'rich', 'collector', 'billing')))"  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


SMAPS = """\
55d0c0000000-55d0c0001000 r--p 00000000 fd:01 123 /usr/bin/python3.11
Rss:                   4 kB
Anonymous:             0 kB
7f0000000000-7f0000100000 r-xp 00010000 fd:01 456 /venv/grpc/cygrpc.so
Rss:                1000 kB
Anonymous:             0 kB
7f0000100000-7f0000110000 r--p 00110000 fd:01 456 /venv/grpc/cygrpc.so
Rss:                  64 kB
Anonymous:            64 kB
7f0000110000-7f0000120000 rw-p 00120000 fd:01 456 /venv/grpc/cygrpc.so
Rss:                  64 kB
Anonymous:             0 kB
7f0000200000-7f0000300000 rw-p 00000000 00:00 0 [heap]
Rss:                1024 kB
Anonymous:          1024 kB
"""


def test_only_read_only_file_mappings_without_private_pages_are_released() -> None:
    assert list(read_only_clean_mappings(SMAPS)) == [
        (0x55D0C0000000, 0x55D0C0001000),
        (0x7F0000000000, 0x7F0000100000),
    ]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")
def test_release_lowers_resident_memory_and_the_process_keeps_working() -> None:
    code = (
        f"{AGENT_IMPORTS}; import psutil, grpc, agent.sampler as s\n"
        "from agent.memory import release_startup_memory\n"
        "before = psutil.Process().memory_info().rss\n"
        "assert release_startup_memory() > 0\n"
        "after = psutil.Process().memory_info().rss\n"
        "sampler = s.Sampler(); sampler.sample(); grpc.insecure_channel('127.0.0.1:1').close()\n"
        "print(before - after)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(result.stdout) > 5 * 2**20  # megabytes of start-up pages handed back


def test_the_agent_command_loads_its_own_noun_only() -> None:
    """`rentmeter agent run` builds the agent's command line alone: no other command's imports, no
    importlib.metadata (only --version reads it) and no `cryptography` (tests/agent/test_signing.py)."""
    code = (
        "import sys; from rentmeter.cli import build_parser, _named_noun; "
        "names = _named_noun(['--collector', 'h:1', 'agent', 'run', '--interval', '1']); "
        "build_parser(names); import agent.runner; print(names); "
        "print(sorted(m for m in sys.modules if m.startswith(('rentmeter.commands.', 'importlib.metadata', "
        "'email', 'cryptography'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == [
        "('agent',)",
        "['rentmeter.commands.agent', 'rentmeter.commands.remote']",
    ]
