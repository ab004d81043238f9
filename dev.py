#!/usr/bin/env python3
"""Set-up and entry point for a fresh checkout; needs only Python >= 3.11.

    python3 dev.py demo [ARGS]   create .venv if needed, then run `rentmeter demo ARGS`
    python3 dev.py test [ARGS]   create .venv if needed, check types (mypy), then run the tests (pytest ARGS)
    python3 dev.py venv          only create or update .venv

The virtual environment is re-installed whenever pyproject.toml changes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed"


def ensure_venv() -> None:
    pyproject = ROOT / "pyproject.toml"
    if STAMP.exists() and STAMP.stat().st_mtime >= pyproject.stat().st_mtime:
        return
    if not (BIN / "python").exists():
        print("creating .venv", flush=True)
        venv.create(VENV, with_pip=True)
    print("installing rentmeter and its test tools into .venv", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "--editable", f"{ROOT}[dev]"], check=True)
    STAMP.touch()


def run_to_the_end(command: list[str]) -> int:
    """Run `command` and wait until it ends; return its exit code.

    Ctrl-C reaches the child from the terminal (one process group), and the child decides what it means:
    the demo stops its session and prints the invoice. So this process ignores SIGINT meanwhile (subprocess's
    own wait would kill the child on KeyboardInterrupt) and passes SIGTERM on, which no terminal sends to
    the whole group.
    """
    child = subprocess.Popen(command, cwd=ROOT)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signum))
    try:
        return child.wait()
    finally:
        signal.signal(signal.SIGINT, previous)


def run_tests(pytest_args: list[str]) -> int:
    """mypy over the packages [tool.mypy] names, then pytest; non-zero when either fails. Both always run,
    so that one run shows every problem."""
    python = str(BIN / "python")
    print("checking types (mypy)", flush=True)
    types = subprocess.call([python, "-m", "mypy"], cwd=ROOT)
    # Four workers (pytest-xdist): most end-to-end tests wait on timers and processes, so even two cores run
    # them about twice as fast; each worker has its own PostgreSQL database (tests/conftest.py).
    workers = [] if any(a.startswith(("-n", "--numprocesses")) for a in pytest_args) else ["-n", "4"]
    tests = subprocess.call([python, "-m", "pytest", *workers, *pytest_args], cwd=ROOT)
    if types:
        print("mypy found type errors (listed above the tests)", file=sys.stderr)
    return tests or types


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs under whatever python3 the machine has
        raise SystemExit(f"rentmeter needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not argv or argv[0] not in ("demo", "test", "venv"):
        print(__doc__)
        return 2
    ensure_venv()
    command, rest = argv[0], argv[1:]
    if command == "demo":
        return run_to_the_end([str(BIN / "rentmeter"), "demo", *rest])
    if command == "test":
        return run_tests(rest)
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        raise SystemExit(130) from None
