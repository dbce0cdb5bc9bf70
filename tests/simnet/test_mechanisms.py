"""Mechanisms (sub-subnets) through the unmodified SDK: count, split, weights and epoch."""

from __future__ import annotations

import bittensor as bt
import pytest

from simnet.mechanisms import storage_index, u16_split
from simnet.records import ChainFailure
from simnet.testing import dev_wallet, sim_client

API = bt.runtime_api.SubnetInfoRuntimeApi
ST = bt.storage.SubtensorModule
INCENTIVES, LAST_UPDATE = 62, 59  # SelectiveMetagraphIndex positions


@pytest.fixture
def two(world):
    """The small world running two mechanisms, split 70/30."""
    world.chain.set_mechanism_count(world.netuid, 2)
    world.chain.set_mechanism_split(world.netuid, u16_split([0.7, 0.3]))
    world.chain.step()
    return world


def run_epoch(chain, netuid: int) -> None:
    before = chain.subnet(netuid).epoch_index
    while chain.subnet(netuid).epoch_index == before:
        chain.step()


async def weigh(client, world, miner_uid_by_mechid: dict[int, int]) -> None:
    """Every validator puts all its weight on one miner per mechanism."""
    for mechid, uid in miner_uid_by_mechid.items():
        for validator in world.validators:
            result = await client.execute(
                bt.SetWeights(world.netuid, weights={uid: 1.0}, mechid=mechid), validator
            )
            assert result.success, result.message
        world.chain.step()


def miner_alpha(world, uid: int) -> int:
    nrn = world.chain.subnet(world.netuid).neurons[uid]
    return world.chain.stake_alpha(world.netuid, nrn.hotkey)


async def test_two_mechanisms_split_70_30_pay_miners_per_their_mechanisms_weights(two):
    chain, netuid = two.chain, two.netuid
    async with sim_client(chain) as client:
        await weigh(client, two, {0: 2, 1: 3})
        run_epoch(chain, netuid)  # the new weights count from here
        before = {uid: miner_alpha(two, uid) for uid in (2, 3)}
        run_epoch(chain, netuid)
        paid = {uid: miner_alpha(two, uid) - before[uid] for uid in (2, 3)}
        assert paid[2] > 0 and paid[3] > 0
        assert paid[2] / paid[3] == pytest.approx(0.7 / 0.3, rel=1e-4)
        assert await client.subnets.mechanism_count(netuid) == 2
        assert await client.subnets.mechanism_emission_split(netuid) == u16_split([0.7, 0.3])
        assert sum(u16_split([0.7, 0.3])) == 65535
        # Incentive is recorded per mechanism; the subnet's own is mechanism 0's.
        zero = await client.query(ST.Incentive, [netuid])
        one = await client.query(ST.Incentive, [storage_index(netuid, 1)])
        assert zero[2] == 65535 and zero[3] == 0
        assert one[3] == 65535 and one[2] == 0
        neurons = await client.neurons.all(netuid)
        assert neurons[2].raw["incentive"] == 65535 and neurons[3].raw["incentive"] == 0


async def test_the_split_event_changes_the_payout(two):
    chain, netuid = two.chain, two.netuid
    async with sim_client(chain) as client:
        await weigh(client, two, {0: 2, 1: 3})
        run_epoch(chain, netuid)
        chain.set_mechanism_split(netuid, u16_split([0.2, 0.8]))
        before = {uid: miner_alpha(two, uid) for uid in (2, 3)}
        run_epoch(chain, netuid)
    paid = {uid: miner_alpha(two, uid) - before[uid] for uid in (2, 3)}
    assert paid[2] / paid[3] == pytest.approx(0.2 / 0.8, rel=1e-4)


