"""Chain events through the exporter: simnet changed in process, read through the SDK.

Each event kind shows in the metrics with the labels its alert needs and the old and new
values; a poll with nothing changed shows nothing new; the counts survive a restart.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from exporters.chain import ChainPoller, ColdkeyWatch, WatchPlan
from simnet.governance import coldkey_hash
from simnet.state import RAO_PER_TAO, Chain
from simnet.substrate import SimSubstrate
from simnet.testing import dev_wallet, small_world
from tests.support.exporters import event_poller

U16 = 65535


def val(registry: CollectorRegistry, metric: str, /, **labels: Any) -> float | None:
    return registry.get_sample_value(metric, {k: str(v) for k, v in labels.items()})


@pytest.fixture
def world():
    w = small_world(validators=2, miners=3, tempo=10, max_uids=5)
    w.chain.governance.swap_delay = 5
    w.chain.governance.childkey_cooldown = 3
    return w


def plan_for(world) -> WatchPlan:
    validator = world.validators[0]
    return WatchPlan(
        hotkeys=((world.netuid, validator.hotkey.ss58_address),),
        coldkeys=(ColdkeyWatch(validator.coldkey.ss58_address, (world.netuid,)),),
    )


async def poll(poller: ChainPoller, chain: Chain, blocks: int = 1) -> None:
    chain.step(blocks)
    assert await poller.poll()


async def test_a_quiet_chain_shows_every_counter_at_zero_and_no_previous_values(world):
    poller, _, reg = event_poller(world.chain, plan_for(world))
    ck = world.validators[0].coldkey.ss58_address
    hk = world.validators[0].hotkey.ss58_address
    for _ in range(4):
        await poll(poller, world.chain)
    for action in ("announced", "disputed", "reset", "executed"):
        assert val(reg, "bittensor_coldkey_swap_events_total", coldkey=ck, action=action) == 0
    assert val(reg, "bittensor_delegate_take_changes_total", hotkey=hk) == 0
    assert val(reg, "bittensor_delegate_take_previous_ratio", hotkey=hk) is None
    for stage in ("pending", "applied"):
        labels = {"netuid": world.netuid, "hotkey": hk, "stage": stage}
        assert val(reg, "bittensor_childkey_changes_total", **labels) == 0
    labels = {"netuid": world.netuid, "name": "immunity_period"}
    assert val(reg, "bittensor_subnet_hyperparameter_changes_total", **labels) == 0
    assert val(reg, "bittensor_subnet_hyperparameter_previous_value", **labels) is None
    assert val(reg, "bittensor_subnet_registrations_total", netuid=world.netuid) == 0
    assert val(reg, "bittensor_subnet_deregistrations_total", netuid=world.netuid) == 0
    assert [c for c in poller.recent_changes() if c.kind != "stake_drop"] == []


async def test_a_coldkey_swap_is_counted_announced_disputed_reset_then_announced_and_executed(
    world,
):
    chain = world.chain
    poller, _, reg = event_poller(chain, plan_for(world))
    ck = world.validators[0].coldkey.ss58_address
    hk = world.validators[0].hotkey.ss58_address
    new = dev_wallet("Eve").coldkey.ss58_address
    await poll(poller, chain)

    def count(action: str) -> float | None:
        return val(reg, "bittensor_coldkey_swap_events_total", coldkey=ck, action=action)

    execute_at = chain.governance.announce_coldkey_swap(ck, coldkey_hash(new))
    await poll(poller, chain)
    assert count("announced") == 1
    assert (
        val(
            reg,
            "bittensor_coldkey_swap_execution_block",
            coldkey=ck,
            new_coldkey_hash=coldkey_hash(new),
        )
        == execute_at
    )
    chain.governance.dispute_coldkey_swap(ck)
    await poll(poller, chain)
    assert (count("disputed"), val(reg, "bittensor_coldkey_swap_disputed", coldkey=ck)) == (1, 1)
    chain.governance.reset_coldkey_swap(ck)
    await poll(poller, chain)
    assert (count("reset"), count("executed")) == (1, 0)
    assert val(reg, "bittensor_coldkey_swap_disputed", coldkey=ck) == 0

    execute_at = chain.governance.announce_coldkey_swap(ck, coldkey_hash(new))
    await poll(poller, chain)
    chain.step(execute_at - chain.head)
    chain.governance.swap_coldkey_announced(ck, new)
    await poll(poller, chain)
    assert (count("announced"), count("executed"), count("reset")) == (2, 1, 1)
    assert val(reg, "bittensor_coldkey_swap_new_coldkey_info", coldkey=ck, new_coldkey=new) == 1
    assert chain.owner_of(hk) == new
    kinds = [c.kind for c in poller.recent_changes() if c.kind.startswith("coldkey_swap")]
    assert kinds == [
        "coldkey_swap_announced",
        "coldkey_swap_disputed",
        "coldkey_swap_reset",
        "coldkey_swap_announced",
        "coldkey_swap_executed",
    ]


async def test_a_disputed_swap_root_executes_is_counted_executed_with_its_new_coldkey(world):
    chain = world.chain
    poller, _, reg = event_poller(chain, plan_for(world))
    ck = world.validators[0].coldkey.ss58_address
    new = dev_wallet("Ferdie").coldkey.ss58_address
    await poll(poller, chain)
    chain.governance.announce_coldkey_swap(ck, coldkey_hash(new))
    chain.governance.dispute_coldkey_swap(ck)
    await poll(poller, chain)
    # Root's swap_coldkey executes the disputed swap and clears both storage items: the
    # announcement is gone, as after a reset, but ColdkeySuccessor names the new coldkey.
    chain.governance.swap_coldkey(ck, new)
    await poll(poller, chain)

    def count(action: str) -> float | None:
        return val(reg, "bittensor_coldkey_swap_events_total", coldkey=ck, action=action)

    assert (count("executed"), count("reset")) == (1, 0)
    assert val(reg, "bittensor_coldkey_swap_new_coldkey_info", coldkey=ck, new_coldkey=new) == 1


async def test_a_coldkey_with_no_watched_hotkey_still_tells_an_execution_from_a_reset(world):
    chain = world.chain
    lone = dev_wallet("Lonely").coldkey.ss58_address
    chain.fund(lone, 10 * 10**9)
    plan = WatchPlan(coldkeys=(ColdkeyWatch(lone, (world.netuid,)),))
    poller, _, reg = event_poller(chain, plan)
    new = dev_wallet("Ferdie").coldkey.ss58_address
    await poll(poller, chain)
    execute_at = chain.governance.announce_coldkey_swap(lone, coldkey_hash(new))
    await poll(poller, chain)
    chain.step(execute_at - chain.head)
    chain.governance.swap_coldkey_announced(lone, new)
    await poll(poller, chain)
    executed = val(reg, "bittensor_coldkey_swap_events_total", coldkey=lone, action="executed")
    reset = val(reg, "bittensor_coldkey_swap_events_total", coldkey=lone, action="reset")
    assert (executed, reset) == (1, 0)


async def test_a_take_change_shows_the_old_and_the_new_take(world):
    chain = world.chain
    v = world.validators[0]
    hk = v.hotkey.ss58_address
    poller, _, reg = event_poller(chain, plan_for(world))
    await poll(poller, chain)
    before = chain.governance.take(hk)
    chain.governance.change_take(v.coldkey.ss58_address, hk, before // 2, increase=False)
    await poll(poller, chain)
    assert val(reg, "bittensor_delegate_take_changes_total", hotkey=hk) == 1
    assert val(reg, "bittensor_delegate_take_previous_ratio", hotkey=hk) == before / U16
    assert val(reg, "bittensor_delegate_take_ratio", hotkey=hk) == (before // 2) / U16
    [change] = [c for c in poller.recent_changes() if c.kind == "take_changed"]
    assert change.hotkey == hk and "->" in change.detail


async def test_childkeys_count_once_when_proposed_and_once_when_applied(world):
    chain, netuid = world.chain, world.netuid
    v = world.validators[0]
    hk, child = v.hotkey.ss58_address, world.validators[1].hotkey.ss58_address
    poller, _, reg = event_poller(chain, plan_for(world))
    await poll(poller, chain)
    half = (2**64 - 1) // 2
    apply_at = chain.governance.set_children(v.coldkey.ss58_address, hk, netuid, [(half, child)])

    def changes(stage: str) -> float | None:
        return val(reg, "bittensor_childkey_changes_total", netuid=netuid, hotkey=hk, stage=stage)

    await poll(poller, chain)
    assert (changes("pending"), changes("applied")) == (1, 0)
    assert val(reg, "bittensor_childkey_pending_apply_block", netuid=netuid, hotkey=hk) == apply_at
    pending = {"netuid": netuid, "hotkey": hk, "child": child, "stage": "pending"}
    assert val(reg, "bittensor_childkey_proportion", **pending) == pytest.approx(0.5)
    await poll(poller, chain, apply_at - chain.head)
    assert (changes("pending"), changes("applied")) == (1, 1)
    applied = pending | {"stage": "applied"}
    assert val(reg, "bittensor_childkey_proportion", **applied) == pytest.approx(0.5)
    assert val(reg, "bittensor_childkey_pending_apply_block", netuid=netuid, hotkey=hk) is None
    await poll(poller, chain, 3)
    assert (changes("pending"), changes("applied")) == (1, 1)


async def test_a_hyperparameter_change_shows_its_name_and_old_and_new_value(world):
    chain, netuid = world.chain, world.netuid
    poller, _, reg = event_poller(chain, plan_for(world))
    await poll(poller, chain)
    old = chain.subnet(netuid).immunity_period
    chain.set_hyperparameter(netuid, "immunity_period", old + 7)
    await poll(poller, chain)
    labels = {"netuid": netuid, "name": "immunity_period"}
    assert val(reg, "bittensor_subnet_hyperparameter_changes_total", **labels) == 1
    assert val(reg, "bittensor_subnet_hyperparameter_previous_value", **labels) == old
    assert val(reg, "bittensor_subnet_hyperparameter_changed_value", **labels) == old + 7
    other = {"netuid": netuid, "name": "tempo"}
    assert val(reg, "bittensor_subnet_hyperparameter_changes_total", **other) == 0
    [change] = [c for c in poller.recent_changes() if c.kind == "hyperparameter_changed"]
    assert change.detail == f"immunity_period {old} -> {old + 7}"


# (storage name, how simnet changes it, old value, new value as exported)
STORAGE_SWITCHES = [
    ("BondsResetOn", lambda c, n: c.set_hyperparameter(n, "bonds_reset_enabled", True), 0, 1),
    ("Yuma3On", lambda c, n: c.set_hyperparameter(n, "yuma3_on", False), 1, 0),
    (
        "SubnetEpochConsensus",
        lambda c, n: c.set_hyperparameter(n, "null_consensus_enabled", True),
        0,
        1,
    ),
    ("SubnetEmissionEnabled", lambda c, n: c.economy.set_emission_enabled(n, False), 1, 0),
    (
        "AlphaSigmoidSteepness",
        lambda c, n: c.set_hyperparameter(n, "alpha_sigmoid_steepness", 500),
        1000,
        500,
    ),
    ("BurnHalfLife", lambda c, n: c.set_hyperparameter(n, "burn_half_life", 720), 360, 720),
    (
        "ImmuneOwnerUidsLimit",
        lambda c, n: c.set_hyperparameter(n, "immune_owner_uids_limit", 3),
        1,
        3,
    ),
]


@pytest.mark.parametrize("case", STORAGE_SWITCHES, ids=[c[0] for c in STORAGE_SWITCHES])
async def test_a_storage_only_switch_is_a_gauge_and_its_change_a_setting_change(world, case):
    name, change, old, new = case
    chain, netuid = world.chain, world.netuid
    poller, _, reg = event_poller(chain, plan_for(world))
    await poll(poller, chain)
    labels = {"netuid": netuid, "name": name}
    assert val(reg, "bittensor_subnet_setting", **labels) == old
    change(chain, netuid)
    await poll(poller, chain)
    assert val(reg, "bittensor_subnet_setting", **labels) == new
    assert val(reg, "bittensor_subnet_hyperparameter_changes_total", **labels) == 1
    assert val(reg, "bittensor_subnet_hyperparameter_previous_value", **labels) == old
    assert val(reg, "bittensor_subnet_hyperparameter_changed_value", **labels) == new
    [seen] = [c for c in poller.recent_changes() if c.kind == "hyperparameter_changed"]
    assert seen.detail == f"{name} {old} -> {new}"


async def test_a_registration_on_a_full_subnet_counts_churn_and_keeps_the_pruned_emission(world):
    chain, netuid = world.chain, world.netuid
    poller, _, reg = event_poller(chain, plan_for(world))
    await poll(poller, chain)
    victim_uid = chain.neuron_to_evict(netuid)
    assert victim_uid is not None
    victim = chain.subnet(netuid).neurons[victim_uid]
    newcomer = dev_wallet("Newcomer")
    chain.fund(newcomer.coldkey.ss58_address, 100 * RAO_PER_TAO)
    chain.register(netuid, newcomer.hotkey.ss58_address, newcomer.coldkey.ss58_address)
    await poll(poller, chain)
    assert val(reg, "bittensor_subnet_registrations_total", netuid=netuid) == 1
    assert val(reg, "bittensor_subnet_deregistrations_total", netuid=netuid) == 1
    emission = val(reg, "bittensor_subnet_last_deregistered_emission_alpha", netuid=netuid)
    assert emission == victim.emission / 1e9
    [pruned] = [c for c in poller.recent_changes() if c.kind == "pruned"]
    assert pruned.hotkey == victim.hotkey


async def test_served_axons_are_counted_per_subnet(world):
    chain, netuid = world.chain, world.netuid
    poller, _, reg = event_poller(chain, plan_for(world))
    await poll(poller, chain)
    before = val(reg, "bittensor_subnet_axons_served", netuid=netuid)
    ip = int(ipaddress.IPv4Address("10.1.2.3"))
    chain.serve_axon(netuid, world.miners[0].hotkey.ss58_address, ip, 8091)
    await poll(poller, chain)
    assert val(reg, "bittensor_subnet_axons_served", netuid=netuid) == before + 1


async def test_event_counts_survive_an_agent_restart_and_are_not_counted_again(world, tmp_path):
    chain, netuid = world.chain, world.netuid
    state = tmp_path / "state.json"
    v = world.validators[0]
    ck, hk = v.coldkey.ss58_address, v.hotkey.ss58_address
    poller, _, _ = event_poller(chain, plan_for(world), state)
    await poll(poller, chain)
    chain.governance.announce_coldkey_swap(ck, coldkey_hash(dev_wallet("Eve").coldkey.ss58_address))
    chain.set_hyperparameter(netuid, "immunity_period", chain.subnet(netuid).immunity_period + 1)
    await poll(poller, chain)
    await poller.close()

    again, _, reg = event_poller(chain, plan_for(world), state)
    # A take change while the agent was down is a diff against the saved take.
    before = chain.governance.take(hk)
    chain.governance.change_take(ck, hk, before - 100, increase=False)
    await poll(again, chain)
    assert val(reg, "bittensor_coldkey_swap_events_total", coldkey=ck, action="announced") == 1
    labels = {"netuid": netuid, "name": "immunity_period"}
    assert val(reg, "bittensor_subnet_hyperparameter_changes_total", **labels) == 1
    assert val(reg, "bittensor_delegate_take_changes_total", hotkey=hk) == 1
    assert val(reg, "bittensor_delegate_take_previous_ratio", hotkey=hk) == before / U16
    await again.close()


async def test_events_cost_six_batched_reads_per_poll_whatever_the_number_of_keys(world):
    chain = world.chain
    poller, sub, _ = event_poller(chain, plan_for(world))
    await poll(poller, chain)
    sub.calls.clear()
    await poll(poller, chain)
    # announcements, disputes, ColdkeySuccessor; take; children, pending children
    assert sub.calls["query_batch"] == 6
    assert sub.calls["events"] == 0


async def test_another_chain_behind_the_endpoint_counts_no_event_and_keeps_the_counters(world):
    chain = world.chain
    v = world.validators[0]
    ck, hk = v.coldkey.ss58_address, v.hotkey.ss58_address
    poller, sub, reg = event_poller(chain, plan_for(world))
    await poll(poller, chain)
    # Same keys on another chain, ahead in height, where the coldkey announced a swap and
    # the take is lower: none of it happened on the watched chain.
    other = small_world(validators=2, miners=3, tempo=10, max_uids=5, seed=7)
    other.chain.step(chain.head + 5 - other.chain.head)
    other.chain.governance.announce_coldkey_swap(ck, coldkey_hash(new_key()))
    other.chain.governance.change_take(ck, hk, 100, increase=False)
    sub._inner = SimSubstrate(other.chain)
    assert await poller.poll()
    assert poller.snapshot.chain_mismatch == "changed"
    assert val(reg, "bittensor_coldkey_swap_events_total", coldkey=ck, action="announced") == 0
    assert val(reg, "bittensor_delegate_take_changes_total", hotkey=hk) == 0
    sub._inner = SimSubstrate(chain)
    await poll(poller, chain)
    assert val(reg, "bittensor_coldkey_swap_events_total", coldkey=ck, action="announced") == 0
    assert val(reg, "bittensor_delegate_take_changes_total", hotkey=hk) == 0


def new_key() -> str:
    return dev_wallet("Eve").coldkey.ss58_address
