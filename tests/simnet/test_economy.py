"""Root stake, TAO stake weight, the dividends split and the emission schedule, through the SDK."""

from __future__ import annotations

import bittensor as bt
import pytest

from simnet.economy import (
    DEFAULT_TAO_WEIGHT,
    U64_MAX,
    EmissionSchedule,
    split_dividend,
)
from simnet.state import RAO_PER_TAO, Chain
from simnet.testing import dev_wallet, sim_client, small_world

TAO = RAO_PER_TAO


def world_with_root(tao_weight: int = U64_MAX // 5):
    world = small_world(block_time=0.25)
    world.chain.create_root(tao_weight=tao_weight)
    world.chain.fund(world.miners[0].coldkey.ss58_address, 10_000 * TAO)
    return world


async def test_staking_tao_on_root_through_the_sdk_keeps_it_tao_one_to_one():
    world = world_with_root()
    chain, backer = world.chain, world.miners[0]
    hotkey = world.validators[0].hotkey.ss58_address
    async with sim_client(chain) as client:
        result = await client.execute(
            bt.AddStake(hotkey, 0, 100.0, slippage_protection=False), backer
        )
        assert result.success, result.message
        staked = await client.read(
            "stake", coldkey_ss58=backer.coldkey.ss58_address, hotkey_ss58=hotkey, netuid=0
        )
    assert staked.rao == 100 * TAO
    assert chain.subnet(0).price_rao == TAO


async def test_root_tao_counts_toward_stake_weight_scaled_by_tao_weight():
    world = world_with_root(tao_weight=U64_MAX // 5)
    chain = world.chain
    hotkey = world.validators[0].hotkey.ss58_address
    chain.add_stake(world.miners[0].coldkey.ss58_address, hotkey, 0, 500 * TAO)
    async with sim_client(chain) as client:
        mg = await client.subnets.metagraph(world.netuid)
    neuron = mg.by_hotkey(hotkey)
    assert neuron.tao_stake.rao == 500 * TAO
    assert neuron.total_stake.rao == pytest.approx(neuron.alpha_stake.rao + 100 * TAO, abs=2)
    other = mg.by_hotkey(world.validators[1].hotkey.ss58_address)
    assert other.tao_stake.rao == 0 and other.total_stake.rao == other.alpha_stake.rao


def test_without_a_root_subnet_total_stake_is_alpha_alone():
    world = small_world()
    mg = world.chain.record().subnets[world.netuid]
    assert mg.tao_weight == 0 and 0 not in world.chain.netuids


def test_root_tao_moves_validator_permits_when_alpha_alone_would_not():
    world = world_with_root(tao_weight=U64_MAX)
    chain, netuid = world.chain, world.netuid
    sn = chain.subnet(netuid)
    sn.max_validators = 1
    weaker = world.validators[0].hotkey.ss58_address  # 1000 alpha against 1500
    chain.add_stake(world.miners[0].coldkey.ss58_address, weaker, 0, 5_000 * TAO)
    for _ in range(2):  # permits lag one epoch
        before = chain.subnet(netuid).epoch_index
        while chain.subnet(netuid).epoch_index == before:
            chain.step()
    permits = {n.hotkey: n.validator_permit for n in chain.subnet(netuid).neurons}
    assert permits[weaker] and not permits[world.validators[1].hotkey.ss58_address]


def test_a_validators_dividend_splits_between_root_and_alpha_stakers():
    assert split_dividend(alpha=300.0, tao_weighted=100.0, amount=1000) == (750, 250)
    assert split_dividend(alpha=300.0, tao_weighted=0.0, amount=1000) == (1000, 0)


async def test_the_epoch_records_each_validators_root_and_alpha_dividends():
    world = world_with_root(tao_weight=U64_MAX // 2)
    chain, netuid = world.chain, world.netuid
    hotkey = world.validators[0].hotkey.ss58_address
    chain.add_stake(world.miners[0].coldkey.ss58_address, hotkey, 0, 2_000 * TAO)
    before = chain.subnet(netuid).epoch_index
    while chain.subnet(netuid).epoch_index == before:
        chain.step()
    async with sim_client(chain) as client:
        raw = await client.read("metagraph", netuid=netuid)
    tao_divs = dict(raw["tao_dividends_per_hotkey"])
    alpha_divs = dict(raw["alpha_dividends_per_hotkey"])
    alpha = chain.subnet(netuid).hotkey_alpha(hotkey)
    assert tao_divs[hotkey] > 0 and alpha_divs[hotkey] > 0
    share = tao_divs[hotkey] / (tao_divs[hotkey] + alpha_divs[hotkey])
    # alpha grew by the epoch's own payout, so the share is computed on the pre-epoch alpha
    assert share == pytest.approx(1_000 * TAO / (alpha - alpha_divs[hotkey] + 1_000 * TAO), 1e-3)
    assert tao_divs[world.validators[1].hotkey.ss58_address] == 0


def test_emission_is_half_a_tao_once_issuance_passes_the_first_halving():
    schedule = EmissionSchedule(mode="ranked")
    assert schedule.block_emission_rao(10_000_000 * TAO, 1) == TAO
    assert schedule.block_emission_rao(10_600_000 * TAO, 1) == TAO // 2
    assert schedule.block_emission_rao(15_800_000 * TAO, 1) == TAO // 4


def test_the_halving_can_follow_block_height_instead():
    schedule = EmissionSchedule(halving="block", first_halving_block=100, halving_interval=50)
    assert [schedule.block_emission_rao(0, b) for b in (99, 100, 149, 150)] == [
        TAO,
        TAO // 2,
        TAO // 2,
        TAO // 4,
    ]


def test_ranked_emission_injects_the_subnets_gated_share_and_records_it():
    chain = Chain(emission=EmissionSchedule(mode="ranked"))
    owner = dev_wallet("Alice").coldkey.ss58_address
    for netuid in range(1, 71):
        chain.create_subnet(
            netuid,
            tempo=0,
            owner_coldkey=owner,
            tao_in_rao=TAO * (1000 - 10 * netuid),
            alpha_in_rao=4000 * TAO,
        )
    chain.step()
    emitted = {n: chain.subnet(n).tao_in_emission for n in range(1, 71)}
    assert sum(emitted.values()) == pytest.approx(TAO // 2, abs=70)
    # a soft gate, not a cut: the 70th subnet still gets something, far less than the 1st
    assert emitted[1] > emitted[32] > emitted[33] > emitted[70] > 0
    assert emitted[70] < emitted[1] / 10
    assert chain.economy.issuance_rao > EmissionSchedule().start_issuance_rao
    rec = chain.record()
    from simnet import shapes

    graph = shapes.metagraph(rec, 1)
    assert graph["subnet_emission"] == emitted[1] and graph["tao_in_emission"] == emitted[1]


def test_the_default_schedule_keeps_each_subnets_own_emission():
    world = small_world()
    sn = world.chain.subnet(world.netuid)
    assert sn.tao_in_emission == 0 and sn.alpha_out_emission == sn.emission_per_block_rao


def test_the_runtime_default_tao_weight_is_about_five_percent():
    assert DEFAULT_TAO_WEIGHT / U64_MAX == pytest.approx(0.0527, abs=1e-4)