async def test_reads_carry_the_mechid(two):
    chain, netuid = two.chain, two.netuid
    async with sim_client(chain) as client:
        await weigh(client, two, {0: 2, 1: 3})
        run_epoch(chain, netuid)
        snap = await client.at()
        graph = await snap.runtime(API.get_mechagraph, [netuid, 1])
        assert graph["netuid"] == storage_index(netuid, 1)  # the SDK's mechid: netuid // 4096
        assert graph["netuid"] // 4096 == 1
        assert graph["incentives"][3] == 65535 and graph["incentives"][2] == 0
        picked = await snap.runtime(
            API.get_selective_mechagraph, [netuid, 1, [INCENTIVES, LAST_UPDATE]]
        )
        assert picked["netuid"] == netuid
        assert picked["incentives"] == graph["incentives"]
        assert picked["last_update"] == graph["last_update"]
        assert picked["hotkeys"] is None  # not asked for
        assert await snap.runtime(API.get_mechagraph, [netuid, 2]) is None
        missing = await snap.runtime(
            API.get_selective_mechagraph, [netuid, 2, [INCENTIVES, LAST_UPDATE]]
        )
        assert missing["incentives"] == [] and missing["last_update"] == []
        every = await snap.runtime(API.get_all_mechagraphs, [])
        assert [g["netuid"] for g in every] == [netuid, storage_index(netuid, 1)]
        mg = await snap.subnets.metagraph(netuid, commitments=False)
        assert mg.mechid == 0
        assert [n.incentive for n in mg.neurons][2] == 1.0


async def test_weights_on_mechid_1_move_only_that_mechanisms_last_update(two):
    chain, netuid, validator = two.chain, two.netuid, two.validators[0]
    uid = chain.subnet(netuid).uids[validator.hotkey.ss58_address]
    index = storage_index(netuid, 1)
    async with sim_client(chain) as client:
        zero_before = await client.query(ST.LastUpdate, [netuid])
        row_before = await client.query(ST.Weights, [netuid, uid])
        result = await client.execute(bt.SetWeights(netuid, weights={4: 1.0}, mechid=1), validator)
        assert result.success, result.message
        block = int(result.extrinsic_id.split("-")[0])
        assert (await client.query(ST.LastUpdate, [index]))[uid] == block
        assert await client.query(ST.LastUpdate, [netuid]) == zero_before
        assert await client.query(ST.Weights, [index, uid]) == [[4, 65535]]
        assert await client.query(ST.Weights, [netuid, uid]) == row_before
        assert (await client.weights.weights(netuid, mechid=1))[uid] == {4: 1.0}
        assert 4 not in (await client.weights.weights(netuid)).get(uid, {})
        events = await client.query(bt.storage.System.Events, block=block)
        assert ("SubtensorModule", "WeightsSet", [index, uid]) in [
            (e["module_id"], e["event_id"], e["attributes"]) for e in events
        ]


async def test_a_mechid_out_of_range_fails_with_the_runtimes_error_name(two, world):
    validator = two.validators[0]
    async with sim_client(two.chain) as client:
        call = bt.calls.SubtensorModule.set_mechanism_weights(
            netuid=two.netuid, mecid=2, dests=[2], weights=[65535], version_key=0
        )
        result = await client.submit_call(call, validator, signer="hotkey")
        assert not result.success and result.error.name == "MechanismDoesNotExist"
        result = await client.execute(
            bt.SetWeights(two.netuid, weights={2: 1.0}, mechid=5), validator
        )
        assert not result.success and result.error.name == "MechanismDoesNotExist"


async def test_a_single_mechanism_subnet_reads_as_before(world):
    async with sim_client(world.chain) as client:
        assert await client.subnets.mechanism_count(world.netuid) == 1
        assert await client.subnets.mechanism_emission_split(world.netuid) == []
        assert await client.query(ST.LastUpdate, [storage_index(world.netuid, 1)]) == []
        result = await client.execute(
            bt.SetWeights(world.netuid, weights={2: 1.0}, mechid=1), world.validators[0]
        )
        assert not result.success and result.error.name == "MechanismDoesNotExist"


async def test_the_owner_sets_the_count_through_the_sdk_and_a_stranger_cannot(world):
    chain, netuid = world.chain, world.netuid
    stranger = dev_wallet("Stranger")
    chain.fund(stranger.coldkey.ss58_address, 10 * 10**9)
    async with sim_client(chain) as client:
        refused = await client.execute(bt.SetMechanismCount(netuid, 2), stranger)
        assert not refused.success and refused.error.name == "BadOrigin"
        done = await client.execute(bt.SetMechanismCount(netuid, 2), world.owner)
        assert done.success, done.message
        assert await client.subnets.mechanism_count(netuid) == 2
        too_many = await client.execute(bt.SetMechanismCount(netuid, 17), world.owner)
        assert not too_many.success and too_many.error.name == "InvalidValue"


