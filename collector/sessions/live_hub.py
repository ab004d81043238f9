"""Shared live feeds on the event loop: one producer per watched key, however many watch it.

N watchers of one session cost one `produce` (one rating) per interval, not N: the first watcher starts the
key's feed, every watcher receives each value the feed publishes (the very same object), and the last one
to leave stops it. A watcher that joins gets the latest value at once; one that is slower than the
interval gets the newest value when it is ready again (values are states, not events to replay). A
produce that raises ends the feed, and every watcher gets the exception; the next watcher starts afresh.
`poke(key)` makes the key's next value now rather than at the end of the interval (a live tick arrived),
but never sooner than MIN_GAP_S after the last one, so that a flood of pokes costs at most a few produces
a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar, cast

logger = logging.getLogger(__name__)

T = TypeVar("T")
MIN_GAP_S = 0.2
Produce = Callable[[str, T | None], Awaitable[T]]


@dataclass(eq=False)
class _Feed(Generic[T]):
    latest: T | None = None
    version: int = 0  # how many values were published
    finished: bool = False  # the last value is published (or `error` is set)
    error: BaseException | None = None
    watchers: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    poked: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    def publish(self, value: T) -> None:
        self.latest, self.version = value, self.version + 1
        self._wake()

    def close(self, error: BaseException | None = None) -> None:
        self.finished, self.error = True, error
        self._wake()

    def _wake(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


class LiveHub(Generic[T]):
    """`produce(key, previous)` makes the next value of `key` (`previous`: the last one, or None); a value
    for which `last(value)` is true ends the feed. Lives on one event loop."""

    def __init__(self, produce: Produce[T], interval_s: float, last: Callable[[T], bool]) -> None:
        self._produce, self._interval_s, self._last = produce, interval_s, last
        self._feeds: dict[str, _Feed[T]] = {}

    def watching(self, key: str) -> int:
        """How many watch `key` now."""
        feed = self._feeds.get(key)
        return feed.watchers if feed is not None else 0

    def poke(self, key: str) -> None:
        """Make `key`'s next value soon (MIN_GAP_S after the last at the earliest); nothing if unwatched."""
        feed = self._feeds.get(key)
        if feed is not None:
            feed.poked.set()

    async def watch(self, key: str) -> AsyncIterator[T]:
        """Every value of `key`'s feed from now on (the latest one first), until its last."""
        feed = self._feeds.get(key)
        if feed is None:
            feed = self._feeds[key] = _Feed()
            feed.task = asyncio.create_task(self._run(key, feed), name=f"live feed {key}")
        feed.watchers += 1
        seen = 0
        try:
            while True:
                while feed.version == seen and not feed.finished:
                    await feed.changed.wait()
                if feed.version > seen:
                    seen = feed.version
                    yield cast(T, feed.latest)  # published once version > 0
                    continue
                if feed.error is not None:
                    raise feed.error
                return
        finally:
            feed.watchers -= 1
            if feed.watchers == 0:
                self._drop(key, feed)

    async def _run(self, key: str, feed: _Feed[T]) -> None:
        value: T | None = None
        try:
            while True:
                value = await self._produce(key, value)
                feed.publish(value)
                if self._last(value):
                    break
                await self._pause(feed)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # handed to every watcher, which answers with its status
            feed.close(exc)
        else:
            feed.close()
        finally:
            if self._feeds.get(key) is feed:
                del self._feeds[key]  # the next watcher starts a new feed

    async def _pause(self, feed: _Feed[T]) -> None:
        """The interval, or less when the feed is poked (MIN_GAP_S at least)."""
        gap = min(MIN_GAP_S, self._interval_s)
        await asyncio.sleep(gap)
        if not feed.poked.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(feed.poked.wait(), self._interval_s - gap)
        feed.poked.clear()

    def _drop(self, key: str, feed: _Feed[T]) -> None:
        if self._feeds.get(key) is feed:
            del self._feeds[key]
        if feed.task is not None and not feed.task.done():
            feed.task.cancel()
