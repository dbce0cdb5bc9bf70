"""Commit-reveal weights (CRv4): timelocked commits, revealed by the chain after the
subnet's reveal period, as subtensor's ``internal_commit_timelocked_weights`` and
``reveal_crv3_commits_for_subnet`` do.

A commit made in epoch ``e`` (the subnet's epoch counter, counting an epoch that runs in
this block) is queued as ``TimelockedWeightCommits[netuid][e]``; at the start of every
block of epoch ``e + reveal_period`` the chain opens each queued commit (see
:mod:`simnet.timelock`) and applies it through the ordinary weight checks, then emits
``TimelockedWeightsRevealed``. A commit whose round is not yet open stays queued and is
retried each block of that epoch; older epochs are dropped, as on chain.

``last_update`` moves at the *commit* (step 10 of the runtime's commit), and a reveal on a
commit-reveal subnet neither checks the rate limit nor moves ``last_update``: that is what
subtensor's source does today (``subnets/weights.rs``), although opentensor/subtensor#1157
describes the update as happening at the reveal.

Each commit carries its mechanism (``mecid``, :mod:`simnet.mechanisms`): its rate limit and
``last_update`` are that mechanism's, and its reveal sets that mechanism's weights. Simplified:
the legacy hash commit/reveal calls are not modelled.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from simnet import mechanisms
from simnet.epoch import epoch_due
from simnet.records import ChainFailure, TimelockedCommit
from simnet.timelock import TimelockOpener, TimelockUnreadable, WeightsPayload

if TYPE_CHECKING:
    from simnet.ledger import Ledger
    from simnet.records import Subnet
    from simnet.subnets import Subnets
    from simnet.weights import Weights

COMMIT_REVEAL_VERSION = 4  # subtensor's DefaultCommitRevealWeightsVersion
MAX_UNREVEALED_COMMITS = 10


class CommitReveal:
    def __init__(
        self,
        subnets: Subnets,
        ledger: Ledger,
        weights: Weights,
        openers: tuple[TimelockOpener, ...],
    ):
        self._subnets = subnets
        self._ledger = ledger
        self._weights = weights
        self._openers = openers
        # A scenario fault (the ``unopenable_commit`` event): (netuid, hotkey or None for
        # any) -> how many more of its commits the chain fails to open, and so drops.
        self.unopenable: dict[tuple[int, str | None], int] = {}

    def fail_to_open(self, netuid: int, hotkey: str | None = None, count: int = 1) -> None:
        """The next ``count`` commits of ``hotkey`` (any, if None) on ``netuid`` that come
        up for their reveal fail to open, as an unreadable commit does on chain."""
        key = (netuid, hotkey)
        self.unopenable[key] = self.unopenable.get(key, 0) + count

    def _forced_unopenable(self, netuid: int, hotkey: str) -> bool:
        for key in ((netuid, hotkey), (netuid, None)):
            if self.unopenable.get(key, 0) > 0:
                self.unopenable[key] -= 1
                return True
        return False

    def current_epoch(self, sn: Subnet, block: int) -> int:
        """subtensor's ``current_epoch_with_lookahead``."""
        due = epoch_due(sn.netuid, sn.tempo, block) and sn.last_epoch_block != block
        return sn.epoch_index + (1 if due else 0)

    def commit(
        self,
        netuid: int,
        hotkey: str,
        ciphertext: bytes,
        reveal_round: int,
        commit_reveal_version: int,
        mechid: int = 0,
    ) -> None:
        sn = self._subnets.get(netuid)
        block = self._ledger.building_block
        mechanisms.ensure_exists(sn, mechid)
        if not sn.commit_reveal:
            raise ChainFailure("CommitRevealDisabled", f"subnet {netuid} has commit-reveal off")
        if commit_reveal_version != COMMIT_REVEAL_VERSION:
            raise ChainFailure(
                "IncorrectCommitRevealVersion",
                f"commit_reveal_version {commit_reveal_version}; the runtime expects "
                f"{COMMIT_REVEAL_VERSION}",
            )
        uid = sn.uids.get(hotkey)
        if uid is None:
            raise ChainFailure(
                "HotKeyNotRegisteredInSubNet", f"{hotkey} is not registered on subnet {netuid}"
            )
        last = mechanisms.terms(sn.neurons[uid], mechid).last_update
        if sn.weights_rate_limit and last > 0 and block - last < sn.weights_rate_limit:
            raise ChainFailure(
                "CommittingWeightsTooFast",
                f"weights were committed {block - last} blocks ago; the limit is "
                f"{sn.weights_rate_limit} blocks",
            )
        epoch = self.current_epoch(sn, block)
        queued = sn.timelocked_commits.get(epoch, ())
        if sum(1 for c in queued if c.hotkey == hotkey) >= MAX_UNREVEALED_COMMITS:
            raise ChainFailure(
                "TooManyUnrevealedCommits",
                f"{hotkey} has {MAX_UNREVEALED_COMMITS} unrevealed commits this epoch",
            )
        sn.timelocked_commits[epoch] = (
            *queued,
            TimelockedCommit(hotkey, block, bytes(ciphertext), int(reveal_round), mechid),
        )
        self._weights.touch(sn, uid, block, mechid)
        digest = "0x" + hashlib.blake2b(bytes(ciphertext), digest_size=32).hexdigest()
        self._ledger.emit(
            "SubtensorModule",
            "TimelockedWeightsCommitted",
            [hotkey, netuid, digest, int(reveal_round)],
        )

    def reveal_due(self, block: int) -> None:
        """Block step 3 (before the coinbase and epochs): reveal matured commits."""
        for sn in self._subnets:
            if sn.timelocked_commits:
                self._reveal_subnet(sn, block)

    def _reveal_subnet(self, sn: Subnet, block: int) -> None:
        cur = self.current_epoch(sn, block)
        reveal_epoch = max(0, cur - sn.reveal_period_epochs)
        for epoch in [e for e in sn.timelocked_commits if e < reveal_epoch]:
            del sn.timelocked_commits[epoch]
        self._ledger.subnet_changed(sn.netuid)
        if cur < sn.reveal_period_epochs or reveal_epoch not in sn.timelocked_commits:
            return
        waiting = []
        for commit in sn.timelocked_commits.pop(reveal_epoch):
            if self._forced_unopenable(sn.netuid, commit.hotkey):
                continue  # dropped as unreadable, no reveal event
            try:
                payload = self._open(commit)
            except TimelockUnreadable:
                continue  # the runtime logs and drops an unreadable commit
            if payload is None:
                waiting.append(commit)
                continue
            if payload.hotkey_ss58() != commit.hotkey:
                continue  # hotkey mismatch: dropped, as on chain
            try:
                self._weights.set_weights(
                    sn.netuid,
                    commit.hotkey,
                    payload.uids,
                    payload.values,
                    version_key=payload.version_key,
                    revealed=True,
                    mechid=commit.mechid,
                )
            except ChainFailure:
                continue
            self._ledger.emit(
                "SubtensorModule", "TimelockedWeightsRevealed", [sn.netuid, commit.hotkey]
            )
        if waiting:
            sn.timelocked_commits[reveal_epoch] = tuple(waiting)

    def _open(self, commit: TimelockedCommit) -> WeightsPayload | None:
        for opener in self._openers:
            data = opener.open(commit.ciphertext, commit.reveal_round)
            if data is not None:
                return WeightsPayload.decode(data)
        return None
