"""The collector's wall clock is stepped back an hour, then forward two, while a prepaid session runs: the
scheduled jobs keep their intervals (live cost keeps moving) and the session stops when its money is gone
plus the grace, on time.

The collector runs as its own process under an LD_PRELOAD shim (tests/e2e/clockshift/clockshift.c, built
here with `cc`) that offsets only its CLOCK_REALTIME; monotonic clocks are untouched, as with a real step.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from agent.config import AgentSettings
from protos.rentmeter.v1 import machines_pb2, plans_pb2, sessions_pb2, wallets_pb2
from rentmeter.client import AdminClient
from rentmeter.embedded import running_agent
from tests.collector.helpers import plan_request
from tests.e2e.harness import ROOT, free_port, wait_for

SHIM_SOURCE = Path(__file__).resolve().parent / "clockshift" / "clockshift.c"
GRACE_S = 2.0


def _build_shim(directory: Path) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        if os.environ.get("CI"):
            pytest.fail("a C compiler (cc) is needed to build the clock shim")
        pytest.skip("no C compiler to build the clock shim")
    library = directory / "libclockshift.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-O2", "-o", str(library), str(SHIM_SOURCE), "-ldl"],
                   check=True)  # fmt: skip
    return library


class SteppedCollector:
    """`rentmeter collector serve` in a child process whose wall clock the test can step."""

    def __init__(self, directory: Path) -> None:
        self.offset_file = directory / "offset"
        self.offset_file.write_bytes(struct.pack("<q", 0))
        self.port = free_port()
        self.db_url = f"sqlite:///{directory / 'collector.db'}"
        self.log = directory / "collector.log"
        env = {
            **os.environ,
            "LD_PRELOAD": str(_build_shim(directory)),
            "CLOCKSHIFT_FILE": str(self.offset_file),
            "RENTMETER_RATING_INTERVAL": "1s",
            "RENTMETER_BALANCE_GRACE": f"{GRACE_S}s",
            "RENTMETER_LOW_BALANCE_ALERTS": "0.50",
        }
        subprocess.run([sys.executable, "-m", "rentmeter", "collector", "migrate", "--db", self.db_url],
                       check=True, cwd=ROOT, env=env, capture_output=True)  # fmt: skip
        self.token = subprocess.run(
            [sys.executable, "-m", "rentmeter", "collector", "token", "--db", self.db_url, "--label", "test"],
            check=True, cwd=ROOT, env=env, capture_output=True, text=True,
        ).stdout.split()[-1]  # fmt: skip
        command = [sys.executable, "-m", "rentmeter", "collector", "serve", "--listen",
                   f"127.0.0.1:{self.port}", "--db", self.db_url]  # fmt: skip
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=log)

    def set_offset(self, seconds: float) -> None:
        """Step the collector's wall clock to `seconds` from the real one (takes effect at once). Written in
        place: truncating the file would make the process's mapping of it fault (SIGBUS)."""
        descriptor = os.open(self.offset_file, os.O_WRONLY)
        try:
            os.pwrite(descriptor, struct.pack("<q", int(seconds * 10**9)), 0)
        finally:
            os.close(descriptor)

    def stop(self) -> None:
        assert self.process.poll() is None, f"the collector died ({self.process.returncode})"
        self.process.terminate()
        self.process.wait(20)


@pytest.fixture
def stepped(tmp_path: Path) -> Iterator[SteppedCollector]:
    collector = SteppedCollector(tmp_path)
    try:
        yield collector
    finally:
        collector.stop()


def _cost(admin: AdminClient, session_id: str) -> int:
    return admin.sessions.GetSession(sessions_pb2.GetSessionRequest(session_id=session_id)).cost.minor_units


@pytest.mark.timeout(120)
def test_jobs_keep_their_intervals_across_wall_clock_steps(stepped: SteppedCollector, tmp_path: Path) -> None:
    target = f"127.0.0.1:{stepped.port}"
    admin = AdminClient.connect(target, stepped.token)
    wait_for(lambda: _ready(admin), timeout=30, what="the collector")
    token = admin.machines.CreateEnrollmentToken(machines_pb2.CreateEnrollmentTokenRequest()).token
    settings = AgentSettings(collector=target, state_dir=tmp_path / "agent", interval=0.2, report_every=0.4,
                             token=token)  # fmt: skip
    admin.plans.CreatePlan(plan_request("fast", {"standard": "360.00"}))  # 10 cents a second
    admin.wallets.TopUp(
        wallets_pb2.TopUpRequest(renter="ida", amount="1.00", currency="EUR", idempotency_key="1")
    )
    with running_agent(settings) as agent:
        wait_for(lambda: agent.sender.acknowledged > 0)
        rental = admin.sessions.StartSession(
            sessions_pb2.StartSessionRequest(agent_id=agent.identity.agent_id, renter="ida", plan="fast")
        )
        request = sessions_pb2.GetSessionRequest(session_id=rental.session_id)
        time.sleep(2.5)
        stepped.set_offset(-3600)  # an hour back
        before = _cost(admin, rental.session_id)
        wait_for(
            lambda: _cost(admin, rental.session_id) > before + 10, timeout=6, what="rating after the step"
        )
        stepped.set_offset(+3600)  # two hours forward
        after = _cost(admin, rental.session_id)
        wait_for(lambda: _cost(admin, rental.session_id) > after + 10, timeout=6, what="rating after the 2nd")
        wait_for(lambda: admin.sessions.GetSession(request).state == sessions_pb2.RentalSession.STOPPED,
                 timeout=30, what="the stop at zero")  # fmt: skip
    stopped = admin.sessions.GetSession(request)
    ran_s = stopped.ended_at.ToDatetime() - stopped.started_at.ToDatetime()
    # 1.00 EUR lasts 10 s at 10 ct/s; the session stops GRACE_S later, within the 2 s the README promises.
    assert 10 + GRACE_S - 0.5 <= ran_s.total_seconds() <= 10 + GRACE_S + 2, ran_s
    log = stepped.log.read_text()
    assert "the wall clock stepped by -3600" in log and "the wall clock stepped by +7200" in log
    admin.close()


def _ready(admin: AdminClient) -> bool:
    try:
        admin.plans.ListPlans(plans_pb2.ListPlansRequest())
    except grpc.RpcError:
        return False
    return True
