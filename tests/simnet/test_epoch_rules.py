"""The 2026 epoch rules on the chain, through the unmodified SDK: Yuma3 and liquid alpha per
subnet, the bonds reset on a metadata commitment, the activity cutoff factor, null-consensus
subnets, and the hyperparameter and storage reads that expose them."""

from __future__ import annotations

import bittensor as bt
import pytest

from simnet.scenario import Scenario, World
from simnet.state import RAO_PER_TAO, Chain
from simnet.testing import dev_wallet, sim_client, small_world

U16_MAX = 65535


def run_to_epoch(chain: Chain, netuid: int) -> None:
    before = chain.subnet(netuid).epoch_index
    while chain.subnet(netuid).epoch_index == before:
        chain.step()


async def test_a_new_subnet_runs_yuma3_and_the_sdk_reads_its_epoch_hyperparameters():
    world = small_world(block_time=0.25)
    async with sim_client(world.chain) as client:
        params = await client.read("subnet_hyperparameters", netuid=world.netuid)
        yuma3 = await client.query(bt.storage.SubtensorModule.Yuma3On, [world.netuid])
        alphas = await client.query(bt.storage.SubtensorModule.AlphaValues, [world.netuid])
    assert params["yuma_version"] == 3 and params["yuma3_enabled"] is True and yuma3 is True
    assert params["liquid_alpha_enabled"] is False and params["bonds_reset_enabled"] is False
    assert (params["alpha_low"], params["alpha_high"]) == (45875, 58982) == tuple(alphas)
    assert params["alpha_sigmoid_steepness"] == 1000
    assert params["bonds_penalty"] == U16_MAX
    assert params["activity_cutoff_factor"] == world.chain.subnet(1).activity_cutoff_factor


async def test_yuma3_stores_absolute_bonds_where_original_yuma_upscales_each_column():
    yuma3 = small_world()
    original = small_world()
    original.chain.set_hyperparameter(1, "yuma3_on", False)
    for w in (yuma3, original):
        run_to_epoch(w.chain, 1)

    async def column_maxima(chain: Chain) -> dict[int, int]:
        top: dict[int, int] = {}
        async with sim_client(chain) as client:
            for validator in (0, 1):
                for j, v in await client.query(bt.storage.SubtensorModule.Bonds, [1, validator]):
                    top[j] = max(top.get(j, 0), v)
        return top

    # Two validators share each miner: original Yuma scales each column's larger holder to
    # 65535; Yuma3 stores each validator's own EMA of its weight, below full scale.
    assert set((await column_maxima(original.chain)).values()) == {U16_MAX}
    yuma3_maxima = (await column_maxima(yuma3.chain)).values()
    assert yuma3_maxima and all(0 < v < U16_MAX for v in yuma3_maxima)
    async with sim_client(original.chain) as client:
        params = await client.read("subnet_hyperparameters", netuid=1)
    assert params["yuma_version"] == 2


def test_liquid_alpha_changes_yuma3_bonds_and_nothing_under_original_yuma():
    def bonds_after(yuma3: bool, liquid: bool) -> tuple:
        w = small_world()
        w.chain.set_hyperparameter(1, "yuma3_on", yuma3)
        w.chain.set_hyperparameter(1, "liquid_alpha_on", liquid)
        run_to_epoch(w.chain, 1)
        return tuple(n.bonds for n in w.chain.subnet(1).neurons)

    assert bonds_after(True, True) != bonds_after(True, False)
    assert bonds_after(False, True) == bonds_after(False, False)


async def test_a_miner_committing_metadata_wipes_the_bonds_held_on_it_when_reset_is_enabled():
    world = small_world(block_time=0.25)
    chain, miner = world.chain, world.miners[0]
    sn = chain.subnet(1)
    uid = sn.uids[miner.hotkey.ss58_address]
    other = sn.uids[world.miners[1].hotkey.ss58_address]
    assert any(j == uid for n in sn.neurons for j, _ in n.bonds)
    chain.set_hyperparameter(1, "bonds_reset_enabled", True)
    chain.fund(miner.hotkey.ss58_address, RAO_PER_TAO)
    call = bt.calls.Commitments.set_commitment(netuid=1, info={"fields": [[{"Raw4": b"v2.0"}]]})
    async with sim_client(chain) as client:
        result = await client.submit_call(call, miner, signer="hotkey")
        assert result.success, result.message
        rows = [await client.query(bt.storage.SubtensorModule.Bonds, [1, v]) for v in (0, 1)]
    for row in rows:
        assert uid not in [j for j, _ in row]
        assert other in [j for j, _ in row]  # bonds on other miners stay


async def test_a_commitment_leaves_bonds_alone_when_reset_is_off_and_strangers_cannot_commit():
    world = small_world(block_time=0.25)
    chain, miner = world.chain, world.miners[0]
    before = [n.bonds for n in chain.subnet(1).neurons]
    chain.fund(miner.hotkey.ss58_address, RAO_PER_TAO)
    stranger = dev_wallet("Stranger")
    chain.fund(stranger.hotkey.ss58_address, RAO_PER_TAO)
    call = bt.calls.Commitments.set_commitment(netuid=1, info={"fields": [[{"Raw4": b"v2.0"}]]})
    async with sim_client(chain) as client:
        assert (await client.submit_call(call, miner, signer="hotkey")).success
        refused = await client.submit_call(call, stranger, signer="hotkey")
    assert [n.bonds for n in chain.subnet(1).neurons] == before
    assert not refused.success and refused.error.name == "AccountNotAllowedCommit"


