"""The epoch: its schedule, and handing out what one epoch pays to stake.

A subnet runs its epoch in block ``b`` when ``(b + netuid + 1) % (tempo + 1) == 0``
(subtensor's schedule, so epochs are ``tempo + 1`` blocks apart). Each block adds
``emission_per_block_rao`` alpha to the subnet's pending emission; the epoch hands it out: a
miner's incentive share goes to its owner's stake position, a validator's dividend share to the
hotkey's stakers pro rata. What the epoch computes comes from :mod:`simnet.subnet_epoch` (one
Yuma over the subnet as stored, or null consensus) or, on a subnet with several mechanisms,
from :mod:`simnet.mechanisms`, which builds on it. ``reset_bonds_on`` implements
``do_reset_bonds``: on a ``bonds_reset_enabled`` subnet, a hotkey that commits new metadata
loses every bond held on its uid.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from simnet.mechanisms import run_mechanism_epochs
from simnet.records import Subnet
from simnet.subnet_epoch import null_consensus_outcome, run_subnet_epoch

if TYPE_CHECKING:
    from simnet.economy import Economy
    from simnet.ledger import Ledger


def epoch_due(netuid: int, tempo: int, block: int) -> bool:
    return tempo > 0 and (block + netuid + 1) % (tempo + 1) == 0


class Epochs:
    def __init__(self, ledger: Ledger, economy: Economy | None = None):
        self._ledger = ledger
        # Stake weight (alpha + tao_weight * root TAO) and the root/alpha dividend split.
        self._economy = economy

    def run(self, sn: Subnet, block: int) -> None:
        """Run the epoch and hand out the alpha accrued since the last one."""
        economy = self._economy
        stake = economy.stake_weights(sn) if economy is not None else None
        if sn.null_consensus_enabled:
            outcome = null_consensus_outcome(sn, block, stake=stake)
        else:
            outcome = (
                run_subnet_epoch(sn, block, stake=stake)
                if sn.mechanism_count == 1
                else run_mechanism_epochs(sn, block, stake=stake)
            )
        alpha_divs: dict[str, int] = {}
        tao_divs: dict[str, int] = {}
        per_mechanism = outcome.mechanisms
        for uid, nrn in enumerate(sn.neurons):
            sn.neurons[uid] = replace(
                nrn,
                active=outcome.active[uid],
                validator_permit=outcome.validator_permit[uid],
                consensus=outcome.consensus[uid],
                incentive=outcome.incentive[uid],
                dividends=outcome.dividends[uid],
                validator_trust=outcome.validator_trust[uid],
                emission=outcome.emission[uid],
                bonds=outcome.bonds[uid],
                mechanisms=nrn.mechanisms if per_mechanism is None else per_mechanism[uid],
            )
        paid = 0
        for uid, nrn in enumerate(sn.neurons):
            server, validator = outcome.server_emission[uid], outcome.validator_emission[uid]
            if server:
                key = (nrn.hotkey, nrn.coldkey)
                sn.stake[key] = sn.stake.get(key, 0) + server
                paid += server
            if validator and economy is not None:
                validator, to_root = economy.split(sn, nrn.hotkey, validator)
                alpha_divs[nrn.hotkey], tao_divs[nrn.hotkey] = validator, to_root
                paid += to_root  # accrued for root stakers (simnet.economy), off the pool
            if validator:
                stakers = sn.stakers(nrn.hotkey)
                total = sum(amount for _, amount in stakers)
                if total <= 0:
                    stakers, total = [(nrn.coldkey, 1)], 1
                given = 0
                for ck, amount in stakers:
                    share = validator * amount // total
                    sn.stake[(nrn.hotkey, ck)] = sn.stake.get((nrn.hotkey, ck), 0) + share
                    given += share
                rest = validator - given  # rounding dust goes to the owner's position
                if rest:
                    key = (nrn.hotkey, nrn.coldkey)
                    sn.stake[key] = sn.stake.get(key, 0) + rest
                paid += validator
        sn.alpha_out += paid
        sn.alpha_dividends, sn.tao_dividends = alpha_divs, tao_divs
        sn.pending_emission = 0
        sn.last_epoch_block = block
        sn.epoch_index += 1
        self._ledger.subnet_changed(sn.netuid)


def reset_bonds_on(sn: Subnet, hotkey: str) -> bool:
    """``do_reset_bonds``: drop the bond column of ``hotkey``'s uid from every row, when the
    subnet has ``bonds_reset_enabled``. True when it applied."""
    uid = sn.uids.get(hotkey)
    if not sn.bonds_reset_enabled or uid is None:
        return False
    for i, nrn in enumerate(sn.neurons):
        kept = tuple(p for p in nrn.bonds if p[0] != uid)
        # Every mechanism's bonds (simnet.mechanisms), as the runtime clears each index.
        mechs = tuple(
            replace(t, bonds=tuple(p for p in t.bonds if p[0] != uid)) for t in nrn.mechanisms
        )
        if len(kept) != len(nrn.bonds) or mechs != nrn.mechanisms:
            sn.neurons[i] = replace(nrn, bonds=kept, mechanisms=mechs)
    return True
