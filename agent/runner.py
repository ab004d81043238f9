"""The agent's main loop: enroll once, then sample, spool and send until stopped."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

import grpc

from agent import wire
from agent.actions import ActionDispatcher, ControlEvent
from agent.backoff import BACKLOG_MAX_DELAY_S, next_delay
from agent.compaction import merge_reports
from agent.config import AgentSettings
from agent.errors import AgentError, EnrollmentFailed, NotEnrolled
from agent.facts import collect_facts
from agent.identity import (
    KEY_FILE,
    Identity,
    load_identity,
    load_or_create_key,
    load_signing_key,
    public_key_bytes,
    save_identity,
    write_atomic,
)
from agent.memory import release_startup_memory
from agent.sampler import SampleData, Sampler
from agent.sender import ReportSender
from agent.spool import SPOOL_FILE, Gap, Spool, open_spool
from agent.ticks import add_up
from protos.rentmeter.v1 import agent_pb2, agent_pb2_grpc
from protos.signing import rotation_signing_bytes

logger = logging.getLogger(__name__)

ENROLL_TIMEOUT = 30.0
TRIM_EVERY_S = 3600.0
# psutil derives boot time from the wall clock, so it wobbles by a little; a reboot moves it a lot.
REBOOT_TOLERANCE_US = 5_000_000
SHUFFLED = {"shuffleAddressList": True}
CHANNEL_OPTIONS = [
    # gRPC's own reconnect backoff (default up to 120 s) must not outlast ours: while its connection backs
    # off, a new stream fails at once without trying, so a backlog would wait for gRPC, not for us.
    ("grpc.initial_reconnect_backoff_ms", 500),
    ("grpc.min_reconnect_backoff_ms", 500),
    ("grpc.max_reconnect_backoff_ms", int(BACKLOG_MAX_DELAY_S * 1000)),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    # Given a name with several collectors (dns:///collectors.example.net:50051, a headless Kubernetes
    # Service), each agent streams to one picked at random, and to another when that one goes away.
    (
        "grpc.service_config",
        json.dumps({"loadBalancingConfig": [{"pick_first": {"shuffleAddressList": True}}]}),
    ),
]


def open_channel(settings: AgentSettings) -> grpc.Channel:
    """TLS to the collector when tls_ca is set (server certificate verified against it; client certificate
    when tls_cert/tls_key are set); plaintext otherwise, with a warning unless the collector is on
    loopback."""
    if not settings.tls_ca:
        if not is_loopback_target(settings.collector):
            logger.warning(
                "plaintext connection to %s: set tls_ca to verify the collector", settings.collector
            )
        return grpc.insecure_channel(settings.collector, options=CHANNEL_OPTIONS)
    try:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=Path(settings.tls_ca).read_bytes(),
            private_key=Path(settings.tls_key).read_bytes() if settings.tls_key else None,
            certificate_chain=Path(settings.tls_cert).read_bytes() if settings.tls_cert else None,
        )
    except OSError as exc:
        raise AgentError(f"cannot read TLS file {exc.filename}: {exc.strerror}") from None
    return grpc.secure_channel(settings.collector, credentials, options=CHANNEL_OPTIONS)


def is_loopback_target(target: str) -> bool:
    host = target.rsplit(":", 1)[0].strip("[]")
    return host == "localhost" or host.startswith("127.") or host == "::1"


def enroll(settings: AgentSettings, channel: grpc.Channel, timeout: float = ENROLL_TIMEOUT) -> Identity:
    """Enroll this machine with settings.token unless it already is; return its identity. While the
    collector cannot be reached, retries for up to `timeout` seconds."""
    try:
        return load_identity(settings.state_dir)
    except NotEnrolled:
        if not settings.token:
            raise
    key = load_or_create_key(settings.state_dir)
    request = agent_pb2.EnrollRequest(
        token=settings.token, public_key=public_key_bytes(key), facts=wire.facts_to_proto(collect_facts())
    )
    response = _enroll_call(agent_pb2_grpc.AgentServiceStub(channel), request, timeout, settings.collector)
    save_identity(settings.state_dir, response.agent_id, response.machine_class, settings.collector)
    logger.info("enrolled as agent %s (class %s)", response.agent_id, response.machine_class)
    return Identity(response.agent_id, response.machine_class, load_signing_key(settings.state_dir))


_CONTROL_KINDS = {
    agent_pb2.Control.SESSION_STARTED: "session-started",
    agent_pb2.Control.SESSION_STOPPED: "session-stopped",
    agent_pb2.Control.LOW_BALANCE: "low-balance",
    agent_pb2.Control.LOCK_NOW: "lock-now",
    agent_pb2.Control.IDLE_WARNING: "idle-warning",
}


def _enroll_call(
    stub: agent_pb2_grpc.AgentServiceStub, request: agent_pb2.EnrollRequest, timeout: float, target: str
) -> agent_pb2.EnrollResponse:
    """Enroll at `target`, retrying while it cannot be reached, for up to `timeout` seconds; every attempt
    and why it failed is logged, so that a wrong address or a firewall shows at once."""
    deadline = time.monotonic() + timeout
    attempt = 0
    while True:
        attempt += 1
        logger.info("enrolling with the collector at %s (attempt %d)", target, attempt)
        try:
            return stub.Enroll(request, timeout=max(1.0, min(10.0, deadline - time.monotonic())))
        except grpc.RpcError as exc:
            retry = exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
            left = deadline - time.monotonic()
            if not retry or left <= 0:
                raise EnrollmentFailed(
                    f"enrollment at {target} failed: {exc.details()} ({exc.code().name})"
                ) from None
            delay = min(next_delay(attempt - 1, exc.code()), max(0.0, left))
            logger.warning("enrollment at %s failed: %s (%s); trying again in %.1fs, giving up in %.0fs",
                           target, exc.details(), exc.code().name, delay, left)  # fmt: skip
            time.sleep(delay)


def _wall_us() -> int:
    return time.time_ns() // 1000


class Agent:
    """Samples every `interval` seconds into the spool; every `samples_per_report` samples, seals them into
    a signed report for the sender."""

    def __init__(
        self,
        settings: AgentSettings,
        identity: Identity,
        channel: grpc.Channel,
        *,
        sampler: Sampler | None = None,
    ) -> None:
        self.settings = settings
        self.identity = identity
        self.spool = open_spool(
            settings.state_dir / SPOOL_FILE, max_bytes=settings.spool_max_bytes, now_us=_wall_us
        )
        self.sender = ReportSender(
            channel, self.spool, identity.agent_id, on_control=self._on_control,
            renumber=lambda sequence, envelope: wire.renumber(identity, sequence, envelope),
        )  # fmt: skip
        self.actions = ActionDispatcher(settings.actions)
        self.active_session = ""
        self._unsealed: SampleData | None = None  # the samples since the last seal, added up (live ticks)
        self._sampler = sampler
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Run until stop(); then seal the partial report and give delivery a few seconds."""
        sampler = self._sampler or Sampler()
        self.sender.start()
        settings = self.settings
        logger.info(
            "agent %s sampling every %ss, reporting every %d samples to %s",
            self.identity.agent_id, settings.interval, settings.samples_per_report, settings.collector,
        )  # fmt: skip
        self._note_reboot(sampler.boot_time_us())
        waiting = self.spool.sample_count()  # samples a previous run took but did not report
        next_trim = 0.0 if settings.trim_memory else float("inf")
        next_tick = time.monotonic() + self.settings.interval
        while not self._stop.wait(max(0.0, next_tick - time.monotonic())):
            next_tick += self.settings.interval
            if next_tick < time.monotonic():  # fell behind (overload): skip missed ticks
                next_tick = time.monotonic() + self.settings.interval
            try:
                sample = sampler.sample()
                self.spool.add_sample(wire.sample_to_proto(sample).SerializeToString())
                waiting += 1
                if waiting >= self.settings.samples_per_report:
                    self._seal(sampler)
                    waiting = 0
                else:
                    self._live_tick(sample)
            except Exception:  # one bad tick (a psutil or disk error) must not end the agent
                logger.exception(
                    "agent %s: sampling or spooling failed; trying again next tick", self.identity.agent_id
                )
            if time.monotonic() >= next_trim and self.sender.acknowledged:
                released = release_startup_memory()
                logger.debug("agent %s: released %d start-up mappings", self.identity.agent_id, released)
                next_trim = time.monotonic() + TRIM_EVERY_S
        self.spool.add_sample(wire.sample_to_proto(sampler.sample()).SerializeToString())
        self._seal(sampler)
        self.sender.drain(timeout=5)
        self.sender.stop()
        self.spool.close()

    def _note_reboot(self, boot_time_us: int) -> None:
        """Log a reboot since the last run. Counters start from a fresh baseline on every start anyway."""
        previous = self.spool.remember("boot_time_us", boot_time_us)
        if previous is not None and abs(boot_time_us - previous) > REBOOT_TOLERANCE_US:
            logger.info(
                "agent %s: the machine rebooted (or its clock stepped) since the last run; boot time %+.0f s",
                self.identity.agent_id, (boot_time_us - previous) / 1e6,
            )  # fmt: skip

    def _on_control(self, control: agent_pb2.Control) -> None:
        """Track the active rental session and run the host's action (called on the sender thread)."""
        kind = _CONTROL_KINDS.get(control.kind)
        if kind is None:
            logger.warning("agent %s: unknown control kind %d ignored", self.identity.agent_id, control.kind)
            return
        if kind == "session-started":
            if self.active_session == control.session_id:
                return  # told again after a reconnect
            self.active_session = control.session_id
        elif kind == "session-stopped" and self.active_session == control.session_id:
            self.active_session = ""
        self.actions.dispatch(ControlEvent(kind, control.session_id, control.renter, control.message))

    def _live_tick(self, sample: SampleData) -> None:
        """While a session is open, send what the machine used since the last seal (shown, not billed)."""
        self._unsealed = add_up(self._unsealed, sample)
        session = self.active_session
        if session and self.settings.live_ticks:
            self.sender.tick(wire.live_tick(self.identity.agent_id, session, self._unsealed))

    def _seal(self, sampler: Sampler) -> None:
        self._unsealed = None
        logins, boot = sampler.logins(), sampler.boot_time_us()
        agent_id, session = self.identity.agent_id, self.active_session

        def signed(sequence: int, samples: list[bytes], gaps: list[Gap]) -> bytes:
            parsed = [agent_pb2.Sample.FromString(data) for data in samples]
            report = wire.build_report(agent_id, sequence, parsed, logins, boot, gaps)
            report.rental_session_id = session
            return wire.sign_report(self.identity, report).SerializeToString()

        self.spool.seal(signed)
        merged = self.spool.compact(
            lambda sequence, envelopes: merge_reports(self.identity, sequence, envelopes)
        )
        if merged:
            logger.warning("agent %s: spool full, merged %d old reports into coarser ones", agent_id, merged)
        self.sender.notify()


