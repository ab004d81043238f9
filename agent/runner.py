"""The agent's main loop: enroll once, then sample, spool and send until stopped."""

from __future__ import annotations

import logging
import threading
import time

import grpc

from agent import wire
from agent.config import AgentSettings
from agent.errors import EnrollmentFailed, NotEnrolled
from agent.facts import collect_facts
from agent.identity import Identity, load_identity, load_or_create_key, public_key_bytes, save_identity
from agent.sampler import SampleData, Sampler
from agent.sender import ReportSender
from agent.spool import SPOOL_FILE, Spool
from protos.rentmeter.v1 import agent_pb2, agent_pb2_grpc

logger = logging.getLogger(__name__)

CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
]


def open_channel(settings: AgentSettings) -> grpc.Channel:
    return grpc.insecure_channel(settings.collector, options=CHANNEL_OPTIONS)


def enroll(settings: AgentSettings, channel: grpc.Channel) -> Identity:
    """Enroll this machine with settings.token unless it already is; return its identity."""
    try:
        return load_identity(settings.state_dir)
    except NotEnrolled:
        if not settings.token:
            raise
    key = load_or_create_key(settings.state_dir)
    request = agent_pb2.EnrollRequest(
        token=settings.token, public_key=public_key_bytes(key), facts=wire.facts_to_proto(collect_facts())
    )
    try:
        response = agent_pb2_grpc.AgentServiceStub(channel).Enroll(request, timeout=30, wait_for_ready=True)
    except grpc.RpcError as exc:
        raise EnrollmentFailed(f"enrollment was refused: {exc.details()} ({exc.code().name})") from None
    save_identity(settings.state_dir, response.agent_id, response.machine_class, settings.collector)
    logger.info("enrolled as agent %s (class %s)", response.agent_id, response.machine_class)
    return Identity(response.agent_id, response.machine_class, key)


class Agent:
    """Samples every `interval` seconds; every `samples_per_report` samples, signs and spools a report."""

    def __init__(self, settings: AgentSettings, identity: Identity, channel: grpc.Channel) -> None:
        self.settings = settings
        self.identity = identity
        self.spool = Spool(settings.state_dir / SPOOL_FILE)
        self.sender = ReportSender(channel, self.spool, identity.agent_id)
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Run until stop(); then spool the partial batch and give delivery a few seconds."""
        sampler = Sampler()
        self.sender.start()
        logger.info(
            "agent %s sampling every %ss, reporting every %d samples to %s",
            self.identity.agent_id,
            self.settings.interval,
            self.settings.samples_per_report,
            self.settings.collector,
        )
        batch: list[SampleData] = []
        next_tick = time.monotonic() + self.settings.interval
        while not self._stop.wait(max(0.0, next_tick - time.monotonic())):
            batch.append(sampler.sample())
            next_tick += self.settings.interval
            if next_tick < time.monotonic():  # fell behind (suspend, overload): skip missed ticks
                next_tick = time.monotonic() + self.settings.interval
            if len(batch) >= self.settings.samples_per_report:
                self._spool_report(sampler, batch)
                batch = []
        batch.append(sampler.sample())
        self._spool_report(sampler, batch)
        self.sender.drain(timeout=5)
        self.sender.stop()
        self.spool.close()

    def _spool_report(self, sampler: Sampler, samples: list[SampleData]) -> None:
        logins, boot = sampler.logins(), sampler.boot_time_us()

        def signed(sequence: int) -> bytes:
            report = wire.build_report(self.identity.agent_id, sequence, samples, logins, boot)
            return wire.sign_report(self.identity, report).SerializeToString()

        self.spool.append(signed)
        self.sender.notify()
