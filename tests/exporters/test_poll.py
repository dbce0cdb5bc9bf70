"""The chain exporter against an in-process simnet chain (SimSubstrate), stepped by hand.

Values are checked against the chain's own state, not against numbers written here.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import statistics
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import bittensor as bt
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from exporters.chain import ChainPoller, ColdkeyWatch, WatchPlan
from simnet.state import RAO_PER_TAO, Chain
from simnet.subnets import legacy_rules
from simnet.testing import dev_wallet, small_world
from tests.support.exporters import make_poller, promtool_check
from tests.support.waiting import eventually

U16 = 65535


@contextlib.asynccontextmanager
async def running(poller: ChainPoller) -> AsyncIterator[ChainPoller]:
    """The poller's lifecycle as the agent runs it: watchers started, then closed."""
    poller.start()
    try:
        yield poller
    finally:
        await poller.close()


def finality_caught_up(poller: ChainPoller, chain: Chain) -> Callable[[], bool]:
    watcher = poller.pool.endpoints[0].finality
    return lambda: watcher.latest == chain.finalized


def val(registry: CollectorRegistry, name: str, **labels: Any) -> float | None:
    return registry.get_sample_value(name, {k: str(v) for k, v in labels.items()})


@pytest.fixture
def world():
    return small_world(validators=2, miners=3, tempo=10, max_uids=6)


async def test_values_match_the_chain_state(world):
    chain, netuid = world.chain, world.netuid
    miner, validator = world.miners[0], world.validators[1]
    chain.serve_axon(
        netuid, miner.hotkey.ss58_address, int(ipaddress.IPv4Address("10.1.2.3")), 8091
    )
    chain.step()
    hotkeys = (miner.hotkey.ss58_address, validator.hotkey.ss58_address)
    poller, _, reg = make_poller(chain, WatchPlan(hotkeys=tuple((netuid, h) for h in hotkeys)))
    async with running(poller):
        assert await poller.poll(), poller.status.last_error  # connects: the watcher subscribes
        chain.step()  # finality moves: the subscription's first header
        await eventually(finality_caught_up(poller, chain), what="finality caught up")
        assert await poller.poll(), poller.status.last_error

    sn = chain.subnet(netuid)
    head = chain.head
    assert val(reg, "bittensor_chain_head_block") == head
    assert val(reg, "bittensor_exporter_source_block") == head
    assert val(reg, "bittensor_chain_finalized_block") == chain.finalized
    assert val(reg, "bittensor_chain_block_time_seconds") == chain.block_time
    assert val(reg, "bittensor_exporter_up") == 1
    for hk in hotkeys:
        uid = sn.uids[hk]
        nrn = sn.neurons[uid]
        lab = {"netuid": netuid, "hotkey": hk, "uid": uid}
        assert val(reg, "bittensor_neuron_registered", netuid=netuid, hotkey=hk) == 1
        assert val(reg, "bittensor_neuron_uid", coldkey=nrn.coldkey, **lab) == uid
        assert val(reg, "bittensor_neuron_incentive", **lab) == pytest.approx(nrn.incentive / U16)
        assert val(reg, "bittensor_neuron_dividends", **lab) == pytest.approx(nrn.dividends / U16)
        assert val(reg, "bittensor_neuron_consensus", **lab) == pytest.approx(nrn.consensus / U16)
        assert val(reg, "bittensor_neuron_validator_trust", **lab) == pytest.approx(
            nrn.validator_trust / U16
        )
        assert val(reg, "bittensor_neuron_emission_alpha", **lab) == pytest.approx(
            nrn.emission / RAO_PER_TAO
        )
        assert val(reg, "bittensor_neuron_stake_alpha", **lab) == pytest.approx(
            chain.stake_alpha(netuid, hk) / RAO_PER_TAO
        )
        assert val(reg, "bittensor_neuron_validator_permit", **lab) == float(nrn.validator_permit)
        assert val(reg, "bittensor_neuron_active", **lab) == float(nrn.active)
        assert val(reg, "bittensor_neuron_last_update_block", **lab) == nrn.last_update
        assert (
            val(reg, "bittensor_neuron_blocks_since_last_update", **lab) == head - nrn.last_update
        )
        assert val(reg, "bittensor_neuron_registration_block", **lab) == nrn.registered_at
        assert val(reg, "bittensor_neuron_immunity_remaining_blocks", **lab) == max(
            0, nrn.registered_at + sn.immunity_period - (head + 1)
        )
    uid = sn.uids[miner.hotkey.ss58_address]
    assert (
        val(
            reg,
            "bittensor_neuron_axon_info",
            netuid=netuid,
            hotkey=miner.hotkey.ss58_address,
            uid=uid,
            ip="10.1.2.3",
            port=8091,
        )
        == 1
    )
    assert val(reg, "bittensor_subnet_tempo_blocks", netuid=netuid) == sn.tempo
    assert val(reg, "bittensor_subnet_neurons", netuid=netuid) == sn.n
    assert val(reg, "bittensor_subnet_max_neurons", netuid=netuid) == sn.max_uids
    assert val(reg, "bittensor_subnet_immunity_period_blocks", netuid=netuid) == sn.immunity_period
    assert val(reg, "bittensor_subnet_activity_cutoff_blocks", netuid=netuid) == sn.activity_cutoff
    assert val(reg, "bittensor_subnet_registration_cost_tao", netuid=netuid) == pytest.approx(
        sn.burn_rao / RAO_PER_TAO
    )
    assert val(reg, "bittensor_subnet_alpha_price_tao", netuid=netuid) == pytest.approx(
        sn.tao_in / sn.alpha_in
    )
    # Validator trust rank: the validator with the higher vtrust among the validators is 0.
    permitted = sorted(
        (n for n in sn.neurons if n.validator_permit and n.last_update > n.registered_at),
        key=lambda n: (-n.validator_trust, n.uid),
    )
    vuid = sn.uids[validator.hotkey.ss58_address]
    expected_rank = [n.uid for n in permitted].index(vuid)
    assert (
        val(
            reg,
            "bittensor_neuron_validator_trust_rank",
            netuid=netuid,
            hotkey=validator.hotkey.ss58_address,
            uid=vuid,
        )
        == expected_rank
    )


