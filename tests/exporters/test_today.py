"""The exporter on today's chain: root TAO stake, the subnet switches, the emission gate and
the chain's pruning rule, through the SDK on an in-process simnet.

Expected values come from simnet's own state and rules (``simnet.economy``,
``Chain.register``), never from numbers written here.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from exporters.chain import ColdkeyWatch, WatchPlan
from exporters.economics import fold_chain_wide, is_null_consensus, subnet_rules
from simnet.economy import U64_MAX, EmissionSchedule, stake_weights
from simnet.emission_shares import BlockShares, SubnetInputs, block_shares
from simnet.records import ChainFailure
from simnet.state import RAO_PER_TAO, Chain
from simnet.subnets import legacy_rules
from simnet.testing import dev_wallet, small_world
from tests.support.exporters import make_poller

TAO = RAO_PER_TAO


def val(registry: CollectorRegistry, name: str, **labels: Any) -> float | None:
    return registry.get_sample_value(name, {k: str(v) for k, v in labels.items()})


def neuron_labels(chain: Chain, netuid: int, hotkey: str) -> dict[str, Any]:
    return {"netuid": netuid, "hotkey": hotkey, "uid": chain.subnet(netuid).uids[hotkey]}


async def test_a_hotkey_with_root_tao_shows_alpha_tao_and_the_weight_the_epoch_uses():
    world = small_world(validators=2, miners=3, tempo=10, max_uids=6)
    chain, netuid = world.chain, world.netuid
    chain.create_root(tao_weight=U64_MAX // 5)
    backer = world.miners[0].coldkey.ss58_address
    chain.fund(backer, 1_000 * TAO)
    hotkey = world.validators[0].hotkey.ss58_address
    chain.add_stake(backer, hotkey, 0, 500 * TAO)
    chain.step()
    poller, _, reg = make_poller(chain, WatchPlan(export_all=frozenset({netuid})))
    assert await poller.poll()
    lab = neuron_labels(chain, netuid, hotkey)
    alpha = chain.subnet(netuid).hotkey_alpha(hotkey) / TAO
    weight = stake_weights(chain.subnet(0), chain.subnet(netuid))[hotkey] / TAO
    assert val(reg, "bittensor_neuron_stake_alpha", **lab) == pytest.approx(alpha)
    assert val(reg, "bittensor_neuron_stake_tao", **lab) == pytest.approx(500)
    assert val(reg, "bittensor_neuron_stake_weight", **lab) == pytest.approx(weight, abs=1e-6)
    assert weight == pytest.approx(alpha + 500 / 5, rel=1e-6)
    other = world.validators[1].hotkey.ss58_address
    olab = neuron_labels(chain, netuid, other)
    assert val(reg, "bittensor_neuron_stake_tao", **olab) == 0
    assert val(reg, "bittensor_neuron_stake_weight", **olab) == pytest.approx(
        val(reg, "bittensor_neuron_stake_alpha", **olab)
    )


async def test_root_found_by_coldkey_discovery_has_no_incentive_eviction_or_emission_standing():
    world = small_world(validators=2, miners=3, tempo=10, max_uids=6)
    chain = world.chain
    chain.create_root()
    validator = world.validators[0]
    chain.register(0, validator.hotkey.ss58_address, validator.coldkey.ss58_address)
    chain.step()
    poller, _, reg = make_poller(
        chain, WatchPlan(coldkeys=(ColdkeyWatch(validator.coldkey.ss58_address),))
    )
    assert await poller.poll()
    assert set(poller.snapshot.subnets) == {0, world.netuid}
    on_root = neuron_labels(chain, 0, validator.hotkey.ss58_address)
    on_subnet = neuron_labels(chain, world.netuid, validator.hotkey.ss58_address)
    assert val(reg, "bittensor_neuron_registered", netuid=0, hotkey=on_root["hotkey"]) == 1
    assert val(reg, "bittensor_neuron_incentive", **on_root) is None
    assert val(reg, "bittensor_neuron_consensus", **on_root) is None
    assert val(reg, "bittensor_neuron_pruning_position", **on_root) is None
    assert val(reg, "bittensor_neuron_incentive", **on_subnet) is not None
    assert val(reg, "bittensor_subnet_is_root", netuid=0) == 1
    assert val(reg, "bittensor_subnet_is_root", netuid=world.netuid) == 0
    assert val(reg, "bittensor_subnet_emission_demand_share", netuid=0) is None
    assert val(reg, "bittensor_subnet_emission_demand_share", netuid=world.netuid) == 1


async def test_the_subnet_switches_are_the_chains_hyperparameters():
    world = small_world(validators=2, miners=3, tempo=10, max_uids=6)
    chain = world.chain
    owner = world.owner
    chain.create_subnet(
        2,
        tempo=10,
        owner_coldkey=owner.coldkey.ss58_address,
        owner_hotkey=owner.hotkey.ss58_address,
        null_consensus_enabled=True,
        liquid_alpha_on=True,
    )
    chain.step()
    plan = WatchPlan(export_all=frozenset({1, 2}), registration_cost_alert_tao=((2, 3.5),))
    poller, _, reg = make_poller(chain, plan)
    assert await poller.poll()
    # The operator's registration-cost threshold shows where set, and only there.
    assert val(reg, "bittensor_subnet_registration_cost_alert_tao", netuid=2) == 3.5
    assert val(reg, "bittensor_subnet_registration_cost_alert_tao", netuid=1) is None
    for netuid in (1, 2):
        sn = chain.subnet(netuid)
        assert val(reg, "bittensor_subnet_null_consensus", netuid=netuid) == float(
            sn.null_consensus_enabled
        )
        assert val(reg, "bittensor_subnet_commit_reveal_enabled", netuid=netuid) == float(
            sn.commit_reveal
        )
        assert val(reg, "bittensor_subnet_reveal_period_epochs", netuid=netuid) == float(
            sn.reveal_period_epochs
        )
        assert val(reg, "bittensor_subnet_yuma3_enabled", netuid=netuid) == float(sn.yuma3_on)
        assert val(reg, "bittensor_subnet_liquid_alpha_enabled", netuid=netuid) == float(
            sn.liquid_alpha_on
        )
        assert val(reg, "bittensor_subnet_min_burn_tao", netuid=netuid) == sn.min_burn_rao / TAO
        assert val(reg, "bittensor_subnet_max_burn_tao", netuid=netuid) == sn.max_burn_rao / TAO
        assert val(reg, "bittensor_subnet_registration_cost_tao", netuid=netuid) == (
            sn.burn_rao / TAO
        )
        assert val(reg, "bittensor_subnet_min_non_immune_uids", netuid=netuid) == float(
            sn.min_non_immune_uids
        )
    # The new subnet runs today's defaults, the small world the legacy rules.
    assert val(reg, "bittensor_subnet_null_consensus", netuid=2) == 1
    assert val(reg, "bittensor_subnet_commit_reveal_enabled", netuid=2) == 1
    assert val(reg, "bittensor_subnet_null_consensus", netuid=1) == 0


def gated_chain(subnets: int) -> Chain:
    chain = Chain(emission=EmissionSchedule(mode="ranked", price_ema_alpha=0.05))
    chain.create_root()
    owner = dev_wallet("Alice").coldkey.ss58_address
    chain.fund(owner, 1_000_000 * TAO)
    for netuid in range(1, subnets + 1):
        chain.create_subnet(
            netuid,
            tempo=10_000,
            owner_coldkey=owner,
            tao_in_rao=TAO * (1000 - 10 * netuid),
            alpha_in_rao=4000 * TAO,
        )
    chain.step()
    return chain


def chain_split(chain: Chain) -> BlockShares:
    """What simnet's coinbase (checked against subtensor's own tests) did at the head."""
    subnets = {
        n: SubnetInputs(sn.moving_price, sn.miner_burned, sn.emission_enabled)
        for n in chain.netuids
        if n != 0
        for sn in [chain.subnet(n)]
    }
    gate = chain.economy.gate_settings()
    return block_shares(subnets, block=1, stored_bar=chain.economy.gate_bar, settings=gate)


async def test_the_exporter_reads_the_chains_split_and_places_each_subnet_against_the_bar():
    chain = gated_chain(40)
    chain.economy.set_emission_enabled(3, False)
    chain.step()
    watched = frozenset({1, 3, 32, 40})
    poller, _, reg = make_poller(chain, WatchPlan(export_all=watched))
    assert await poller.poll()
    split = chain_split(chain)
    paid = {n: chain.subnet(n).tao_in_emission for n in chain.netuids if n != 0}
    assert val(reg, "bittensor_chain_emission_gate_bar") == pytest.approx(split.bar)
    assert val(reg, "bittensor_chain_emission_bar_rank") == 32
    assert val(reg, "bittensor_chain_emission_gate_exponent") == 3
    for n in watched:
        assert val(reg, "bittensor_subnet_tao_in_emission_tao", netuid=n) == paid[n] / TAO
        share = val(reg, "bittensor_subnet_emission_share", netuid=n)
        assert share == pytest.approx(paid[n] / sum(paid.values()))
        demand = val(reg, "bittensor_subnet_emission_demand_share", netuid=n)
        assert demand == pytest.approx(split.demand[n])
        gate = val(reg, "bittensor_subnet_emission_gate_weight", netuid=n)
        assert gate == pytest.approx(split.gate[n])
        ratio = val(reg, "bittensor_subnet_emission_bar_ratio", netuid=n)
        assert ratio == pytest.approx(split.demand[n] / split.bar)
    assert val(reg, "bittensor_subnet_emission_enabled", netuid=3) == 0
    assert val(reg, "bittensor_subnet_emission_share", netuid=3) == 0
    assert val(reg, "bittensor_subnet_emission_enabled", netuid=1) == 1
    assert val(reg, "bittensor_subnet_emission_bar_ratio", netuid=32) == pytest.approx(1)
    assert val(reg, "bittensor_subnet_emission_gate_weight", netuid=32) == pytest.approx(0.5)
    assert val(reg, "bittensor_subnet_emission_gate_weight", netuid=40) < 0.5


async def test_a_runtime_without_the_gate_items_leaves_their_series_absent_and_the_rest_stands():
    chain = gated_chain(3)
    poller, sub, reg = make_poller(chain, WatchPlan(export_all=frozenset({1})))
    real_query = sub.query

    async def no_gate(module, storage_function, *args, **kwargs):
        if storage_function.startswith("Emission"):  # a runtime from before spec 440
            raise KeyError(f"{storage_function} is not in this runtime's metadata")
        return await real_query(module, storage_function, *args, **kwargs)

    sub.query = no_gate
    assert await poller.poll()
    assert val(reg, "bittensor_chain_emission_gate_bar") is None
    assert val(reg, "bittensor_subnet_emission_gate_weight", netuid=1) is None
    assert val(reg, "bittensor_subnet_emission_share", netuid=1) is not None
    assert val(reg, "bittensor_subnet_emission_enabled", netuid=1) == 1


def crowded_subnet(rng: random.Random) -> tuple[Chain, int]:
    """A full subnet with random emissions, registration ages, immunity and floor, where some
    hotkeys belong to the owner's coldkey and ``ImmuneOwnerUidsLimit`` is random."""
    chain = Chain(seed=rng.randrange(1000))
    owner = dev_wallet("Alice")
    chain.fund(owner.coldkey.ss58_address, 1_000_000 * TAO)
    size = rng.randint(6, 16)
    netuid = 1
    rules = legacy_rules() | {
        "min_non_immune_uids": rng.choice((0, 2, 4, 10)),
        "immune_owner_uids_limit": rng.choice((0, 1, 2, 3)),
    }
    chain.create_subnet(
        netuid,
        tempo=50_000,  # no epoch overwrites the emissions set below
        max_uids=size,
        immunity_period=rng.randint(1, 30),
        owner_coldkey=owner.coldkey.ss58_address,
        owner_hotkey=owner.hotkey.ss58_address,
        **rules,
    )
    chain.register(netuid, owner.hotkey.ss58_address, owner.coldkey.ss58_address)
    for i in range(size - 1):
        w = dev_wallet(f"Crowd{i}")
        coldkey = owner.coldkey if rng.random() < 0.3 else w.coldkey
        chain.fund(coldkey.ss58_address, 100 * TAO)
        chain.register(netuid, w.hotkey.ss58_address, coldkey.ss58_address)
        chain.step(rng.choice((0, 1, 3)))
    sn = chain.subnet(netuid)
    for uid, nrn in enumerate(sn.neurons):
        sn.neurons[uid] = replace(nrn, emission=rng.choice((0, 0, 5, 9)) * 1000)
    chain.ledger.subnet_changed(netuid)
    chain.step(rng.randint(0, 25))
    return chain, netuid


