"""Block production in real time: an asyncio task that steps the chain every ``block_time``.

``BlockClock(chain).start()`` makes blocks every ``chain.block_time`` seconds (12 s like finney,
0.25 s in fast mode) unless ``chain.halted`` is set, in which case time passes with no blocks,
like a stalled chain. While it runs, ``chain.auto_blocks`` is true, so submissions wait for the
next block instead of producing one. Manual mode is simply no clock: tests call
``chain.step()``. Ticks are scheduled against the loop clock, not slept back to back, so block
times do not drift with the cost of producing a block; a tick that runs late is not repeated
(the chain never bursts blocks to catch up).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from simnet.state import Chain

log = logging.getLogger(__name__)


class BlockClock:
    def __init__(self, chain: Chain):
        self.chain = chain
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self.running:
            return
        self.chain.auto_blocks = True
        self._task = asyncio.get_running_loop().create_task(self._run(), name="simnet-clock")

    async def stop(self) -> None:
        task, self._task = self._task, None
        self.chain.auto_blocks = False
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def __aenter__(self) -> BlockClock:
        self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_tick = loop.time() + self.chain.block_time
        while True:
            await asyncio.sleep(max(0.0, next_tick - loop.time()))
            next_tick = max(next_tick + self.chain.block_time, loop.time())
            if self.chain.halted:
                continue
            try:
                self.chain.step()
            except Exception:  # a failing hook must not stop block production
                log.exception("simnet block production failed at block %d", self.chain.head + 1)
