"""Following this validator's commit-reveal commits to their reveals on chain.

A commit is counted when its extrinsic is included. The chain reveals it later by itself (no
call from us), so the reveal is observed, not made: each weights check while commits are
outstanding reads the subnet's queue of timelocked commits (``TimelockedWeightCommits``, one
read), and only when one of ours has left the queue reads the ``System.Events`` of the blocks
since the last check for ``TimelockedWeightsRevealed(netuid, our hotkey)``: usually one block,
so about one extra read per reveal. A commit that leaves the queue without that event was
dropped by the chain (unreadable, or it failed the weight checks) and is not a reveal.

The unrevealed gauge is the chain's count of our queued commits (read once at start-up too,
so a restart keeps what the last run left pending), so it drains by itself when commits stop,
whether they were revealed or dropped.

So each commit is told apart as one of three: **revealed** (left the queue with our
``TimelockedWeightsRevealed``), **pending** (still queued: inside its window, or in its
reveal epoch while the chain retries opening it) and **missed** (left the queue past its
reveal epoch without a reveal: the chain could not open it, or it failed the weight checks).
A missed commit is weights that never landed: vtrust decays for a tempo or more before the
staleness alerts would say so, so ``missed`` is counted (and paged on) at once. When the
blocks since the last check were too many to scan, a commit that left is not called missed
(its reveal may lie in the blocks not scanned).
"""

from __future__ import annotations

from dataclasses import dataclass

import bittensor as bt

from common.reveal_events import MAX_SCAN_BLOCKS, reveals_in


@dataclass(frozen=True)
class CommitRevealState:
    """What the metrics export, captured per scrape. None = not happened yet."""

    last_commit_block: int | None = None
    last_reveal_block: int | None = None
    unrevealed: int = 0
    missed: int = 0  # commits that left the queue unrevealed, since start-up


class RevealTracker:
    """Our commits on one subnet, from commit to the chain's reveal."""

    def __init__(self, client: bt.Client, netuid: int, hotkey: str):
        self._client = client
        self._netuid = netuid
        self._hotkey = hotkey
        self._outstanding: set[int] = set()  # commit blocks the chain had queued at last look
        self._checked_at: int | None = None
        self.last_commit_block: int | None = None
        self.last_reveal_block: int | None = None
        self.unrevealed = 0
        self.missed = 0
        self.missed_last = 0  # missed found by the last observe()

    def state(self) -> CommitRevealState:
        return CommitRevealState(
            self.last_commit_block, self.last_reveal_block, self.unrevealed, self.missed
        )

    def committed(self, block: int) -> None:
        self._outstanding.add(block)
        self.last_commit_block = block
        self.unrevealed = len(self._outstanding)
        if self._checked_at is None:
            self._checked_at = block - 1

    async def observe(self, head: int) -> int:
        """Reveals newly seen on chain up to ``head`` (0 while nothing is outstanding); the
        commits found missed are in ``missed_last`` (and added to ``missed``)."""
        self.missed_last = 0
        # The first look always reads the queue: a restarted validator picks up the commits
        # its previous run left pending, so the gauge is the chain's count from the start.
        if not self._outstanding and self._checked_at is not None:
            self._checked_at = head
            return 0
        queue = await self._client.weights.timelocked_weight_commits(self._netuid)
        queued = {
            int(c["commit_block"])
            for commits in queue.values()
            for c in commits
            if c["hotkey"] == self._hotkey
        }
        gone = self._outstanding - queued
        since = self._checked_at if self._checked_at is not None else head
        self._outstanding = queued
        self.unrevealed = len(queued)
        self._checked_at = head
        if not gone:
            return 0
        blocks = await self._reveal_blocks(since, head)
        revealed = min(len(gone), len(blocks))
        if revealed:
            self.last_reveal_block = max(blocks)
        if head - since <= MAX_SCAN_BLOCKS:
            self.missed_last = len(gone) - revealed
            self.missed += self.missed_last
        return revealed

    async def _reveal_blocks(self, since: int, head: int) -> list[int]:
        found = []
        for block in range(max(since + 1, head - MAX_SCAN_BLOCKS + 1), head + 1):
            records = await self._client.query(bt.storage.System.Events, block=block)
            found += [block] * reveals_in(records, self._netuid, self._hotkey)
        return found