def test_the_setters_check_what_the_runtime_checks(world):
    chain, netuid = world.chain, world.netuid
    chain.set_hyperparameter(netuid, "max_uids", 128)
    with pytest.raises(ChainFailure) as failure:
        chain.set_mechanism_count(netuid, 3)  # 128 x 3 > 256
    assert failure.value.name == "TooManyUIDsPerMechanism"
    chain.set_mechanism_count(netuid, 2)
    for bad in ([65535], [30000, 30000], [65535, 0, 0]):
        with pytest.raises(ChainFailure) as failure:
            chain.set_mechanism_split(netuid, bad)
        assert failure.value.name == "InvalidValue"
    chain.set_mechanism_split(netuid, [65535, 0])
    assert chain.subnet(netuid).mechanism_split == (65535, 0)
    with pytest.raises(ChainFailure) as failure:
        chain.set_hyperparameter(netuid, "max_uids", 200)  # 200 x 2 > 256
    assert failure.value.name == "TooManyUIDsPerMechanism"


async def test_lowering_the_count_drops_the_removed_mechanism_and_resets_the_split(two):
    chain, netuid, validator = two.chain, two.netuid, two.validators[0]
    async with sim_client(chain) as client:
        result = await client.execute(bt.SetWeights(netuid, weights={4: 1.0}, mechid=1), validator)
        assert result.success, result.message
        chain.set_mechanism_count(netuid, 1)
        chain.step()
        assert await client.subnets.mechanism_emission_split(netuid) == []
        chain.set_mechanism_count(netuid, 2)
        chain.step()
        uid = chain.subnet(netuid).uids[validator.hotkey.ss58_address]
        assert await client.query(ST.Weights, [storage_index(netuid, 1), uid]) == []


async def test_timelocked_weights_on_mechid_1_reveal_into_that_mechanism_only(two, monkeypatch):
    import bittensor_core

    chain, netuid, validator = two.chain, two.netuid, two.validators[0]
    chain.set_hyperparameter(netuid, "commit_reveal", True)
    chain.step()
    real = bittensor_core.get_encrypted_commit_v2
    monkeypatch.setattr(bittensor_core, "get_encrypted_commit_v2", chain.timelock_escrow.wrap(real))
    uid = chain.subnet(netuid).uids[validator.hotkey.ss58_address]
    index = storage_index(netuid, 1)
    async with sim_client(chain) as client:
        zero_row = await client.query(ST.Weights, [netuid, uid])
        result = await client.execute(bt.SetWeights(netuid, weights={4: 1.0}, mechid=1), validator)
        assert result.success, result.message
        commit_block = chain.head
        call = chain.record().receipts[-1].extrinsic.call
        assert call.function == "commit_timelocked_mechanism_weights"
        assert call.params["mecid"] == 1
        assert await client.weights.timelocked_weight_commits(netuid, mechid=1)
        assert not await client.weights.timelocked_weight_commits(netuid)
        assert (await client.query(ST.LastUpdate, [index]))[uid] == commit_block
        run_epoch(chain, netuid)
        chain.step()
        assert await client.query(ST.Weights, [index, uid]) == [[4, 65535]]
        assert await client.query(ST.Weights, [netuid, uid]) == zero_row


SCENARIO = """
subnets:
  - netuid: 1
    tempo: 10
    max_uids: 8
    weights_rate_limit: 2
    mechanisms: 2
    mechanism_split: [0.7, 0.3]
    neurons:
      - {name: v1, role: validator, stake_tao: 100, every: 3}
      - {name: m1, role: miner, quality: 0.9}
      - {name: m2, role: miner, quality: 0.1}
events:
  - {at: 30, mechanism_split: {netuid: 1, split: [0.5, 0.5]}}
"""


