"""A subnet's metagraph in the decoded shape the bittensor 11 SDK reads (``get_metagraph``).

It sits below :mod:`simnet.shapes`, :mod:`simnet.mechagraph` (a mechagraph is this metagraph
with one mechanism's terms) and the selective metagraph's dispatch, and above
:mod:`simnet.views`, which adds the 2026 fields; with the few helpers they share (the subnet of
a netuid parameter, text as bytes, an axon record). Simplified against subtensor: what simnet
does not model (identities, trust, rank, the pruning score) reads as fixed placeholders.
"""

from __future__ import annotations

from typing import Any

from simnet.records import EMPTY_AXON, U16_MAX, BlockRecord, Subnet
from simnet.views import metagraph_economy, moving_price

I96F32_ONE = 1 << 32


def subnet_of(rec: BlockRecord, netuid: Any) -> Subnet | None:
    """The subnet a netuid parameter names; None when it names none (or is no integer)."""
    try:
        return rec.subnets.get(int(netuid))
    except (TypeError, ValueError):
        return None


def text_bytes(text: str) -> list[int]:
    return list(text.encode("utf-8"))


def axon_of(sn: Subnet, hotkey: str) -> dict[str, int]:
    return (sn.axons.get(hotkey) or EMPTY_AXON).as_dict()


def metagraph(rec: BlockRecord, netuid: Any) -> dict[str, Any] | None:
    """``get_metagraph``: the subnet's metagraph, None when there is no such subnet."""
    sn = subnet_of(rec, netuid)
    if sn is None:
        return None
    alpha = sn.alpha_by_hotkey()
    nrns = sn.neurons
    # The metagraph's moving_price is SubnetMovingPrice, the EMA dynamic info serves too
    # (get_metagraph reads the same storage), not the spot price.
    price_bits = int(moving_price(sn) * I96F32_ONE)
    graph = {
        "netuid": sn.netuid,
        "name": text_bytes(sn.name),
        "symbol": text_bytes(sn.symbol),
        "identity": None,
        "network_registered_at": sn.registered_at,
        "owner_hotkey": sn.owner_hotkey,
        "owner_coldkey": sn.owner_coldkey,
        "block": rec.number,
        "tempo": sn.tempo,
        "last_step": sn.last_epoch_block,
        "blocks_since_last_step": rec.number - sn.last_epoch_block,
        "subnet_emission": sn.emission_per_block_rao,
        "alpha_in": sn.alpha_in,
        "alpha_out": sn.alpha_out,
        "tao_in": sn.tao_in,
        "alpha_out_emission": sn.emission_per_block_rao,
        "alpha_in_emission": 0,
        "tao_in_emission": sn.tao_in_emission,
        "pending_alpha_emission": sn.pending_emission,
        "pending_root_emission": 0,
        "subnet_volume": 0,
        "moving_price": {"bits": price_bits},
        "rho": 10,
        "kappa": sn.kappa,
        "min_allowed_weights": sn.min_allowed_weights,
        "max_weights_limit": sn.max_weights_limit,
        "weights_version": sn.weights_version,
        "weights_rate_limit": sn.weights_rate_limit,
        "activity_cutoff": sn.activity_cutoff,
        "max_validators": sn.max_validators,
        "num_uids": sn.n,
        "max_uids": sn.max_uids,
        "burn": sn.burn_rao,
        "difficulty": 0,
        "registration_allowed": True,
        "pow_registration_allowed": False,
        "immunity_period": sn.immunity_period,
        "min_difficulty": 0,
        "max_difficulty": 0,
        "min_burn": sn.min_burn_rao,
        "max_burn": sn.max_burn_rao,
        "adjustment_alpha": 0,
        "adjustment_interval": 0,
        "target_regs_per_interval": sn.max_registrations_per_block,
        "max_regs_per_block": sn.max_registrations_per_block,
        "serving_rate_limit": sn.serving_rate_limit,
        "commit_reveal_weights_enabled": sn.commit_reveal,
        "commit_reveal_period": sn.reveal_period_epochs,
        "liquid_alpha_enabled": False,
        "alpha_high": 58_982,
        "alpha_low": 45_875,
        "bonds_moving_avg": sn.bonds_moving_average,
        "hotkeys": [n.hotkey for n in nrns],
        "coldkeys": [n.coldkey for n in nrns],
        "identities": [None for _ in nrns],
        "axons": [axon_of(sn, n.hotkey) for n in nrns],
        "active": [n.active for n in nrns],
        "validator_permit": [n.validator_permit for n in nrns],
        "pruning_score": [U16_MAX for _ in nrns],
        "last_update": [n.last_update for n in nrns],
        "emission": [n.emission for n in nrns],
        "dividends": [n.dividends for n in nrns],
        "incentives": [n.incentive for n in nrns],
        "consensus": [n.consensus for n in nrns],
        "trust": [0 for _ in nrns],
        "rank": [0 for _ in nrns],
        "block_at_registration": [n.registered_at for n in nrns],
        "alpha_stake": [alpha.get(n.hotkey, 0) for n in nrns],
        "tao_stake": [0 for _ in nrns],
        "total_stake": [alpha.get(n.hotkey, 0) for n in nrns],
        "tao_dividends_per_hotkey": [(n.hotkey, 0) for n in nrns],
        "alpha_dividends_per_hotkey": [(n.hotkey, 0) for n in nrns],
    }
    # The 2026 surface: stake columns, emission terms, collateral.
    return graph | metagraph_economy(rec, sn)
