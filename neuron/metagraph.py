"""Keeping a neuron's view of its subnet fresh, and knowing how fresh it is.

A background loop re-reads the metagraph every ``sync_interval_seconds`` and at least once per
tempo, keeps the last good view when the RPC fails (retrying sooner), and exposes the view's
block and age. It also answers "am I still registered?": a neuron that finds its own hotkey
gone logs it loudly at every sync and exports ``bittensor_neuron_self_registered 0``, but
keeps running so its metrics stay scrapeable.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import bittensor as bt
import structlog

from neuron.metrics import NeuronMetrics


@dataclass(frozen=True)
class Peer:
    uid: int
    hotkey: str
    coldkey: str
    # The stake weight the epoch uses (metagraph total_stake): alpha + tao_weight x root TAO.
    stake: float
    validator_permit: bool
    axon: str | None  # "ip:port" or None when nothing is served
    last_update: int


@dataclass(frozen=True)
class MetagraphView:
    """An immutable snapshot; replaced as a whole on each sync."""

    netuid: int
    block: int
    synced_at: float  # unix time
    tempo: int
    weights_rate_limit: int
    peers: tuple[Peer, ...]
    by_hotkey: Mapping[str, Peer] = field(repr=False)

    @property
    def hotkeys(self) -> list[str]:
        return [p.hotkey for p in self.peers]

    @classmethod
    def build(
        cls,
        *,
        netuid: int,
        block: int,
        tempo: int,
        weights_rate_limit: int,
        peers: list[Peer],
        synced_at: float | None = None,
    ) -> MetagraphView:
        return cls(
            netuid=netuid,
            block=block,
            synced_at=time.time() if synced_at is None else synced_at,
            tempo=tempo,
            weights_rate_limit=weights_rate_limit,
            peers=tuple(peers),
            by_hotkey=MappingProxyType({p.hotkey: p for p in peers}),
        )

    @classmethod
    def from_metagraph(cls, mg: bt.Metagraph) -> MetagraphView:
        peers = [
            Peer(
                uid=n.uid,
                hotkey=n.hotkey,
                coldkey=n.coldkey,
                stake=float(n.total_stake.amount),
                validator_permit=bool(n.validator_permit),
                axon=n.axon,
                last_update=int(n.last_update),
            )
            for n in mg.neurons
        ]
        return cls.build(
            netuid=mg.netuid,
            block=int(mg.block),
            tempo=int(mg.tempo),
            weights_rate_limit=int(mg.raw.get("weights_rate_limit") or 0),
            peers=peers,
        )


class MetagraphSync:
    """Owns the current :class:`MetagraphView` of one subnet for one neuron."""

    def __init__(
        self,
        client: bt.Client,
        netuid: int,
        own_hotkey: str,
        *,
        interval: float,
        retry: float,
        metrics: NeuronMetrics,
        timeout: float = 30.0,
        log: structlog.typing.FilteringBoundLogger | None = None,
    ):
        self._client = client
        self._netuid = netuid
        self._own = own_hotkey
        self._interval = interval
        self._retry = retry
        self._timeout = timeout
        self._metrics = metrics
        self._log = log or structlog.get_logger("neuron.metagraph")
        self._block_time: float | None = None
        self.view: MetagraphView | None = None
        self.listeners: list[Callable[[MetagraphView], None]] = []
        self._synced = asyncio.Event()

    @classmethod
    def from_config(
        cls,
        client: bt.Client,
        config: Any,
        own_hotkey: str,
        *,
        metrics: NeuronMetrics,
        log: structlog.typing.FilteringBoundLogger | None = None,
    ) -> MetagraphSync:
        """The sync a miner or validator config asks for (``chain`` and ``metagraph`` sections)."""
        return cls(
            client,
            config.chain.netuid,
            own_hotkey,
            interval=config.metagraph.sync_interval_seconds,
            retry=config.metagraph.retry_seconds,
            metrics=metrics,
            # One sync is a few reads; allow each its RPC timeout before calling it failed.
            timeout=config.chain.timeout_seconds * 3,
            log=log,
        )

    @property
    def self_registered(self) -> bool | None:
        return None if self.view is None else self._own in self.view.by_hotkey

    @property
    def own_uid(self) -> int | None:
        if self.view is None:
            return None
        peer = self.view.by_hotkey.get(self._own)
        return None if peer is None else peer.uid

    @property
    def effective_interval(self) -> float:
        """The configured interval, shortened to one tempo when a tempo is shorter."""
        if self.view is None or not self._block_time or self.view.tempo <= 0:
            return self._interval
        return min(self._interval, self.view.tempo * self._block_time)

    async def wait_synced(self) -> MetagraphView:
        await self._synced.wait()
        assert self.view is not None
        return self.view

    async def sync_once(self) -> bool:
        """One sync; False (and the previous view kept) on any failure."""
        try:
            async with asyncio.timeout(self._timeout):
                if self._block_time is None:
                    self._block_time = float(await self._client.block_time())
                mg = await self._client.subnets.metagraph(self._netuid, commitments=False)
        except Exception as exc:
            self._metrics.sync_failed()
            self._log.warning(
                "metagraph sync failed",
                netuid=self._netuid,
                error=f"{type(exc).__name__}: {exc}",
                last_good_block=None if self.view is None else self.view.block,
            )
            return False
        if mg is None:
            self._metrics.sync_failed()
            self._log.error("subnet does not exist", netuid=self._netuid)
            return False
        was_registered = self.self_registered
        self.view = MetagraphView.from_metagraph(mg)
        self._synced.set()
        registered = self.self_registered
        if not registered:
            # Loud on every sync, not only on the transition: an operator tailing the log
            # after a restart must see it too.
            self._log.error(
                "own hotkey is not registered on the subnet",
                netuid=self._netuid,
                hotkey=self._own,
                block=self.view.block,
                was_registered=was_registered,
            )
        elif was_registered is False:
            self._log.info("own hotkey registered", netuid=self._netuid, uid=self.own_uid)
        self._log.debug("metagraph synced", block=self.view.block, neurons=len(self.view.peers))
        for listener in self.listeners:
            try:
                listener(self.view)
            except Exception:  # a consumer's bug must not stop the sync loop
                self._log.exception("metagraph listener failed", listener=repr(listener))
        return True

    async def run(self) -> None:
        while True:
            ok = await self.sync_once()
            await asyncio.sleep(self.effective_interval if ok else self._retry)