def test_a_scenario_runs_its_mechanisms_and_the_split_event_changes_the_split(tmp_path):
    from simnet.scenario import World, load_scenario
    from simnet.state import Chain

    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO)
    chain = Chain(block_time=1)
    world = World(chain, load_scenario(path)).build()
    sn = chain.subnet(1)
    assert sn.mechanism_count == 2 and sn.mechanism_split == tuple(u16_split([0.7, 0.3]))
    chain.step(29)
    sn = chain.subnet(1)
    v1 = sn.neurons[sn.uids[world.hotkey("v1")]]
    # The simulated validator weighs on every mechanism.
    assert v1.weights and v1.mechanisms[0].weights == v1.weights
    m1 = sn.neurons[sn.uids[world.hotkey("m1")]]
    assert m1.incentive > 0 and m1.mechanisms[0].incentive > 0
    chain.step(1)
    assert chain.subnet(1).mechanism_split == (32768, 32767)
    assert world.log[-1][1] == "mechanism split on 1: 45875/19660 -> 32768/32767"


@pytest.mark.parametrize(
    ("subnet", "events", "expected"),
    [
        (
            "{netuid: 1, max_uids: 8, mechanisms: 2, mechanism_split: [1.0]}",
            "",
            "mechanism_split: 1 shares for 2 mechanism(s)",
        ),
        (
            "{netuid: 1, max_uids: 8, mechanisms: 2, mechanism_split: [0.5, 0.6]}",
            "",
            "they must sum to 1",
        ),
        ("{netuid: 1, mechanisms: 2}", "", "lower max_uids to 128 or fewer"),
        ("{netuid: 1, max_uids: 8, mechanisms: 9}", "", "subnets[0].mechanisms"),
        (
            "{netuid: 1, max_uids: 8, mechanisms: 2}",
            "events: [{at: 5, mechanism_split: {netuid: 1, split: [1.0]}}]",
            "events[0].mechanism_split: 1 shares for 2 mechanism(s)",
        ),
    ],
)
def test_a_malformed_mechanism_entry_names_the_field(tmp_path, subnet, events, expected):
    from common.config import ConfigError
    from simnet.scenario import load_scenario

    path = tmp_path / "scenario.yaml"
    path.write_text(f"subnets: [{subnet}]\n{events}\n")
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    assert expected in str(err.value)


async def test_a_metadata_commitment_wipes_the_bonds_on_it_in_every_mechanism(two):
    chain, netuid = two.chain, two.netuid
    miner = two.miners[1]
    uid = chain.subnet(netuid).uids[miner.hotkey.ss58_address]
    async with sim_client(chain) as client:
        await weigh(client, two, {1: uid})
        run_epoch(chain, netuid)
        run_epoch(chain, netuid)
        index = storage_index(netuid, 1)
        held = [await client.query(ST.Bonds, [index, v]) for v in (0, 1)]
        assert all(uid in [j for j, _ in row] for row in held)
        chain.set_hyperparameter(netuid, "bonds_reset_enabled", True)
        chain.fund(miner.hotkey.ss58_address, 10**9)
        call = bt.calls.Commitments.set_commitment(
            netuid=netuid, info={"fields": [[{"Raw4": b"v2.0"}]]}
        )
        result = await client.submit_call(call, miner, signer="hotkey")
        assert result.success, result.message
        for mechid in (0, 1):
            at = storage_index(netuid, mechid)
            for v in (0, 1):
                assert uid not in [j for j, _ in await client.query(ST.Bonds, [at, v])]


async def test_a_served_simnet_answers_the_mechanism_reads_and_writes_over_the_wire(
    two, aiohttp_server
):
    from common.chain import make_client
    from simnet.server import SimnetServer
    from simnet.substrate import SimSubstrate

    chain, netuid, validator = two.chain, two.netuid, two.validators[0]
    server = await aiohttp_server(SimnetServer(SimSubstrate(chain)).app())
    async with make_client(f"sim://127.0.0.1:{server.port}") as client:
        assert await client.subnets.mechanism_count(netuid) == 2
        assert await client.subnets.mechanism_emission_split(netuid) == u16_split([0.7, 0.3])
        result = await client.execute(bt.SetWeights(netuid, weights={4: 1.0}, mechid=1), validator)
        assert result.success, result.message
        uid = chain.subnet(netuid).uids[validator.hotkey.ss58_address]
        assert (await client.weights.weights(netuid, mechid=1))[uid] == {4: 1.0}
        snap = await client.at()
        graph = await snap.runtime(API.get_mechagraph, [netuid, 1])
        assert graph["netuid"] == storage_index(netuid, 1)
