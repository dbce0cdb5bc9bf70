"""The poller as a service: :meth:`PollService.start` / :meth:`PollService.stop` around its
own scheduler, the poll cadence and back-off, and the listeners a new snapshot is handed to
(the ``/metrics`` render cache warms as one). No HTTP here: the agent wires the service to
its aiohttp handlers, and anything else with an event loop can run it the same way.

Cadence: the configured interval, else the chain's block time, else (no endpoint has told
its block time yet) a fast retry that doubles per failure up to mainnet's 12 s, so a restart
under errors is up within seconds. APScheduler runs one poll at a time (``max_instances=1``,
coalesced): a slow chain never stacks polls up.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from exporters.chain import ChainPoller
from exporters.snapshot import ChainSnapshot

# Until the chain tells us its block time, poll at mainnet's (12 s) pace at most.
DEFAULT_INTERVAL = 12.0
# Before any endpoint has told its block time, failed polls are retried this soon, doubling
# per failure up to DEFAULT_INTERVAL.
FIRST_RETRY_SECONDS = 0.5
POLL_JOB_ID = "chain-poll"

SnapshotListener = Callable[[ChainSnapshot], Awaitable[None]]


def poll_interval(
    configured: float | None, block_time: float | None, failures_in_a_row: int
) -> float:
    """Seconds until the next poll: the configured interval, else one block, else (no
    endpoint has answered yet) a retry that backs off from FIRST_RETRY_SECONDS."""
    if configured is not None:
        return configured
    if block_time:
        return block_time
    return min(DEFAULT_INTERVAL, FIRST_RETRY_SECONDS * 2 ** max(0, failures_in_a_row - 1))


class PollService:
    """Runs ``poller`` on its cadence from :meth:`start` until :meth:`stop`."""

    def __init__(
        self,
        poller: ChainPoller,
        *,
        interval_seconds: float | None = None,
        listeners: tuple[SnapshotListener, ...] = (),
        logger: Any = None,
    ):
        self.poller = poller
        self._configured = interval_seconds
        self._listeners = listeners
        self._log = logger or structlog.get_logger("taowatch.agent")
        self._scheduler: AsyncIOScheduler | None = None
        self._jobs: list[tuple[str, float, Callable[[], Awaitable[Any]]]] = []
        self._failures_in_a_row = 0

    def every(self, seconds: float, job_id: str, job: Callable[[], Awaitable[Any]]) -> None:
        """Run ``job`` every ``seconds`` on the service's scheduler, one at a time, from
        :meth:`start` on (e.g. the agent's reachability probe)."""
        self._jobs.append((job_id, seconds, job))

    def start(self) -> None:
        """Start polling now and on the cadence; needs a running event loop."""
        interval = poll_interval(self._configured, self.poller.block_time(), 1)
        self.poller.set_interval(interval)
        # The finality watchers live exactly as long as polling does; stop() closes them.
        self.poller.start()
        scheduler = self._scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(
            self.poll_once,
            IntervalTrigger(seconds=interval),
            id=POLL_JOB_ID,
            name=POLL_JOB_ID,
            max_instances=1,  # a slow chain never stacks polls up
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),  # don't wait one interval for the first poll
        )
        for job_id, seconds, job in self._jobs:
            scheduler.add_job(
                _quiet(job),
                IntervalTrigger(seconds=seconds),
                id=job_id,
                name=job_id,
                max_instances=1,  # a round never overlaps the next
                coalesce=True,
                misfire_grace_time=None,
            )
        scheduler.start()

    async def stop(self) -> None:
        """Stop the scheduler (cancelling a poll in flight), then the poller's clients."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        await asyncio.sleep(0)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await self.poller.close()

    async def poll_once(self) -> bool:
        """One scheduled poll: poll, hand a new snapshot to the listeners, adjust the
        cadence. Never raises."""
        try:
            ok = await self.poller.poll()
        except asyncio.CancelledError:
            # Shutdown cancels a poll in flight; APScheduler would log that as a crash with
            # a traceback. Nothing is left to do: the job's task ends here either way.
            return False
        self._failures_in_a_row = 0 if ok else self._failures_in_a_row + 1
        snapshot = self.poller.snapshot
        if ok and snapshot is not None:
            for listener in self._listeners:
                try:
                    await listener(snapshot)
                except Exception:
                    self._log.exception("snapshot listener failed")
        self._adjust_cadence()
        return ok

    def _adjust_cadence(self) -> None:
        block_time = self.poller.block_time()
        wanted = poll_interval(self._configured, block_time, self._failures_in_a_row)
        if wanted == self.poller.status.interval:
            return
        if self._scheduler is not None:
            self._scheduler.reschedule_job(POLL_JOB_ID, trigger=IntervalTrigger(seconds=wanted))
        self.poller.set_interval(wanted)
        self._log.info("poll interval set", seconds=wanted, block_time=block_time)


def _quiet(job: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[None]]:
    """``job`` with shutdown's cancellation swallowed, as for the poll."""

    async def run() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await job()

    return run
