"""The reveal watch from chain storage: for each watched validator hotkey on a commit-reveal
subnet, its commits told apart as revealed, pending, or missed, whatever runtime it runs.

The bundled validator counts its own (``neuron/reveals.py``); this is the agent's view of any
watched validator, read from the chain: per poll, 1 ``query_map`` of
``TimelockedWeightCommits`` per commit-reveal subnet with a watched validator (the commits the
chain still holds: pending), and only when one of a watched hotkey's commits has left the
queue, the ``System.Events`` of the blocks since the last look (usually one) for its
``TimelockedWeightsRevealed``. A commit that left with its event was revealed; one that left
without it was missed (the chain could not open it, or its weights failed the checks). When
an event read fails or the gap is too long to scan, nothing is called missed.

Series per (netuid, hotkey), at 0 from the first poll: ``bittensor_neuron_weight_commits_pending``
and the counters ``bittensor_neuron_weight_reveals_total`` and
``bittensor_neuron_weight_reveals_missed_total`` (kept across restarts in the state file's
``reveals`` section).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import bittensor as bt
import structlog

from common.metric_names import Exporter as N
from common.reveal_events import MAX_SCAN_BLOCKS, reveals_in
from common.series import Series
from exporters.family import Family
from exporters.reads import ReadBook

Pair = tuple[int, str]  # (netuid, hotkey)


@dataclass(frozen=True, slots=True)
class RevealView:
    # (netuid, hotkey) -> (pending, revealed, missed)
    counts: Mapping[Pair, tuple[int, int, int]] = field(
        default_factory=lambda: MappingProxyType({})
    )


class RevealWatch:
    def __init__(self, state: Mapping[str, Any] | None = None, *, logger: Any = None):
        self._log = logger or structlog.get_logger("taowatch.exporter")
        saved = dict(state or {})
        # "netuid:hotkey" -> [revealed, missed]
        self._counts: dict[str, list[int]] = {k: list(v) for k, v in saved.items()}
        self._queued: dict[Pair, set[int]] = {}
        self._looked_at: int | None = None
        self._view = RevealView()

    def state(self) -> dict[str, list[int]]:
        return self._counts

    @property
    def view(self) -> RevealView:
        return self._view

    async def observe(
        self, client: Any, snap: Any, head: int, pairs: Sequence[Pair], book: ReadBook
    ) -> RevealView:
        """Look at ``pairs`` (watched validators on commit-reveal subnets) at ``head``."""
        queued: dict[Pair, set[int]] = {}
        for netuid in sorted({n for n, _ in pairs}):
            queue = await book.read(
                "reveal_queue", snap.weights.timelocked_weight_commits(netuid), context=netuid
            )
            if queue is None:  # failed alone: these pairs keep their last look
                queued.update({p: self._queued.get(p, set()) for p in pairs if p[0] == netuid})
                continue
            for n, hk in pairs:
                if n == netuid:
                    queued[(n, hk)] = {
                        int(c["commit_block"])
                        for commits in queue.values()
                        for c in commits
                        if c["hotkey"] == hk
                    }
        gone = {p: len(self._queued.get(p, set()) - queued.get(p, set())) for p in pairs}
        if any(gone.values()) and self._looked_at is not None:
            await self._count(client, head, gone, book)
        self._queued, self._looked_at = queued, head
        self._view = RevealView(
            MappingProxyType(
                {p: (len(queued.get(p, ())), *self._counts.get(_key(p), [0, 0])) for p in pairs}
            )
        )
        return self._view

    async def _count(self, client: Any, head: int, gone: dict[Pair, int], book: ReadBook) -> None:
        since = self._looked_at or head
        complete = head - since <= MAX_SCAN_BLOCKS
        found = dict.fromkeys(gone, 0)
        for block in range(max(since + 1, head - MAX_SCAN_BLOCKS + 1), head + 1):
            records = await book.read(
                "reveal_events", client.query(bt.storage.System.Events, block=block)
            )
            if records is None:
                complete = False
                continue
            for (netuid, hk), n in gone.items():
                if n:
                    found[(netuid, hk)] += reveals_in(records, netuid, hk)
        for pair, n in gone.items():
            if not n:
                continue
            counts = self._counts.setdefault(_key(pair), [0, 0])
            revealed = min(n, found[pair])
            counts[0] += revealed
            if complete and n > revealed:
                counts[1] += n - revealed
                self._log.warning(
                    "weight commit never revealed", netuid=pair[0], hotkey=pair[1], missed=n
                )


def watched_validators(watched: Sequence[Any], subnets: Mapping[int, Any]) -> list[Pair]:
    """The watched hotkeys holding a validator permit on a commit-reveal subnet."""
    out = []
    for w in watched:
        view = subnets.get(w.netuid)
        if w.neuron and w.neuron.validator_permit and view and view.rules.commit_reveal:
            out.append((w.netuid, w.hotkey))
    return out


def _key(pair: Pair) -> str:
    return f"{pair[0]}:{pair[1]}"


def reveal_families(view: RevealView | None) -> list[Family]:
    if view is None:
        return []
    items = sorted(view.counts.items())
    labels = [(str(n), hk) for (n, hk), _ in items]

    def family(series: Series, index: int) -> Family:
        return Family(series, labels, [float(c[index]) for _, c in items])

    return [
        family(N.NEURON_WEIGHT_COMMITS_PENDING, 0),
        family(N.NEURON_WEIGHT_REVEALS, 1),
        family(N.NEURON_WEIGHT_REVEALS_MISSED, 2),
    ]