@pytest.mark.parametrize("seed", range(16))
async def test_pruning_position_zero_is_the_neuron_the_next_registration_evicts(seed):
    rng = random.Random(seed)
    chain, netuid = crowded_subnet(rng)
    poller, _, reg = make_poller(chain, WatchPlan(export_all=frozenset({netuid})))
    assert await poller.poll()
    exported = {
        n.uid: val(
            reg, "bittensor_neuron_pruning_position", netuid=netuid, hotkey=n.hotkey, uid=n.uid
        )
        for n in chain.subnet(netuid).neurons
    }
    positions = {uid: pos for uid, pos in exported.items() if pos is not None}
    first = [uid for uid, pos in positions.items() if pos == 0]
    newcomer = dev_wallet(f"Newcomer{seed}")
    chain.fund(newcomer.coldkey.ss58_address, 100 * TAO)
    outcome: list[int | None] = []

    def register_in_the_next_block(chain: Chain, block: int) -> None:
        # Inside block head+1, where a registration submitted now would land.
        if outcome:
            return
        try:
            outcome.append(
                chain.register(netuid, newcomer.hotkey.ss58_address, newcomer.coldkey.ss58_address)
            )
        except ChainFailure:
            outcome.append(None)

    chain.on_block(register_in_the_next_block)
    chain.step()
    evicted = outcome[0]
    assert first == ([] if evicted is None else [evicted])
    assert sorted(positions.values()) == list(range(len(positions)))