async def test_a_miner_holding_a_spare_permit_is_not_a_validator_for_rank_or_median(world):
    chain, netuid = world.chain, world.netuid
    # Two more epochs: with more validator slots than neurons, every miner gets a permit.
    chain.step(2 * (chain.subnet(netuid).tempo + 1))
    sn = chain.subnet(netuid)
    spare = [n for n in sn.neurons if n.validator_permit and n.last_update <= n.registered_at]
    validators = [n for n in sn.neurons if n.validator_permit and n.last_update > n.registered_at]
    assert spare, "the world must have a miner with a spare permit for this test to mean much"
    assert len(validators) == len(world.validators)
    assert all(n.validator_trust == 0 for n in spare)

    poller, _, reg = make_poller(chain, WatchPlan(export_all=frozenset({netuid})))
    assert await poller.poll(), poller.status.last_error

    median = val(reg, "bittensor_subnet_validator_trust_median", netuid=netuid)
    expected = statistics.median(n.validator_trust / U16 for n in validators)
    assert median == pytest.approx(expected)
    assert median > 0  # the spare permits (vtrust 0) would have pulled a 2-of-5 median to 0
    ranked = sorted(validators, key=lambda n: (-n.validator_trust, n.uid))
    for pos, n in enumerate(ranked):
        lab = {"netuid": netuid, "hotkey": n.hotkey, "uid": n.uid}
        assert val(reg, "bittensor_neuron_validator_trust_rank", **lab) == pos
    for n in spare:
        lab = {"netuid": netuid, "hotkey": n.hotkey, "uid": n.uid}
        assert val(reg, "bittensor_neuron_validator_permit", **lab) == 1
        assert val(reg, "bittensor_neuron_validator_trust_rank", **lab) is None


