"""Who gets served, in which order: a stake-priority gate and a per-caller rate limit.

Both run after a request is authenticated and its caller passed the blacklist, so their
state is bounded by the number of registered hotkeys, never by what strangers send.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable


class QueueFull(Exception):
    """The wait queue is at its bound; the caller is refused now, not queued forever."""


class QueueTimeout(Exception):
    """A queued request waited longer than the bound and was dropped."""


class PriorityGate:
    """At most ``max_concurrent`` handlers at once; waiters are served highest stake first.

    The queue holds at most ``max_queue`` waiters and each waits at most ``max_wait`` seconds,
    so under overload callers get a fast refusal instead of an ever-growing backlog. A freed
    slot is handed directly to the best waiter, so a newcomer cannot overtake the queue.
    """

    def __init__(self, max_concurrent: int, max_queue: int, max_wait: float):
        self._max_concurrent = max_concurrent
        self._max_queue = max_queue
        self._max_wait = max_wait
        self._active = 0
        self._waiting = 0
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @property
    def inflight(self) -> int:
        return self._active

    @property
    def depth(self) -> int:
        return self._waiting

    def try_acquire(self) -> bool:
        """Take a free slot without waiting (no coroutine on the hot path); False if none."""
        if self._active < self._max_concurrent and not self._waiting:
            self._active += 1
            return True
        return False

    async def acquire(self, priority: float) -> None:
        if self.try_acquire():
            return
        if self._waiting >= self._max_queue:
            raise QueueFull
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._heap, (-priority, next(self._order), future))
        self._waiting += 1
        try:
            async with asyncio.timeout(self._max_wait):
                await asyncio.shield(future)
        except BaseException as exc:
            if future.done() and not future.cancelled():
                # The slot was handed over just as we gave up: pass it on.
                self.release()
            else:
                future.cancel()
                self._waiting -= 1
            if isinstance(exc, TimeoutError):
                raise QueueTimeout from None
            raise

    def release(self) -> None:
        while self._heap:
            _, _, future = heapq.heappop(self._heap)
            if not future.done():
                self._waiting -= 1
                future.set_result(None)  # the slot moves to the waiter; _active unchanged
                return
        self._active -= 1


class RateLimiter:
    """Token bucket per caller: ``rate`` requests per second, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, caller: str) -> bool:
        now = self._clock()
        tokens, last = self._buckets.get(caller, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens < 1.0:
            self._buckets[caller] = (tokens, now)
            return False
        self._buckets[caller] = (tokens - 1.0, now)
        return True

    def forget_except(self, keep: set[str]) -> None:
        """Drop buckets of callers no longer registered (called on metagraph sync)."""
        for caller in [c for c in self._buckets if c not in keep]:
            del self._buckets[caller]
