"""Messages between collectors sharing one PostgreSQL database, over LISTEN/NOTIFY.

Each collector keeps one connection LISTENing on the `rentmeter` channel and sends with pg_notify on a
second one. A message is a small JSON object: its kind, the sending collector (`origin`) and the kind's
fields; handlers run on the event loop. PostgreSQL delivers a notification to every listening connection
within milliseconds of the send. A collector whose listening connection is down (the database restarting)
misses what is sent meanwhile: it reconnects with back-off, and whoever depends on the bus keeps a slower
fallback (the revocation poll, token cache expiry; a control sent then is lost, as for an agent not
connected at all: session state is sent again to every stream that opens).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import make_url

if TYPE_CHECKING:  # psycopg comes with the postgres extra: imported when a bus is made, never for SQLite
    import psycopg

logger = logging.getLogger(__name__)

CHANNEL = "rentmeter"
# PostgreSQL refuses notification payloads from 8000 bytes.
MAX_PAYLOAD = 7900
FIRST_RETRY_S, LONGEST_RETRY_S = 0.5, 10.0

Message = dict[str, Any]
Handler = Callable[[Message], None]


def conninfo(db_url: str) -> str:
    """The libpq address of a SQLAlchemy PostgreSQL URL (postgresql+psycopg://... -> postgresql://...)."""
    return make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)


class ControlBus:
    """LISTEN/NOTIFY between the collectors of one database. Lives on the server's event loop."""

    def __init__(self, db_url: str, origin: str) -> None:
        self.origin = origin
        self._conninfo = conninfo(db_url)
        self._handlers: dict[str, Handler] = {}
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self._sender: psycopg.AsyncConnection[Any] | None = None
        self._send_lock = asyncio.Lock()
        self._pending: set[asyncio.Task[None]] = set()

    def on(self, kind: str, handler: Handler) -> None:
        """Call `handler(message)` for each message of `kind` another collector sends."""
        self._handlers[kind] = handler

    async def start(self, wait_s: float = 10.0) -> None:
        """Start listening; return once LISTEN is in place (or after `wait_s`, retrying in the background)."""
        self._listener = asyncio.get_running_loop().create_task(self._listen(), name="control-bus")
        try:
            await asyncio.wait_for(self._listening.wait(), wait_s)
        except TimeoutError:
            logger.warning("not yet listening for the other collectors' messages; retrying")

    async def stop(self) -> None:
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=2.0)
        if self._listener is not None:
            self._listener.cancel()
        if self._sender is not None:
            await self._sender.close()

    def post(self, kind: str, **fields: Any) -> None:
        """Send in the background (in order of posting); a failure is logged."""
        task = asyncio.get_running_loop().create_task(self.send(kind, **fields))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def send(self, kind: str, **fields: Any) -> None:
        import psycopg

        payload = json.dumps({"kind": kind, "origin": self.origin, **fields}, separators=(",", ":"))
        if len(payload) > MAX_PAYLOAD:
            raise ValueError(f"a {kind} message of {len(payload)} bytes is over the {MAX_PAYLOAD} allowed")
        async with self._send_lock:
            for attempt in (1, 2):  # a connection gone since the last send is opened again once
                try:
                    if self._sender is None or self._sender.closed:
                        self._sender = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
                    await self._sender.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
                    return
                except psycopg.Error:
                    self._sender = None
                    if attempt == 2:
                        logger.exception("sending a %s message to the other collectors failed", kind)

    async def _listen(self) -> None:
        import psycopg

        delay = FIRST_RETRY_S
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self._listening.set()
                    delay = FIRST_RETRY_S
                    async for notice in conn.notifies():
                        self._dispatch(notice.payload)
            except psycopg.Error as exc:
                self._listening.clear()
                logger.warning("listening for the other collectors failed (%s); again in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, LONGEST_RETRY_S)

    def _dispatch(self, payload: str) -> None:
        try:
            message = json.loads(payload)
            handler = self._handlers.get(message["kind"])
            if handler is not None and message.get("origin") != self.origin:
                handler(message)
        except Exception:  # one bad message never stops the listening
            logger.exception("a message from another collector could not be handled: %.200s", payload)