async def test_a_poll_costs_two_calls_per_subnet_fourteen_chain_wide_the_head_and_two_hashes(
    world,
):
    chain = world.chain
    owner = world.owner
    for netuid in (2, 3):
        chain.create_subnet(
            netuid,
            tempo=10,
            max_uids=8,
            owner_coldkey=owner.coldkey.ss58_address,
            owner_hotkey=owner.hotkey.ss58_address,
            **legacy_rules(),
        )
    chain.step()
    hk = world.miners[0].hotkey.ss58_address
    plan = WatchPlan(hotkeys=((1, hk), (2, hk), (3, hk)))
    poller, sub, reg = make_poller(chain, plan)
    async with running(poller):
        assert await poller.poll()  # the first poll also connects and reads the block time once
        chain.step()
        await eventually(
            finality_caught_up(poller, chain), what="finality caught up"
        )  # subscribed, and it delivered
        sub.calls.clear()
        chain.step()
        await eventually(finality_caught_up(poller, chain), what="finality caught up")
        assert await poller.poll()
        # The head, one hash lookup for the pinned block and one at the last trusted block
        # (the same chain still?), two runtime calls per subnet, and once per poll whatever
        # the subnets: the mechanism counts (exporters/mechanisms.py), all dynamic info (one
        # runtime call), ten maps (Yuma3On, SubnetEpochConsensus, MinNonImmuneUids,
        # ImmuneOwnerUidsLimit, SubnetEmissionEnabled, MinerBurned, and the storage-only
        # switches of exporters/storage_switches.py: BondsResetOn, AlphaSigmoidSteepness,
        # BurnHalfLife, BurnIncreaseMult), the gate's three values (EmissionGateBar,
        # EmissionGateExponent, EmissionBarRank; exporters/economics.py) and the runtime's
        # spec version (exporters/runtime_version.py, cached by the SDK's transport on a real
        # node); the finalized head came pushed by the subscription.
        assert dict(sub.calls) == {
            "block_number": 1,
            "block_hash": 2,
            "spec_version": 1,
            "query_map": 1 + 10,
            "query": 3,
            "runtime_call": 2 * 3 + 1,
        }
        assert val(reg, "bittensor_chain_finalized_block") == chain.finalized
        assert poller.snapshot.chain.finalized_source == "subscription"


async def test_the_finalized_head_is_absent_until_the_subscription_delivers_one(world):
    chain = world.chain
    hk = world.miners[0].hotkey.ss58_address
    poller, sub, reg = make_poller(chain, WatchPlan(hotkeys=((world.netuid, hk),)))
    sub.hold_stream = True  # a subscription that has not delivered its first header yet
    async with running(poller):
        assert await poller.poll()
        await eventually(lambda: sub.open_streams == 1, what="one open block stream")
        # Nothing delivered since the subscription opened: no value, and no 0 either.
        assert await poller.poll()
        assert val(reg, "bittensor_chain_head_block") == chain.head
        assert val(reg, "bittensor_chain_finalized_block") is None
        assert sub.calls["finalized_block_number"] == 0
        sub.hold_stream = False
        chain.step(3)
        await eventually(finality_caught_up(poller, chain), what="finality caught up")
        assert await poller.poll()
        assert val(reg, "bittensor_chain_finalized_block") == chain.finalized


class StepClock:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_quiet_finality_stream_falls_back_to_a_direct_read_on_each_poll(world):
    chain = world.chain
    clock = StepClock()
    hk = world.miners[0].hotkey.ss58_address
    poller, sub, reg = make_poller(chain, WatchPlan(hotkeys=((world.netuid, hk),)), monotonic=clock)
    stale_after = poller.finality_stale_blocks * chain.block_time
    async with running(poller):
        assert await poller.poll()
        chain.step()
        await eventually(finality_caught_up(poller, chain), what="finality caught up")
        pushed = chain.finalized

        # The stream hangs: its last value is trusted for a few block times, no longer.
        sub.hold_stream = True
        chain.step(2)
        clock.now += stale_after / 2
        sub.calls.clear()
        assert await poller.poll()
        assert val(reg, "bittensor_chain_finalized_block") == pushed
        assert sub.calls["finalized_block_number"] == 0

        clock.now += stale_after
        for _ in range(2):
            chain.step()
            assert await poller.poll()
            assert val(reg, "bittensor_chain_finalized_block") == chain.finalized > pushed
            assert poller.snapshot.chain.finalized_source == "read"
        assert sub.calls["finalized_block_number"] == 2

        # The stream speaks again: back to no reads.
        sub.hold_stream = False
        chain.step()
        await eventually(finality_caught_up(poller, chain), what="finality caught up")
        sub.calls.clear()
        assert await poller.poll()
        assert sub.calls["finalized_block_number"] == 0
        assert poller.snapshot.chain.finalized_source == "subscription"


