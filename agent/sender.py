"""Delivery: a background thread streams spooled reports to the collector and deletes what it acknowledges.

On every (re)connect it sends the whole backlog oldest first, then new reports as they are spooled.
Resending is harmless: the collector counts each (agent, sequence) once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

import grpc

from agent.backoff import next_delay
from agent.spool import Spool
from protos.rentmeter.v1 import agent_pb2, agent_pb2_grpc

logger = logging.getLogger(__name__)

BATCH = 100


class ReportSender:
    def __init__(
        self,
        channel: grpc.Channel,
        spool: Spool,
        agent_id: str,
        on_control: Callable[[agent_pb2.Control], None] = lambda control: None,
    ) -> None:
        self._stub = agent_pb2_grpc.AgentServiceStub(channel)
        self._on_control = on_control
        self._spool = spool
        self._agent_id = agent_id
        self._wakeup = threading.Condition()
        self._stopping = threading.Event()
        self._call: grpc.Future | None = None
        self._thread = threading.Thread(target=self._run, name="report-sender", daemon=True)
        self.acknowledged = 0
        self.rejected = 0

    def start(self) -> None:
        self._thread.start()

    def notify(self) -> None:
        """Tell the sender that a new report is in the spool."""
        with self._wakeup:
            self._wakeup.notify_all()

    def drain(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the spool to empty; True if it did."""
        waited = 0.0
        while len(self._spool) and waited < timeout:
            self._stopping.wait(0.05)
            waited += 0.05
        return not len(self._spool)

    def stop(self) -> None:
        self._stopping.set()
        self.notify()
        call = self._call
        if call is not None:
            call.cancel()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        attempt = 0
        while not self._stopping.is_set():
            try:
                if self._stream():
                    attempt = 0
                self._stopping.wait(0.5)  # the collector ended the stream (e.g. restarting): reconnect
                continue
            except grpc.RpcError as exc:
                code = exc.code() if hasattr(exc, "code") else None
                if self._stopping.is_set():
                    break
                delay = next_delay(attempt, code)
                logger.warning(
                    "agent %s: stream to collector failed (%s: %s); retrying in %.1fs",
                    self._agent_id,
                    code,
                    exc.details() if hasattr(exc, "details") else exc,
                    delay,
                )
                attempt += 1
                self._stopping.wait(delay)

    def _stream(self) -> bool:
        """One stream's life; returns True if it delivered anything."""
        call = self._stub.StreamReports(self._requests(), wait_for_ready=False)
        self._call = call
        delivered = False
        for response in call:
            done = []
            for ack in response.acks:
                done.append(ack.sequence)
                if ack.status == agent_pb2.ReportAck.REJECTED:
                    self.rejected += 1
                    logger.error("agent %s: report %d rejected: %s", self._agent_id, ack.sequence, ack.reason)
                elif ack.reason:
                    logger.warning("agent %s: report %d: %s", self._agent_id, ack.sequence, ack.reason)
            self._spool.acknowledge(done)
            self.acknowledged += len(done)
            delivered = delivered or bool(done)
            for control in response.controls:
                self._on_control(control)
        return delivered

    def _requests(self) -> Iterator[agent_pb2.SignedReport]:
        last_sent = 0
        while not self._stopping.is_set():
            batch = self._spool.take_for_sending(after=last_sent, limit=BATCH)
            if not batch:
                with self._wakeup:
                    self._wakeup.wait(timeout=1.0)
                continue
            for sequence, envelope in batch:
                yield agent_pb2.SignedReport.FromString(envelope)
                last_sent = sequence
