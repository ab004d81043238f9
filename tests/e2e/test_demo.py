"""`make demo` / `python3 dev.py demo` and Ctrl-C: the session stops, the invoice is printed, nothing is
left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.harness import ROOT

STAMP = ROOT / ".venv" / ".installed"  # dev.py's mark of a .venv it installed


def _venv_is_dev_pys() -> bool:
    """dev.py runs .venv/bin/rentmeter; it (re)installs first when .venv is not its own or is stale."""
    pyproject = ROOT / "pyproject.toml"
    return STAMP.exists() and STAMP.stat().st_mtime >= pyproject.stat().st_mtime


@pytest.mark.skipif(not _venv_is_dev_pys(), reason="needs the .venv that `python3 dev.py venv` made")
@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGINT as a terminal sends them")
@pytest.mark.timeout(120)
def test_ctrl_c_on_dev_py_demo_prints_the_invoice_and_removes_the_temporary_folder(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    env.pop("RENTMETER_TOKEN", None)
    # Its own session, as a terminal's foreground job: Ctrl-C is SIGINT to every process of the group.
    with subprocess.Popen([sys.executable, str(ROOT / "dev.py"), "demo"], stdout=subprocess.PIPE, text=True,
                          env=env, start_new_session=True) as demo:  # fmt: skip
        assert demo.stdout is not None
        lines = []
        for line in demo.stdout:
            lines.append(line)
            if "covered" in line and "cost" in line:  # the rental runs and is billed
                break
        assert any(line.startswith("  ") and "covered" in line for line in lines), lines
        time.sleep(1.5)
        os.killpg(demo.pid, signal.SIGINT)
        rest = demo.stdout.read()
        assert demo.wait(60) == 0, rest
    assert "stopping the session" in rest and "Invoice RM-000001 (inv-" in rest and "total" in rest, rest
    assert "1 invoice(s) closed" in rest
    assert not list(tmp_path.glob("rentmeter-demo-*")), "the demo's temporary folder was left behind"