def test_a_subnet_missing_from_the_switch_maps_holds_the_runtimes_defaults():
    wide = fold_chain_wide([], [(1, True)], [((2,), {"Null": None})], [(1, 4)])
    one, two = subnet_rules(1, {}, wide), subnet_rules(2, {}, wide)
    assert (one.yuma3, one.null_consensus, one.min_non_immune_uids) == (True, False, 4)
    assert (two.yuma3, two.null_consensus, two.min_non_immune_uids) == (False, True, 10)
    # Without the chain-wide reads the switches are unknown, not off.
    assert subnet_rules(1, {}, None).yuma3 is None


@pytest.mark.parametrize("decoded", ["Null", {"Null": None}, 1])
def test_null_consensus_reads_in_every_shape_the_sdk_decodes_it(decoded):
    assert is_null_consensus(decoded) and not is_null_consensus("Yuma")


def test_miner_burn_weighs_the_demand_share_and_an_all_burning_chain_falls_back_to_price():
    from exporters.emission_gate import GateState, standings

    prices = {1: 1.0, 2: 1.0}
    half = standings(prices, {}, {1: 0.5}, None, GateState(bar=0.5, exponent=3.0))
    assert half[1].demand_share == pytest.approx(1 / 3)
    assert half[2].demand_share == pytest.approx(2 / 3)
    everything = standings(prices, {}, {1: 1.0, 2: 1.0}, None, GateState())
    assert everything[1].demand_share == pytest.approx(0.5)
    assert everything[1].gate_weight is None and everything[1].share is None