async def test_a_dropped_finality_subscription_is_reopened_and_keeps_its_last_value(world):
    chain = world.chain
    hk = world.miners[0].hotkey.ss58_address
    poller, sub, reg = make_poller(
        chain, WatchPlan(hotkeys=((world.netuid, hk),)), finality_backoff=(0.01, 0.05)
    )
    watcher = poller.pool.endpoints[0].finality
    async with running(poller):
        assert await poller.poll()
        chain.step()
        await eventually(finality_caught_up(poller, chain), what="finality caught up")
        before = chain.finalized

        sub.drop_stream = bt.RpcConnectionError("connection closed")
        # The reopened stream starts with the current head; hold it so the value kept while
        # reconnecting is observable however fast the reconnect is.
        sub.hold_stream = True
        chain.step()  # the next header meets the dropped connection
        await eventually(lambda: watcher.drops == 1, what="the dropped stream counted")
        await eventually(
            lambda: watcher.subscriptions == 2 and watcher.subscribed, what="a resubscription"
        )
        assert watcher.latest == before  # the last value stays while reconnecting
        assert "RpcConnectionError" in watcher.last_error

        sub.hold_stream = False
        chain.step(2)
        await eventually(finality_caught_up(poller, chain), what="finality caught up")
        assert await poller.poll()
        assert val(reg, "bittensor_chain_finalized_block") == chain.finalized
        assert sub.calls["blocks"] == 2
    # Closing the poller cancels the watcher and ends its subscription.
    assert not watcher.running
    assert sub.open_streams == 0


async def test_pruning_position_zero_is_the_neuron_the_chain_evicts_next(world):
    chain, netuid = world.chain, world.netuid
    everyone = [w.hotkey.ss58_address for w in (*world.validators, *world.miners)]
    chain.step(chain.subnet(netuid).immunity_period + 1)  # nobody immune any more
    poller, _, reg = make_poller(chain, WatchPlan(export_all=frozenset({netuid})))
    assert await poller.poll()
    evict_uid = chain.neuron_to_evict(netuid)
    sn = chain.subnet(netuid)
    positions = {
        hk: val(reg, "bittensor_neuron_pruning_position", netuid=netuid, hotkey=hk, uid=sn.uids[hk])
        for hk in everyone
    }
    assert positions[sn.neurons[evict_uid].hotkey] == 0
    assert sorted(p for p in positions.values() if p is not None) == list(range(len(everyone)))
    # The subnet owner's hotkey is never evicted, so it has no position.
    assert (
        val(
            reg,
            "bittensor_neuron_pruning_position",
            netuid=netuid,
            hotkey=world.owner.hotkey.ss58_address,
            uid=sn.uids.get(world.owner.hotkey.ss58_address, -1),
        )
        is None
    )


async def test_a_competing_registration_shows_as_a_deregistration_within_one_poll(world, tmp_path):
    chain, netuid = world.chain, world.netuid
    sn = chain.subnet(netuid)
    # Fill the subnet, then let immunity lapse so a registration must evict someone.
    newcomers = [dev_wallet(f"Filler{i}") for i in range(sn.max_uids - sn.n)]
    for w in newcomers:
        chain.fund(w.coldkey.ss58_address, 100 * RAO_PER_TAO)
        chain.register(netuid, w.hotkey.ss58_address, w.coldkey.ss58_address)
    chain.step(sn.immunity_period + 1)
    victim = sn.neurons[chain.neuron_to_evict(netuid)].hotkey
    plan = WatchPlan(hotkeys=((netuid, victim), (netuid, world.miners[0].hotkey.ss58_address)))
    poller, _, reg = make_poller(chain, plan, tmp_path / "state.json")
    assert await poller.poll()
    victim_uid = sn.uids[victim]
    assert val(reg, "bittensor_neuron_registered", netuid=netuid, hotkey=victim) == 1
    assert (
        val(reg, "bittensor_neuron_pruning_position", netuid=netuid, hotkey=victim, uid=victim_uid)
        == 0
    )

    intruder = dev_wallet("Intruder")
    chain.fund(intruder.coldkey.ss58_address, 100 * RAO_PER_TAO)
    chain.register(netuid, intruder.hotkey.ss58_address, intruder.coldkey.ss58_address)
    chain.step()
    assert victim not in sn.uids
    assert await poller.poll()

    assert val(reg, "bittensor_neuron_registered", netuid=netuid, hotkey=victim) == 0
    assert val(reg, "bittensor_neuron_deregistrations_total", netuid=netuid, hotkey=victim) == 1
    # No stale series for the uid it held; registered=0 stays.
    text = generate_latest(reg).decode()
    stale = [
        line
        for line in text.splitlines()
        if victim in line
        and not line.startswith("bittensor_neuron_registered")
        and not line.startswith("bittensor_neuron_deregistrations")
    ]
    assert stale == []
    assert [c.kind for c in poller.recent_changes()] == ["deregistered"]
    assert registry_state(tmp_path / "state.json")[f"{netuid}:{victim}"]["deregistrations"] == 1

    # A restarted agent keeps the count (and does not count it again).
    poller2, _, reg2 = make_poller(chain, plan, tmp_path / "state.json")
    chain.step()
    assert await poller2.poll()
    assert val(reg2, "bittensor_neuron_deregistrations_total", netuid=netuid, hotkey=victim) == 1
    assert val(reg2, "bittensor_neuron_registered", netuid=netuid, hotkey=victim) == 0


