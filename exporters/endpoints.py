"""RPC endpoint failover: which endpoint the poll reads from, and how healthy each one is.

Endpoints are tried in configured order (``chain.network`` first, then
``chain.fallback_networks``). Every poll asks each endpoint for its head (one cheap call per
endpoint, concurrently), which gives per-endpoint ``up`` and head lag. The poll reads from the
active endpoint; when it fails or falls more than ``max_lag_blocks`` behind the best head, the
pool moves to the next healthy one at once. It moves back to a preferred endpoint only after
that endpoint has been healthy for ``failback_after_polls`` probes in a row, so a flapping
primary does not make the poll flap with it.

Each endpoint is built in one line of steps (:func:`open_endpoint`): the substrate backends
(``common.chain.SubstrateBackends``) give the network's substrate, a :class:`BlockHashMemo`
goes over it, and a ``bittensor.Client`` reads through the memo. The SDK's own in-client
fallback rotation is switched off (``fallback_endpoints=[]``) so that which endpoint answered
is always known here.

Each endpoint also has a :class:`~exporters.finality.FinalityWatcher` (a finalized-heads
subscription); :meth:`EndpointPool.start` starts them (each waits until its client has
connected) and :meth:`EndpointPool.close` cancels and awaits them before closing the clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import bittensor as bt
import structlog

from common.chain import SubstrateBackends
from exporters.chain_trust import uncached_block_hash
from exporters.finality import FinalityStatus, FinalityWatcher
from exporters.retry import RetryingSubstrate


def endpoint_label(network: str) -> str:
    """A label for an endpoint that never leaks credentials: scheme://host[:port] only.

    Hosted RPC URLs often carry an API key in the path or query, and labels end up in
    Prometheus, Grafana and alert messages.
    """
    if "://" not in network:
        return network
    parts = urlsplit(network)
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


# Every reason error_reason gives: the reason label of the poll, endpoint and read error
# counters, each exported at 0 from start-up.
ERROR_REASONS = ("timeout", "unreachable", "rpc_error", "internal")


def error_reason(exc: BaseException) -> str:
    """Map a failed chain read onto the ``reason`` label of the poll error counter."""
    if isinstance(exc, TimeoutError):
        return "timeout"
    name = type(exc).__name__
    if isinstance(exc, ConnectionError | OSError) or "Connection" in name or "Unreachable" in name:
        return "unreachable"
    if "Chain" in name or "Rpc" in name or "Substrate" in name:
        return "rpc_error"
    return "internal"


class BlockHashMemo:
    """A Substrate wrapper that resolves each block number to its hash once per poll.

    Every pinned SDK read asks the substrate for the pinned block's hash, and the RPC
    transport caches that only for finalized blocks; the head is never finalized, so a poll
    of M subnets would spend 2M extra round trips (``chain_getBlockHash``) on the same
    answer. Concurrent lookups of one block share a single request. The pool clears the memo
    before each poll, so a reorg at the head is never hidden for longer than one poll.
    """

    def __init__(self, inner: Any):
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "_memo", {})

    def clear(self) -> None:
        self._memo.clear()

    async def fresh_block_hash(self, block: int) -> str:
        """The node's hash at ``block`` read now, past this memo and the SDK's own cache
        (``exporters.chain_trust.uncached_block_hash``), then remembered for this poll: the
        chain check must never be answered from memory, and the reads it clears use it."""
        task = asyncio.ensure_future(uncached_block_hash(self._inner, block))
        self._memo[block] = task
        try:
            return await asyncio.shield(task)
        except Exception:
            self._memo.pop(block, None)
            raise

    async def block_hash(self, block: int | None = None) -> str:
        if block is None:
            return await self._inner.block_hash(None)
        task = self._memo.get(block)
        if task is None:
            task = self._memo[block] = asyncio.ensure_future(self._inner.block_hash(block))
        try:
            return await asyncio.shield(task)
        except Exception:
            self._memo.pop(block, None)
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        # Client.connect installs token_symbols on its substrate: pass it through.
        setattr(self._inner, name, value)


@dataclass
class Endpoint:
    network: str
    label: str
    client: Any
    memo: BlockHashMemo
    connected: bool = False
    up: bool = False
    head: int | None = None
    lag: int | None = None
    healthy_streak: int = 0
    last_error: str | None = None
    last_reason: str | None = None
    block_time: float | None = None
    probes: int = 0
    failures: int = 0
    errors_by_reason: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(ERROR_REASONS, 0)
    )
    # Set once the client has connected; the finality watcher waits for it.
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    finality: FinalityWatcher | None = None


@dataclass(frozen=True)
class EndpointStatus:
    label: str
    up: bool
    active: bool
    head: int | None
    lag: int | None
    last_error: str | None
    probes: int = 0
    errors_by_reason: tuple[tuple[str, int], ...] = ()


def unique_labels(networks: list[str]) -> list[str]:
    """:func:`endpoint_label` per network, suffixed ``#2``, ``#3`` where two would collide."""
    labels: list[str] = []
    for network in networks:
        # Two URLs differing only in a (redacted) path would otherwise share a series.
        label = base = endpoint_label(network)
        i = 2
        while label in labels:
            label, i = f"{base}#{i}", i + 1
        labels.append(label)
    return labels