NEW_KEY_FILE = "agent.key.new"


def rotate_key(settings: AgentSettings, channel: grpc.Channel, timeout: float = ENROLL_TIMEOUT) -> int:
    """Replace this machine's key (with the agent stopped); return the last sequence the old key signed.

    The new key is written next to the old one first, the collector is asked to switch (signed by the old
    key), and only then does the new key take the old one's place. Interrupted, it can be run again: the
    same new key is offered, and the collector answers a repeated rotation as done. Reports still in the
    spool keep their old signatures: the collector accepts the old key for them.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    identity = load_identity(settings.state_dir)
    spool = Spool(settings.state_dir / SPOOL_FILE, max_bytes=settings.spool_max_bytes)
    try:
        last_old = spool.last_sequence()
    finally:
        spool.close()
    new_path = settings.state_dir / NEW_KEY_FILE
    if new_path.exists():
        new_key = serialization.load_pem_private_key(new_path.read_bytes(), password=None)
        assert isinstance(new_key, Ed25519PrivateKey)
    else:
        new_key = Ed25519PrivateKey.generate()
        pem = new_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        write_atomic(new_path, pem, 0o600)
    new_public = public_key_bytes(new_key)
    request = agent_pb2.RotateKeyRequest(
        agent_id=identity.agent_id, new_public_key=new_public, last_old_sequence=last_old,
        signature=identity.sign(rotation_signing_bytes(identity.agent_id, new_public, last_old)),
    )  # fmt: skip
    try:
        agent_pb2_grpc.AgentServiceStub(channel).RotateKey(request, timeout=timeout)
    except grpc.RpcError as exc:
        raise EnrollmentFailed(f"the collector refused the new key: {exc.details()}") from None
    os.replace(new_path, settings.state_dir / KEY_FILE)
    logger.info("agent %s: key rotated; reports up to %d keep the old signature", identity.agent_id, last_old)
    return last_old
