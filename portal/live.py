"""Live values by server-sent events: the collector's WatchSession stream relayed to the browser as HTML
fragments, rendered (and so localized) here and swapped into the page by htmx's SSE extension.

    call, first = await open_watch(api, session_id)          # NOT_FOUND etc. raise before any byte is sent
    return sse_response(relay(request, call, first, render_fragment))

Each relay registers its gRPC call in `app.state.watches` and cancels it when the session stops, the
client leaves (Starlette cancels the response's task on http.disconnect) or the collector ends the stream,
so no stream outlives its page (tests/portal/test_live.py holds that).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import grpc.aio
from starlette.requests import Request
from starlette.responses import StreamingResponse

from portal.api import Api, portal_error
from portal.errors import CollectorFailed
from protos.rentmeter.v1 import sessions_pb2

logger = logging.getLogger(__name__)

# The event names the page listens to: `live` swaps the figures, `stopped` closes the EventSource.
LIVE_EVENT, STOPPED_EVENT = "live", "stopped"


def sse_event(event: str, html: str) -> str:
    """One server-sent event whose data is `html` (one `data:` line per line, as the format wants)."""
    lines = html.splitlines() or [""]
    return f"event: {event}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


async def open_watch(api: Api, session_id: str) -> tuple[Any, sessions_pb2.LiveCost]:
    """Start WatchSession and read its first LiveCost; the collector's refusal as a PortalError."""
    call = api.sessions.WatchSession(sessions_pb2.GetSessionRequest(session_id=session_id))
    try:
        first = await call.read()
    except grpc.aio.AioRpcError as exc:
        call.cancel()
        raise portal_error(exc) from None
    if first is grpc.aio.EOF:
        call.cancel()
        raise CollectorFailed(f"the watch of session {session_id} ended before its first update", "OK")
    return call, first


async def live_now(api: Api, session_id: str) -> sessions_pb2.LiveCost:
    """The session's LiveCost now (one message of WatchSession), for a page's first render."""
    call, first = await open_watch(api, session_id)
    call.cancel()
    return first


async def relay(
    request: Request,
    call: Any,
    first: sessions_pb2.LiveCost,
    fragment: Callable[[sessions_pb2.LiveCost], str],
) -> AsyncIterator[str]:
    """`first`, then every LiveCost of `call`, as LIVE_EVENT fragments; STOPPED_EVENT after the last."""
    watches: set[Any] = request.app.state.watches
    watches.add(call)
    try:
        live = first
        while True:
            yield sse_event(LIVE_EVENT, fragment(live))
            if live.state != sessions_pb2.RentalSession.OPEN:
                yield sse_event(STOPPED_EVENT, "")
                return
            message = await call.read()
            if message is grpc.aio.EOF:
                return  # the collector went away mid-stream: the browser reconnects
            live = message
    except grpc.aio.AioRpcError as exc:
        # The page keeps the last figures; EventSource reconnects and a new watch starts.
        logger.info("watch of session %s ended: %s", first.session_id, exc.code().name)
    finally:
        call.cancel()
        watches.discard(call)


def sse_response(stream: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no"},  # nginx: pass events on at once
    )
