"""A collector and an agent running inside this process, on their own threads, talking real gRPC.

Used by `rentmeter demo` and by the end-to-end tests.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from agent.config import AgentSettings
from agent.runner import Agent, enroll, open_channel
from collector.config import CollectorSettings
from collector.server import Collector


@contextmanager
def running_collector(settings: CollectorSettings, **options: Any) -> Iterator[Collector]:
    """Run a collector (Collector(settings, **options)) on a background event loop; yield it with its port
    bound; stop it on exit."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="collector", daemon=True)
    thread.start()
    collector = asyncio.run_coroutine_threadsafe(_make_collector(settings, options), loop).result()
    try:
        yield collector
    finally:
        asyncio.run_coroutine_threadsafe(collector.stop(grace=1), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()


async def _make_collector(settings: CollectorSettings, options: dict[str, Any]) -> Collector:
    collector = Collector(settings, **options)
    await collector.start()
    return collector


@contextmanager
def running_agent(settings: AgentSettings, **options: Any) -> Iterator[Agent]:
    """Enroll and run this machine's agent (Agent(..., **options)) on a thread; yield it; stop it on exit."""
    channel = open_channel(settings)
    agent = Agent(settings, enroll(settings, channel), channel, **options)
    thread = threading.Thread(target=agent.run, name="agent", daemon=True)
    thread.start()
    try:
        yield agent
    finally:
        agent.stop()
        thread.join(timeout=15)
        channel.close()
