"""Delivery: a background thread streams spooled reports to the collector and acts on each ack.

On every (re)connect it sends the whole backlog oldest first, then new reports as they are spooled.
Resending is harmless: the collector counts each (agent, sequence) once. Per ack:
- ACCEPTED, DUPLICATE: delivered, deleted; REJECTED: refused for good (logged), deleted;
- CONFLICT: the collector holds another report under that sequence: numbered again and resent;
- FORGED: the spooled copy no longer verifies: quarantined (kept aside), told as a gap, not resent.
A copy that does not even decode is quarantined before it is sent. The collector's last stored sequence
(first message of a stream) raises the spool's floor for new sequence numbers.

Nothing ends delivery for good: a gRPC error, a spool failure or any other exception is logged and
followed by a backoff (agent.backoff.next_delay, honouring the server's retry hints) and a new stream.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator

import grpc
from google.protobuf.message import DecodeError

from agent import wire
from agent.backoff import next_delay, retry_hint
from agent.spool import Gap, Renumber, Spool
from protos.rentmeter.v1 import agent_pb2, agent_pb2_grpc

logger = logging.getLogger(__name__)

BATCH = 100
# Reports packed into one stream message (SignedReport.more) once the collector says it reads them: a
# backlog then costs one message per PACK reports instead of one each.
PACK = 50
_DONE = (agent_pb2.ReportAck.ACCEPTED, agent_pb2.ReportAck.DUPLICATE, agent_pb2.ReportAck.REJECTED)


class ReportSender:
    def __init__(
        self,
        channel: grpc.Channel,
        spool: Spool,
        agent_id: str,
        on_control: Callable[[agent_pb2.Control], None] = lambda control: None,
        renumber: Renumber | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`renumber(sequence, envelope)` signs a report again under a new sequence (CONFLICT); without it,
        such a report stays in the spool. `clock`: wall seconds, for quarantine times."""
        self._stub = agent_pb2_grpc.AgentServiceStub(channel)
        self._on_control = on_control
        self._renumber = renumber
        self._clock = clock
        self._spool = spool
        self._agent_id = agent_id
        self._wakeup = threading.Condition()
        self._stopping = threading.Event()
        self._call: grpc.Future | None = None
        self._failure: BaseException | None = None  # raised by the request iterator, re-raised in _stream
        self._tick: agent_pb2.SignedReport | None = None  # the latest live tick not yet sent
        self._reads_more = False  # this stream's collector reads several reports per message
        self._reads_ticks = False  # this stream's collector reads live ticks (it said so when it attached)
        self._wait_for_ready = False  # the next stream waits for the connection (see _run)
        self._thread = threading.Thread(target=self._run, name="report-sender", daemon=True)
        self.acknowledged = 0
        self.rejected = 0
        self.quarantined = 0
        self.renumbered = 0

    def start(self) -> None:
        self._thread.start()

    def notify(self) -> None:
        """Tell the sender that a new report is in the spool."""
        with self._wakeup:
            self._wakeup.notify_all()

    def tick(self, message: agent_pb2.SignedReport) -> None:
        """Send live tick `message` when the stream is idle, replacing one not yet sent (only the latest
        counts); dropped unless the stream's collector said it reads live ticks."""
        with self._wakeup:
            self._tick = message
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

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        attempt = 0
        while not self._stopping.is_set():
            code: grpc.StatusCode | None = None
            hint: float | None = None
            try:
                if self._stream():
                    attempt = 0
                self._stopping.wait(0.5)  # the collector ended the stream (e.g. restarting): reconnect
                continue
            except grpc.RpcError as exc:
                code = exc.code() if hasattr(exc, "code") else None
                # Each metadatum is a (key, value) namedtuple; types-grpcio declares a class that is no tuple.
                hint = retry_hint(exc.trailing_metadata() if hasattr(exc, "trailing_metadata") else None)  # type: ignore[arg-type]
                what = f"{code}: {exc.details() if hasattr(exc, 'details') else exc}"
            except Exception as exc:  # a spool or decode failure must not end delivery for good
                logger.exception("agent %s: delivering reports failed", self._agent_id)
                what = f"{type(exc).__name__}: {exc}"
            if self._stopping.is_set():
                break
            backlog = self._has_backlog()
            # Unreachable with reports waiting: the next stream waits for gRPC's own reconnect (at most
            # BACKLOG_MAX_DELAY_S apart) instead of failing at once on the connection's last error, so it
            # starts as soon as the collector answers again.
            self._wait_for_ready = backlog and code == grpc.StatusCode.UNAVAILABLE
            delay = next_delay(attempt, code, hint=hint, backlog=backlog)
            logger.warning("agent %s: stream to collector failed (%s); retrying in %.1fs%s", self._agent_id,
                           what, delay, " as the collector asked" if hint is not None else "")  # fmt: skip
            attempt += 1
            self._stopping.wait(delay)

    def _has_backlog(self) -> bool:
        try:
            return len(self._spool) > 0
        except Exception:  # an unreadable spool is retried like an outage
            return False

    def _stream(self) -> bool:
        """One stream's life; returns True if it delivered anything."""
        self._failure = None
        self._reads_more = self._reads_ticks = False
        call = self._stub.StreamReports(self._requests(), wait_for_ready=self._wait_for_ready)
        self._call = call
        delivered = False
        try:
            for response in call:
                self._reads_more = self._reads_more or response.reads_more
                self._reads_ticks = self._reads_ticks or response.reads_live_ticks
                if response.HasField("last_stored_sequence") and self._spool.raise_floor(
                    response.last_stored_sequence
                ):
                    logger.warning("agent %s: the collector holds reports up to %d, above this spool's last:"
                                   " numbering new reports above it", self._agent_id,
                                   response.last_stored_sequence)  # fmt: skip
                delivered = self._handle(response.acks) or delivered
                for control in response.controls:
                    self._on_control(control)
        finally:
            call.cancel()  # no-op when the stream ended; frees it when a handler failed
        if self._failure is not None:
            raise self._failure
        return delivered

    def _handle(self, acks: list[agent_pb2.ReportAck]) -> bool:
        """Act on a message's acks; True if any report was delivered."""
        done = []
        for ack in acks:
            if ack.status in _DONE:
                done.append(ack.sequence)
                if ack.status == agent_pb2.ReportAck.REJECTED:
                    self.rejected += 1
                    logger.error("agent %s: report %d rejected: %s", self._agent_id, ack.sequence, ack.reason)
                elif ack.reason:
                    logger.warning("agent %s: report %d: %s", self._agent_id, ack.sequence, ack.reason)
            elif ack.status == agent_pb2.ReportAck.CONFLICT:
                self._renumber_report(ack)
            elif ack.status == agent_pb2.ReportAck.FORGED:
                self._quarantine(ack.sequence, "forged", f"the collector refused it: {ack.reason}")
            else:  # a status this agent does not know: keep the report, it will be resent
                logger.warning("agent %s: report %d: unknown ack status %d", self._agent_id, ack.sequence,
                               ack.status)  # fmt: skip
        self._spool.acknowledge(done)
        self.acknowledged += len(done)
        return bool(done)

    def _renumber_report(self, ack: agent_pb2.ReportAck) -> None:
        if self._renumber is None:
            logger.error("agent %s: report %d: %s", self._agent_id, ack.sequence, ack.reason)
            return
        new = self._spool.renumber(ack.sequence, self._renumber)
        if new is not None:
            self.renumbered += 1
            logger.warning("agent %s: report %d sent again as %d: %s", self._agent_id, ack.sequence, new,
                           ack.reason)  # fmt: skip
            self.notify()

    def _quarantine(self, sequence: int, kind: str, reason: str, envelope: bytes | None = None) -> None:
        """Set report `sequence` aside and record the gap; the collector hears of it in the next report."""
        now_us = int(self._clock() * 1e6)
        if envelope is None:
            envelope = dict(self._spool.pending(after=sequence - 1, limit=1)).get(sequence, b"")
        start, end = wire.time_range(envelope, now_us) if envelope else (None, None)
        if self._spool.quarantine(sequence, Gap(kind, sequence, start, end, reason[:200]), now_us):
            self.quarantined += 1
            logger.error("agent %s: report %d set aside (see `rentmeter agent status`): %s", self._agent_id,
                         sequence, reason)  # fmt: skip

    def _requests(self) -> Iterator[agent_pb2.SignedReport]:
        """The spooled reports, oldest first, then each new one; a spool failure ends the requests (the
        collector then ends the stream) and is raised by _stream."""
        last_sent = 0
        while not self._stopping.is_set():
            try:
                batch = self._spool.take_for_sending(after=last_sent, limit=BATCH)
            except Exception as exc:
                self._failure = exc
                return
            if not batch:
                with self._wakeup:
                    tick, self._tick = self._tick, None
                    if tick is None:
                        self._wakeup.wait(timeout=1.0)
                if tick is not None and self._reads_ticks:  # else dropped: only the latest would count
                    yield tick
                continue
            messages, last_sent = self._decoded(batch)
            if messages is None:
                return
            yield from self._packed(messages)

    def _decoded(self, batch: list[tuple[int, bytes]]) -> tuple[list[agent_pb2.SignedReport] | None, int]:
        """The spooled copies as messages (each naming its spool sequence) and the last sequence taken; a
        copy that does not decode is quarantined. None when quarantining fails (kept in self._failure)."""
        messages = []
        for sequence, envelope in batch:
            try:
                message = agent_pb2.SignedReport.FromString(envelope)
            except DecodeError as exc:
                try:
                    self._quarantine(sequence, "unreadable", f"the spooled copy does not decode: {exc}",
                                     envelope)  # fmt: skip
                except Exception as failure:
                    self._failure = failure
                    return None, batch[-1][0]
                continue
            message.sequence = sequence
            messages.append(message)
        return messages, batch[-1][0]

    def _packed(self, messages: list[agent_pb2.SignedReport]) -> Iterator[agent_pb2.SignedReport]:
        """One message per report, or PACK reports per message once the collector said it reads them."""
        at = 0
        while at < len(messages):
            count = PACK if self._reads_more else 1
            first = messages[at]
            first.more.extend(messages[at + 1 : at + count])
            at += count
            yield first