def registry_state(path: Path) -> dict:
    import json

    return json.loads(path.read_text())["neurons"]


async def test_a_stake_drop_shows_in_the_next_poll_and_in_recent_changes(world):
    chain, netuid = world.chain, world.netuid
    hk = world.validators[0].hotkey.ss58_address
    poller, _, reg = make_poller(chain, WatchPlan(hotkeys=((netuid, hk),)))
    assert await poller.poll()
    uid = chain.subnet(netuid).uids[hk]
    before = val(reg, "bittensor_neuron_stake_alpha", netuid=netuid, hotkey=hk, uid=uid)
    chain.scale_stake(netuid, hk, 0.5)
    chain.step()
    assert await poller.poll()
    after = val(reg, "bittensor_neuron_stake_alpha", netuid=netuid, hotkey=hk, uid=uid)
    assert after == pytest.approx(chain.stake_alpha(netuid, hk) / RAO_PER_TAO)
    assert after < before * 0.6
    drops = [c for c in poller.recent_changes() if c.kind == "stake_drop"]
    assert len(drops) == 1 and drops[0].hotkey == hk and drops[0].block == chain.head


async def test_a_failing_chain_sets_up_to_zero_keeps_values_and_reports_no_deregistration(world):
    chain, netuid = world.chain, world.netuid
    hk = world.miners[0].hotkey.ss58_address
    poller, sub, reg = make_poller(chain, WatchPlan(hotkeys=((netuid, hk),)))
    assert await poller.poll()
    block = chain.head
    uid = chain.subnet(netuid).uids[hk]
    incentive = val(reg, "bittensor_neuron_incentive", netuid=netuid, hotkey=hk, uid=uid)

    sub.fail = ConnectionError("connection refused")
    chain.step(3)
    for _ in range(3):
        assert not await poller.poll()
    assert val(reg, "bittensor_exporter_up") == 0
    assert val(reg, "bittensor_exporter_poll_errors_total", reason="unreachable") == 3
    assert val(reg, "bittensor_exporter_source_block") == block
    assert val(reg, "bittensor_neuron_incentive", netuid=netuid, hotkey=hk, uid=uid) == incentive
    assert val(reg, "bittensor_neuron_registered", netuid=netuid, hotkey=hk) == 1
    assert val(reg, "bittensor_neuron_deregistrations_total", netuid=netuid, hotkey=hk) == 0
    assert val(reg, "bittensor_exporter_rpc_endpoint_up", endpoint="sim://primary:1") == 0
    assert "unreachable" in poller.status.last_error

    sub.fail = None
    assert await poller.poll()
    assert val(reg, "bittensor_exporter_up") == 1
    assert val(reg, "bittensor_exporter_source_block") == chain.head
    assert val(reg, "bittensor_neuron_deregistrations_total", netuid=netuid, hotkey=hk) == 0


async def test_a_coldkey_watch_finds_its_hotkeys_on_every_subnet(world):
    chain = world.chain
    miner = world.miners[1]
    chain.create_subnet(
        5,
        tempo=10,
        max_uids=8,
        owner_coldkey=world.owner.coldkey.ss58_address,
        owner_hotkey=world.owner.hotkey.ss58_address,
        **legacy_rules(),
    )
    second_hotkey = dev_wallet("Miner1Second").hotkey.ss58_address
    chain.register(5, second_hotkey, miner.coldkey.ss58_address)
    chain.step()
    poller, _, reg = make_poller(
        chain, WatchPlan(coldkeys=(ColdkeyWatch(miner.coldkey.ss58_address),))
    )
    assert await poller.poll()
    watched = {(w.netuid, w.hotkey) for w in poller.snapshot.watched}
    assert watched == {(1, miner.hotkey.ss58_address), (5, second_hotkey)}
    assert val(reg, "bittensor_neuron_registered", netuid=5, hotkey=second_hotkey) == 1


async def test_the_exposition_passes_promtool_check_metrics(world):
    chain, netuid = world.chain, world.netuid
    hk = world.miners[0].hotkey.ss58_address
    poller, _, reg = make_poller(
        chain, WatchPlan(hotkeys=((netuid, hk),), export_all=frozenset({netuid}))
    )
    assert await poller.poll()
    text = generate_latest(reg)
    assert b"bittensor_neuron_incentive{" in text
    ok, output = await asyncio.to_thread(promtool_check, text)
    assert ok, output
