"""Which authenticated callers a miner answers, judged against the current metagraph."""

from __future__ import annotations

from dataclasses import dataclass

from neuron.auth import Refusal
from neuron.metagraph import MetagraphView, Peer
from neuron.metrics import RefusalReason as Why


@dataclass(frozen=True)
class CallerPolicy:
    require_validator_permit: bool = True
    min_stake: float = 0.0

    def registered(self, view: MetagraphView | None, hotkey: str) -> Peer:
        """The caller's metagraph entry, or a refusal (also used before verifying: cheap)."""
        if view is None:
            raise Refusal(503, Why.METAGRAPH_UNAVAILABLE, "metagraph not synced yet; retry later")
        peer = view.by_hotkey.get(hotkey)
        if peer is None:
            raise Refusal(403, Why.UNREGISTERED, "caller hotkey is not registered on this subnet")
        return peer

    def admit(self, view: MetagraphView | None, hotkey: str) -> Peer:
        peer = self.registered(view, hotkey)
        if self.require_validator_permit and not peer.validator_permit:
            raise Refusal(403, Why.NO_VALIDATOR_PERMIT, "caller holds no validator permit")
        if peer.stake < self.min_stake:
            raise Refusal(403, Why.LOW_STAKE, "caller stake is below this miner's minimum")
        return peer
