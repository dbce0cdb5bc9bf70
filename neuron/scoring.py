"""How a validator turns answers into weights.

One answer scores ``correctness * (1 - latency_weight * min(latency / timeout, 1))``:

* correctness comes first: a wrong, malformed, late or missing answer scores 0 however fast it
  came, so "answer fast with garbage" earns nothing;
* latency is a bounded secondary term: with ``latency_weight`` 0.2 the slowest correct answer
  still keeps 80 % of the score, so no speed can make up for a single wrong answer, and being
  faster than the network round trip buys almost nothing (no incentive to cut corners);
* the function is pure, so given the same answers and timings two validators agree.

Scores are kept per UID as a torch EMA; a UID whose hotkey changed (deregistered and taken by
someone else) restarts at 0, so a newcomer inherits nothing from the previous holder.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def answer_score(
    correctness: float, latency: float, timeout: float, latency_weight: float
) -> float:
    if correctness <= 0 or timeout <= 0:
        return 0.0
    slowness = min(max(latency / timeout, 0.0), 1.0)
    return float(min(correctness, 1.0) * (1.0 - latency_weight * slowness))


class ScoreBoard:
    """Per-UID exponential moving average of answer scores."""

    def __init__(self, alpha: float):
        self.alpha = alpha
        self.scores = torch.zeros(0, dtype=torch.float64)
        self._hotkeys: list[str | None] = []

    def sync(self, hotkeys: Sequence[str]) -> list[int]:
        """Align with the metagraph's ``uid -> hotkey``; returns the UIDs that were reset."""
        n = len(hotkeys)
        reset = [
            uid
            for uid in range(min(n, len(self._hotkeys)))
            if self._hotkeys[uid] is not None and self._hotkeys[uid] != hotkeys[uid]
        ]
        scores = torch.zeros(n, dtype=torch.float64)
        keep = min(n, self.scores.numel())
        scores[:keep] = self.scores[:keep]
        if reset:
            scores[reset] = 0.0
        self.scores = scores
        self._hotkeys = list(hotkeys)
        return reset

    def update(self, uids: Sequence[int], values: Sequence[float]) -> None:
        if not uids:
            return
        index = torch.tensor(list(uids), dtype=torch.long)
        if int(index.max()) >= self.scores.numel():
            raise IndexError("update for a uid beyond the last synced metagraph")
        new = torch.tensor(list(values), dtype=torch.float64)
        self.scores[index] = self.alpha * new + (1.0 - self.alpha) * self.scores[index]

    def weights(self) -> tuple[list[int], list[float]]:
        """UIDs with a positive score and their share of the total (empty if none)."""
        positive = torch.nonzero(self.scores > 0).flatten()
        if positive.numel() == 0:
            return [], []
        values = self.scores[positive]
        shares = values / values.sum()
        return positive.tolist(), shares.tolist()

    def snapshot(self) -> dict[int, float]:
        return {uid: float(v) for uid, v in enumerate(self.scores.tolist())}