def open_endpoint(
    network: str, label: str, backends: SubstrateBackends, *, timeout: float
) -> Endpoint:
    """network -> substrate -> block-hash memo -> client: one unconnected endpoint."""
    # One client per endpoint; failover is the pool's, so the SDK must not rotate.
    access = backends.substrate_for(network, timeout=timeout, fallback_endpoints=[])
    # Reads retried on transient failures (exporters/retry.py) under the memo, so a memoized
    # hash that failed once is asked again, not remembered as failed.
    memo = BlockHashMemo(RetryingSubstrate(access.substrate))
    client = bt.Client(access.label, substrate=memo)
    return Endpoint(network, label, client, memo)


class EndpointPool:
    """Failover over ``endpoints`` (see the module docstring), in their order of preference.

    :meth:`over` builds the endpoints of a list of networks; constructing the pool from
    ready-built endpoints lets a caller put any client behind one.
    """

    def __init__(
        self,
        endpoints: list[Endpoint],
        *,
        timeout: float = 10.0,
        max_lag_blocks: int = 3,
        failback_after_polls: int = 3,
        finality_backoff: tuple[float, float] = (1.0, 30.0),
        monotonic: Callable[[], float] = time.monotonic,
        logger: Any = None,
    ):
        if not endpoints:
            raise ValueError("at least one endpoint is needed")
        self._log = logger or structlog.get_logger("taowatch.exporter")
        self.timeout = timeout
        self.max_lag_blocks = max_lag_blocks
        self.failback_after_polls = failback_after_polls
        self.endpoints = list(endpoints)
        for ep in self.endpoints:
            ep.finality = FinalityWatcher(
                ep.label,
                ep.client,
                ep.ready,
                backoff=finality_backoff,
                monotonic=monotonic,
                logger=self._log,
            )
        self._active: Endpoint | None = None

    @classmethod
    def over(
        cls,
        networks: list[str],
        backends: SubstrateBackends,
        *,
        timeout: float = 10.0,
        **options: Any,
    ) -> EndpointPool:
        """A pool over ``networks`` (the first preferred), each built by :func:`open_endpoint`."""
        endpoints = [
            open_endpoint(network, label, backends, timeout=timeout)
            for network, label in zip(networks, unique_labels(networks), strict=True)
        ]
        return cls(endpoints, timeout=timeout, **options)

    @property
    def active(self) -> Endpoint | None:
        return self._active

    async def _probe_one(self, ep: Endpoint) -> None:
        ep.probes += 1
        ep.memo.clear()
        try:
            async with asyncio.timeout(self.timeout):
                if not ep.connected:
                    await ep.client.connect()
                    ep.connected = True
                    ep.ready.set()
                if ep.block_time is None:
                    # Constant for a runtime; read once per connection, not per poll.
                    ep.block_time = float(await ep.client.block_time())
                ep.head = int(await ep.client.block())
            ep.up = True
            ep.last_error = None
        except Exception as exc:
            self.mark_failed(ep, exc)

    def mark_failed(self, ep: Endpoint, exc: BaseException) -> None:
        reason = error_reason(exc)
        was_up = ep.up
        ep.up = False
        ep.healthy_streak = 0
        ep.failures += 1
        ep.errors_by_reason[reason] = ep.errors_by_reason.get(reason, 0) + 1
        ep.last_reason = reason
        ep.last_error = f"{reason}: {type(exc).__name__}: {exc}"[:300]
        if was_up or ep.probes <= 1:
            self._log.warning("endpoint down", endpoint=ep.label, reason=reason, error=str(exc))

    async def probe(self) -> None:
        """Ask every endpoint for its head; update up, lag and the active endpoint."""
        await asyncio.gather(*(self._probe_one(ep) for ep in self.endpoints))
        heads = [ep.head for ep in self.endpoints if ep.up and ep.head is not None]
        best = max(heads) if heads else None
        for ep in self.endpoints:
            if ep.up and best is not None and ep.head is not None:
                ep.lag = best - ep.head
                if ep.lag <= self.max_lag_blocks:
                    ep.healthy_streak += 1
                else:
                    ep.healthy_streak = 0
            else:
                ep.lag = None
        self._choose()

    def healthy(self, ep: Endpoint) -> bool:
        return ep.up and ep.lag is not None and ep.lag <= self.max_lag_blocks

    def _choose(self) -> None:
        current = self._active
        pick: Endpoint | None = None
        if current is not None and self.healthy(current):
            pick = current
            # Move back to a preferred endpoint once it has stayed healthy for a while.
            for ep in self.endpoints:
                if ep is current:
                    break
                if self.healthy(ep) and ep.healthy_streak >= self.failback_after_polls:
                    pick = ep
                    break
        else:
            pick = next((ep for ep in self.endpoints if self.healthy(ep)), None)
        if pick is not current:
            self._log.info(
                "endpoint switched",
                to=pick.label if pick else None,
                previous=current.label if current else None,
            )
        self._active = pick

    def fail_active(self, exc: BaseException) -> Endpoint | None:
        """The active endpoint failed mid-poll: mark it down and return the next healthy one."""
        if self._active is not None:
            self.mark_failed(self._active, exc)
        self._choose()
        return self._active

    def status(self) -> list[EndpointStatus]:
        return [
            EndpointStatus(
                ep.label,
                ep.up,
                ep is self._active,
                ep.head,
                ep.lag,
                ep.last_error,
                ep.probes,
                tuple(sorted(ep.errors_by_reason.items())),
            )
            for ep in self.endpoints
        ]

    def start(self) -> None:
        """Start every endpoint's finality watcher (idempotent; needs a running loop)."""
        for ep in self.endpoints:
            if ep.finality is not None:
                ep.finality.start()

    def finality_status(self) -> list[FinalityStatus]:
        return [ep.finality.status() for ep in self.endpoints if ep.finality is not None]

    async def close(self) -> None:
        # Watchers first: a subscription must not outlive (or race) its client's close.
        await asyncio.gather(
            *(ep.finality.stop() for ep in self.endpoints if ep.finality is not None)
        )
        # Every client, connected or not: a connect that failed has still opened its HTTP
        # session, and leaving it open is an "Unclosed client session" at exit.
        for ep in self.endpoints:
            with contextlib.suppress(Exception):
                await ep.client.close()
            ep.connected = False
            ep.ready.clear()