async def test_the_epoch_uses_the_activity_cutoff_factor_not_the_deprecated_cutoff():
    world = small_world(block_time=0.25)
    chain = world.chain
    chain.set_hyperparameter(1, "activity_cutoff", 60_000)  # legacy storage: ignored
    chain.set_hyperparameter(1, "activity_cutoff_factor", 1000)  # one tempo
    for _ in range(3):
        run_to_epoch(chain, 1)
    async with sim_client(chain) as client:
        neurons = await (await client.at()).neurons.all(1)
        params = await client.read("subnet_hyperparameters", netuid=1)
    assert params["activity_cutoff"] == 60_000
    validators = {w.hotkey.ss58_address for w in world.validators}
    # Weights were last set more than one tempo ago: validators are inactive now.
    assert not any(n.active for n in neurons if n.hotkey in validators)
    assert chain.subnet(1).activity_cutoff_blocks == chain.subnet(1).tempo


def test_a_subnet_created_with_the_chain_default_cutoff_gets_the_chain_default_factor():
    chain = Chain()
    sn = chain.create_subnet(3, tempo=360, activity_cutoff=5000)
    assert sn.activity_cutoff_factor == 13889 and sn.activity_cutoff_blocks == 5000


async def test_a_null_epoch_pays_miners_by_the_largest_stakes_row_and_dividends_by_stake():
    world = small_world(block_time=0.25)
    chain = world.chain
    chain.set_hyperparameter(1, "null_consensus_enabled", True)
    stake = chain.subnet(1).alpha_by_hotkey()
    top = max(stake, key=lambda hk: stake[hk])
    for v in world.validators:
        hk = v.hotkey.ss58_address
        others = [w.hotkey.ss58_address for w in world.miners]
        row = [chain.subnet(1).uids[m] for m in others]
        chain.set_weights(
            1,
            hk,
            row,
            [65535] + [0] * (len(row) - 1) if hk == top else [0] * (len(row) - 1) + [65535],
        )
    run_to_epoch(chain, 1)
    async with sim_client(chain) as client:
        neurons = await (await client.at()).neurons.all(1)
    by_hotkey = {n.hotkey: n.raw for n in neurons}
    favourite = world.miners[0].hotkey.ss58_address
    assert [hk for hk, raw in by_hotkey.items() if raw["validator_permit"]] == [top]
    assert by_hotkey[favourite]["incentive"] == U16_MAX  # the top stake's row alone sets it
    assert all(by_hotkey[m.hotkey.ss58_address]["incentive"] == 0 for m in world.miners[1:])
    assert all(raw["consensus"] == 0 for raw in by_hotkey.values())
    paid = {hk: raw["dividends"] for hk, raw in by_hotkey.items() if raw["dividends"]}
    assert set(paid) == {hk for hk, s in stake.items() if s > 0}  # every staker, by stake


def test_bad_epoch_hyperparameters_are_refused_with_the_name_and_the_rule():
    chain = small_world().chain
    with pytest.raises(ValueError, match="liquid_alpha_on must be true or false"):
        chain.set_hyperparameter(1, "liquid_alpha_on", 1)
    with pytest.raises(ValueError, match="alpha_sigmoid_steepness is an i16"):
        chain.set_hyperparameter(1, "alpha_sigmoid_steepness", 40_000)
    with pytest.raises(ValueError, match=r"alpha_low \(60000\) exceed"):
        chain.set_hyperparameter(1, "alpha_low", 60_000)
    with pytest.raises(ValueError, match="unknown subnet parameter 'yuma4'"):
        chain.create_subnet(9, yuma4=True)


def test_a_scenario_subnet_runs_original_yuma_unless_it_asks_for_yuma3():
    base = {"subnets": [{"netuid": 1, "tempo": 10}, {"netuid": 2, "tempo": 10, "yuma3": True}]}
    world = World(Chain(), Scenario.model_validate(base)).build()
    assert world.chain.subnet(1).yuma3_on is False
    assert world.chain.subnet(2).yuma3_on is True


async def test_on_chain_an_explicit_zero_weight_keeps_a_decaying_bond_and_an_omitted_one_loses_it():
    world = small_world(block_time=0.25)
    chain = world.chain
    chain.set_hyperparameter(1, "liquid_alpha_on", True)
    sn = chain.subnet(1)
    m0, m1 = (sn.uids[w.hotkey.ss58_address] for w in world.miners[:2])
    v0, v1 = (w.hotkey.ss58_address for w in world.validators)
    before = {i: dict(sn.neurons[i].bonds) for i in (0, 1)}
    assert before[0][m1] > 0 and before[1][m1] > 0
    chain.set_weights(1, v0, [m0, m1], [65535, 0])  # m1 stored as an explicit 0
    chain.set_weights(1, v1, [m0], [65535])  # m1 omitted
    run_to_epoch(chain, 1)
    async with sim_client(chain) as client:
        rows = [dict(await client.query(bt.storage.SubtensorModule.Bonds, [1, v])) for v in (0, 1)]
    assert 0 < rows[0][m1] < before[0][m1]
    assert m1 not in rows[1]
