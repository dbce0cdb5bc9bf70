"""Block production: what happens, in order, when the chain makes a block.

The burn decays, matured commit-reveal weights are revealed, emission accrues, due epochs
run, pending extrinsics are applied in submission order,
on-block hooks fire, then the block is sealed (state as of the end of that block) and the
extrinsics' submitters and finality waiters are told.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from simnet import burn
from simnet.dispatch import dispatch_info
from simnet.epoch import epoch_due

if TYPE_CHECKING:
    from simnet.commit_reveal import CommitReveal
    from simnet.epoch import Epochs
    from simnet.ledger import Ledger
    from simnet.pool import TxPool
    from simnet.subnets import Subnets


class BlockProducer:
    """Not thread-safe by itself: drive it from one thread. The lock only turns accidental
    reentry (a hook that steps the chain) into a clear error instead of a corrupt block."""

    def __init__(
        self,
        ledger: Ledger,
        subnets: Subnets,
        epochs: Epochs,
        pool: TxPool,
        commit_reveal: CommitReveal,
        coinbase: Callable[[int], None] | None = None,
    ):
        # coinbase(b) accrues block b's emission on every subnet (simnet.economy); without
        # one each subnet accrues its own emission_per_block_rao.
        self._coinbase = coinbase
        self._ledger = ledger
        self._commit_reveal = commit_reveal
        self._subnets = subnets
        self._epochs = epochs
        self._pool = pool
        self._hooks: list[Callable[[int], None]] = []
        self._lock = threading.RLock()
        self._stepping = False

    def on_block(self, hook: Callable[[int], None]) -> None:
        """``hook(b)`` runs inside block ``b``, after its extrinsics, before it is sealed."""
        self._hooks.append(hook)

    def step(self, n: int = 1) -> None:
        for _ in range(int(n)):
            with self._lock:
                if self._stepping:
                    raise RuntimeError(
                        "Chain.step() called from inside a block (an on_block hook?)"
                    )
                self._stepping = True
                try:
                    self._produce()
                finally:
                    self._stepping = False
                    self._ledger.end_block()

    def _produce(self) -> None:
        ledger = self._ledger
        b = ledger.begin_block()
        # The Timestamp.set inherent is extrinsic 0, as on chain.
        ledger.extrinsic_index = 0
        ledger.emit("System", "ExtrinsicSuccess", {"dispatch_info": dispatch_info(None)})
        ledger.extrinsic_index = None
        for sn in self._subnets:
            if burn.decay(sn, b) or sn.registrations_this_block:
                sn.registrations_this_block = 0
                ledger.subnet_changed(sn.netuid)
        self._commit_reveal.reveal_due(b)
        if self._coinbase is not None:
            self._coinbase(b)
        for netuid in self._subnets.netuids:
            sn = self._subnets.get(netuid)
            if self._coinbase is None:
                sn.pending_emission += sn.emission_per_block_rao
                ledger.subnet_changed(netuid)
            if sn.is_root:
                continue  # root has no miners and no epoch
            if epoch_due(netuid, sn.tempo, b):
                self._epochs.run(sn, b)
        included = self._pool.include(b)
        ledger.advance_head(b)
        for hook in list(self._hooks):
            hook(b)
        ledger.seal_block(b, receipts=tuple(receipt for _pending, receipt in included))
        for pending, receipt in included:
            if pending is not None:
                pending.resolve(receipt)
        ledger.notify_finality()