async def test_a_childkey_assignment_moves_the_inherited_stake_but_not_the_own_stake():
    world = small_world(validators=2, miners=3, tempo=10_000, max_uids=6)
    chain, netuid, parent = world.chain, world.netuid, world.validators[0]
    child = world.validators[1].hotkey.ss58_address
    hk = parent.hotkey.ss58_address
    chain.governance.childkey_cooldown = 1
    poller, _, reg = make_poller(chain, WatchPlan(hotkeys=((netuid, hk),)))
    assert await poller.poll()
    lab = neuron_labels(chain, netuid, hk)
    own = chain.subnet(netuid).hotkey_alpha(hk) / TAO
    assert val(reg, "bittensor_neuron_stake_alpha", **lab) == pytest.approx(own)
    chain.governance.set_children(parent.coldkey.ss58_address, hk, netuid, [(U64_MAX // 2, child)])
    chain.step(2)
    assert await poller.poll()
    assert val(reg, "bittensor_neuron_stake_alpha_own", **lab) == pytest.approx(own)
    assert val(reg, "bittensor_neuron_stake_alpha", **lab) == pytest.approx(own / 2, rel=1e-6)
    kinds = [c.kind for c in poller.recent_changes() if c.hotkey == hk]
    assert "stake_moved_to_childkeys" in kinds and "stake_drop" not in kinds
