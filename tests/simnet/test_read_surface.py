"""The 2026 read surface of a spec-438 node, read through the unmodified SDK."""

from __future__ import annotations

import bittensor as bt
import pytest

from simnet.substrate import SimSubstrate
from simnet.testing import dev_keypair, sim_client
from simnet.views import SELECTIVE_FIELDS, V1_NAMES

API = bt.runtime_api.SubnetInfoRuntimeApi


async def test_the_node_reports_a_current_spec_version(world):
    assert await SimSubstrate(world.chain).spec_version() >= 438


async def test_v3_hyperparameters_carry_the_full_name_set(world):
    async with sim_client(world.chain) as client:
        params = await client.read("subnet_hyperparameters", netuid=world.netuid)
    for name in ("rho", "difficulty", "min_difficulty", "max_difficulty", "adjustment_interval",
                 "adjustment_alpha", "target_regs_per_interval", "commit_reveal_period",
                 "alpha_high", "alpha_low", "activity_cutoff_factor", "yuma_version"):  # fmt: skip
        assert name in params, name
    assert params["tempo"] == 10 and params["alpha_low"] < params["alpha_high"]
    assert params["alpha_sigmoid_steepness"] == 1000


async def test_v1_hyperparameters_answer_the_fixed_struct(world):
    async with sim_client(world.chain) as client:
        params = await client.runtime(API.get_subnet_hyperparams, [world.netuid])
        missing = await client.runtime(API.get_subnet_hyperparams, [99])
    assert tuple(params) == V1_NAMES and params["kappa"] == 32_767
    assert missing is None


async def test_dynamic_info_describes_one_subnet_and_all_of_them(world):
    async with sim_client(world.chain) as client:
        one = await client.runtime(API.get_dynamic_info, [world.netuid])
        every = await client.runtime(API.get_all_dynamic_info, [])
    assert one["netuid"] == world.netuid and one["tao_in"] > 0
    assert one["moving_price"]["bits"] / 2**32 == pytest.approx(0.25)
    assert [d["netuid"] for d in every] == world.chain.netuids


async def test_subnet_info_reports_size_and_owner(world):
    async with sim_client(world.chain) as client:
        info = await client.runtime(API.get_subnet_info, [world.netuid])
    assert info["subnetwork_n"] == world.chain.subnet(world.netuid).n
    assert info["owner"] == world.owner.coldkey.ss58_address


async def test_selective_metagraph_fills_only_the_asked_fields(world):
    wanted = [SELECTIVE_FIELDS.index("hotkeys"), SELECTIVE_FIELDS.index("validators")]
    async with sim_client(world.chain) as client:
        graph = await client.runtime(API.get_selective_metagraph, [world.netuid, wanted])
        full = await client.read("metagraph", netuid=world.netuid)
    assert graph["netuid"] == world.netuid and graph["hotkeys"] == full["hotkeys"]
    assert graph["validators"] == [i for i, p in enumerate(full["validator_permit"]) if p]
    assert graph["tempo"] is None and graph["emission"] is None


async def test_the_account_nonce_api_counts_included_extrinsics(world):
    sender = world.validators[0]
    async with sim_client(world.chain) as client:
        before = await client.runtime(
            bt.runtime_api.AccountNonceApi.account_nonce, [sender.coldkey.ss58_address]
        )
        await client.execute(bt.Transfer(dev_keypair("Nobody").ss58_address, 1.0), sender)
        after = await client.runtime(
            bt.runtime_api.AccountNonceApi.account_nonce, [sender.coldkey.ss58_address]
        )
    assert after == before + 1


async def test_a_stake_read_with_no_stake_returns_a_zero_record(world):
    call = bt.runtime_api.StakeInfoRuntimeApi.get_stake_info_for_hotkey_coldkey_netuid
    hotkey = world.validators[0].hotkey.ss58_address
    async with sim_client(world.chain) as client:
        record = await client.runtime(
            call, [hotkey, dev_keypair("Nobody").ss58_address, world.netuid]
        )
    assert record["stake"] == 0 and record["is_registered"]


async def test_the_metagraph_carries_collateral_and_the_stake_columns(world):
    async with sim_client(world.chain) as client:
        mg = await client.subnets.metagraph(world.netuid)
    assert all(n.collateral_locked is not None and n.collateral_locked.rao == 0 for n in mg.neurons)
    assert all(n.total_stake.rao == n.alpha_stake.rao for n in mg.neurons)


async def test_the_epoch_consensus_and_yuma3_switches_read_as_the_runtime_stores_them(world):
    chain = world.chain
    chain.set_hyperparameter(world.netuid, "null_consensus_enabled", True)
    chain.step()
    storage = bt.storage.SubtensorModule
    async with sim_client(chain) as client:
        consensus = dict(await client.query_map(storage.SubnetEpochConsensus))
        yuma3 = dict(await client.query_map(storage.Yuma3On))
    assert consensus[world.netuid] == "Null"
    assert yuma3[world.netuid] == chain.subnet(world.netuid).yuma3_on
