"""The miner judges callers by the stake weight the chain's epoch uses: alpha on the subnet
plus ``tao_weight`` x the caller's TAO on root, read through the SDK's metagraph on simnet."""

from __future__ import annotations

import pytest

from neuron.auth import Refusal
from neuron.blacklist import CallerPolicy
from neuron.metagraph import MetagraphView
from neuron.metrics import RefusalReason
from simnet.economy import U64_MAX
from simnet.state import RAO_PER_TAO
from simnet.testing import sim_client, small_world

TAO = RAO_PER_TAO


async def _view_with_root_stake(root_tao: float) -> tuple[MetagraphView, str, float]:
    world = small_world(validators=1, miners=2, tempo=10, max_uids=4)
    chain, netuid = world.chain, world.netuid
    chain.create_root(tao_weight=U64_MAX // 5)
    validator = world.validators[0].hotkey.ss58_address
    if root_tao:
        backer = world.miners[0].coldkey.ss58_address
        chain.fund(backer, int(2 * root_tao * TAO))
        chain.add_stake(backer, validator, 0, int(root_tao * TAO))
    chain.step()
    async with sim_client(chain) as client:
        view = MetagraphView.from_metagraph(
            await client.subnets.metagraph(netuid, commitments=False)
        )
    alpha = chain.subnet(netuid).hotkey_alpha(validator) / TAO
    return view, validator, alpha


async def test_a_peers_stake_is_alpha_plus_tao_weight_times_its_root_tao():
    view, validator, alpha = await _view_with_root_stake(500)
    assert view.by_hotkey[validator].stake == pytest.approx(alpha + 500 / 5, rel=1e-6)


async def test_root_tao_lifts_a_caller_over_the_miners_minimum_stake():
    without, validator, alpha = await _view_with_root_stake(0)
    with_root, _, _ = await _view_with_root_stake(500)
    policy = CallerPolicy(require_validator_permit=False, min_stake=alpha + 50)
    with pytest.raises(Refusal) as refused:
        policy.admit(without, validator)
    assert refused.value.reason is RefusalReason.LOW_STAKE
    assert policy.admit(with_root, validator).hotkey == validator
