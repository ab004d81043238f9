"""Live cost by server-sent events: the collector's WatchSession relayed as HTML fragments, ending with the
session, and no gRPC stream left open when the browser leaves."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx

from agent.identity import Identity
from collector.server import Collector
from portal.live import sse_event
from portal.server import RunningPortal
from protos.rentmeter.v1 import sessions_pb2
from rentmeter.client import AdminClient
from tests.portal.conftest import SignIn, open_rental


def events(response: httpx.Response) -> Iterator[tuple[str, str]]:
    """(event, data) of a text/event-stream response, as they arrive."""
    name, data = "", []
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: "):
            data.append(line[len("data: ") :])
        elif line == "":
            yield name, "\n".join(data)
            name, data = "", []


def wait_until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_an_event_carries_html_line_by_line() -> None:
    assert sse_event("live", "<p>\n  a\n</p>") == "event: live\ndata: <p>\ndata:   a\ndata: </p>\n\n"
    assert sse_event("stopped", "") == "event: stopped\ndata: \n\n"


def test_updates_are_relayed_until_the_session_stops(
    collector: Collector,
    admin: AdminClient,
    portal: RunningPortal,
    machine: Identity,
    sign_in: SignIn,
) -> None:
    rental = open_rental(admin, machine.agent_id, "alice")
    browser = sign_in("renter", "alice", language="zh-CN")
    seen: list[tuple[str, str]] = []
    with browser.stream("GET", f"/rental/{rental.session_id}/live") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        for event in events(response):
            seen.append(event)
            if len(seen) == 2:
                admin.sessions.StopSession(sessions_pb2.StopSessionRequest(session_id=rental.session_id))
        # the stream ended by itself: the collector's last message, then `stopped`
    names = [name for name, _ in seen]
    assert names[-1] == "stopped" and set(names[:-1]) == {"live"} and len(names) >= 3
    first, last = seen[0][1], seen[-2][1]
    assert "目前费用" in first and "¥" not in first and "€36.00/小时" in first  # Chinese text, a EUR plan
    assert "更新于" in first and "此次租用已结束。" in last
    assert list(portal.app.state.watches) == []


def test_leaving_the_page_cancels_the_collector_stream(
    collector: Collector,
    admin: AdminClient,
    portal: RunningPortal,
    machine: Identity,
    sign_in: SignIn,
) -> None:
    rental = open_rental(admin, machine.agent_id, "alice")
    browser = sign_in("renter", "alice")
    watches = portal.app.state.watches
    for _ in range(3):  # each visit opens a stream and leaving closes it
        with browser.stream("GET", f"/rental/{rental.session_id}/live") as response:
            reading = events(response)  # kept: closing this generator would close the response
            name, html = next(reading)
            assert name == "live" and "Cost so far" in html
            wait_until(lambda: len(watches) == 1)
            (call,) = list(watches)
        wait_until(lambda: len(watches) == 0)
        assert call.cancelled()
    still = admin.sessions.GetSession(sessions_pb2.GetSessionRequest(session_id=rental.session_id))
    assert still.state == sessions_pb2.RentalSession.OPEN


def test_several_watchers_each_have_their_own_stream(
    collector: Collector,
    admin: AdminClient,
    portal: RunningPortal,
    machine: Identity,
    sign_in: SignIn,
) -> None:
    rental = open_rental(admin, machine.agent_id, "alice")
    browsers = [sign_in("renter", "alice") for _ in range(3)]
    watches = portal.app.state.watches
    streams = [b.stream("GET", f"/rental/{rental.session_id}/live") for b in browsers]
    responses = [s.__enter__() for s in streams]
    try:
        readers = [events(response) for response in responses]
        assert [next(reader)[0] for reader in readers] == ["live"] * 3
        wait_until(lambda: len(watches) == 3)
    finally:
        for stream in streams:
            stream.__exit__(None, None, None)
    wait_until(lambda: len(watches) == 0)
