"""The finalized head, pushed by the endpoint instead of read on every poll.

A :class:`FinalityWatcher` holds one ``client.blocks(finalized=True)`` subscription open
(``chain_subscribeFinalizedHeads`` over RPC: no request per poll) and keeps the last number it
delivered. The stream ends when the connection drops (``RpcConnectionError``) or the server
closes it; the watcher then resubscribes after an exponential, jittered backoff, and the last
value stays until a new header arrives.

The pool runs one watcher per endpoint, not only for the active one: a failover then reads a
finalized head that is already warm and always comes from the endpoint the head came from,
and no subscription has to be moved when the active endpoint changes. An idle subscription
on a fallback endpoint costs no requests.

The poll decides how much to trust the stream with :meth:`FinalityWatcher.fresh`: a stream
that delivered nothing for a while (a hung subscription, or one that is reconnecting) must
not pass for a live one, so the poll then reads ``finalized_block()`` directly (see
``exporters/chain.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog


@dataclass(frozen=True)
class FinalityStatus:
    label: str
    subscribed: bool
    finalized: int | None
    # Seconds since the last header arrived (None: none yet).
    header_age: float | None
    subscriptions: int
    drops: int
    last_error: str | None


class FinalityWatcher:
    def __init__(
        self,
        label: str,
        client: Any,
        connected: asyncio.Event,
        *,
        backoff: tuple[float, float] = (1.0, 30.0),
        monotonic: Callable[[], float] = time.monotonic,
        logger: Any = None,
    ):
        self.label = label
        self._client = client
        self._connected = connected
        self._backoff = backoff
        self._monotonic = monotonic
        self._log = logger or structlog.get_logger("taowatch.exporter")
        self._task: asyncio.Task | None = None
        self.latest: int | None = None
        self.received_at: float | None = None
        self.started_at: float | None = None
        self.subscribed = False
        self.subscriptions = 0
        self.drops = 0
        self.last_error: str | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self.running:
            return
        self.started_at = self._monotonic()
        self._task = asyncio.create_task(self._run(), name=f"finality-watcher:{self.label}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        self.subscribed = False

    def fresh(self, max_age: float) -> bool:
        """Whether the stream can stand for the finalized head without a direct read.

        True while the last header is at most ``max_age`` seconds old, and during the first
        ``max_age`` seconds of a watcher that has not delivered anything yet (its value is
        then absent, which is honest). False when the watcher is not running at all.
        """
        if not self.running:
            return False
        ref = self.received_at if self.received_at is not None else self.started_at
        return ref is not None and self._monotonic() - ref <= max_age

    def status(self) -> FinalityStatus:
        age = None if self.received_at is None else self._monotonic() - self.received_at
        return FinalityStatus(
            self.label,
            self.subscribed,
            self.latest,
            age,
            self.subscriptions,
            self.drops,
            self.last_error,
        )

    async def _run(self) -> None:
        await self._connected.wait()
        initial, cap = self._backoff
        delay = initial
        while True:
            delivered = False
            try:
                # aclosing: a cancelled watcher unsubscribes instead of leaking the stream.
                async with contextlib.aclosing(self._client.blocks(finalized=True)) as headers:
                    self.subscribed = True
                    self.subscriptions += 1
                    async for header in headers:
                        self.latest = int(header.number)
                        self.received_at = self._monotonic()
                        delivered = True
                self.last_error = "subscription ended by the endpoint"
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"[:300]
            self.subscribed = False
            self.drops += 1
            if delivered:
                delay = initial  # it worked for a while: retry soon
            # Warn when a working stream breaks; a dead endpoint's retries stay at debug.
            log = self._log.warning if delivered or self.drops == 1 else self._log.debug
            log(
                "finality subscription dropped",
                endpoint=self.label,
                error=self.last_error,
                retry_in=round(delay, 3),
            )
            # Jitter keeps several agents on one node from resubscribing in lockstep.
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(cap, delay * 2)
