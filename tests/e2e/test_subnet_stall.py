"""A subnet-wide stall end to end: every validator of a simnet subnet stops setting weights at
once (the owner raises the weights rate limit out of reach), the agent's poller and collector
are scraped by real Prometheus with the repository's rules, and real Alertmanager routes to the
loopback receiver. One subnet alert arrives; no validator gets a staleness or trust alert of
its own. The world runs in this process and is stepped block by block."""

from __future__ import annotations

import asyncio

import pytest

from exporters.chain import WatchPlan
from simnet.scenario import World, load_scenario
from simnet.state import Chain
from taowatch.receiver import HEARTBEAT, PAGERDUTY, SLACK, Receiver
from taowatch.stack import FAST_ALERTMANAGER, Stack, StackSettings
from tests.support.exporters import event_poller
from tests.support.loopback import serving_registry

pytestmark = pytest.mark.e2e

DEADLINE = 60.0  # generous: a loaded CI machine, never a performance bound
STALL = 60
SCENARIO = f"""
subnets:
  - netuid: 1
    tempo: 10
    max_uids: 8
    weights_rate_limit: 2
    neurons:
      - {{name: v1, role: validator, stake_tao: 100, every: 3}}
      - {{name: v2, role: validator, stake_tao: 90, every: 3}}
      - {{name: v3, role: validator, stake_tao: 80, every: 3}}
      - {{name: v4, role: validator, stake_tao: 70, every: 3}}
      - {{name: m1, role: miner, quality: 0.9}}
      - {{name: m2, role: miner, quality: 0.1}}
events:
  - {{at: {STALL}, hyperparameter: {{netuid: 1, name: weights_rate_limit, value: 100000}}}}
"""
PER_VALIDATOR = ("BittensorValidatorWeightsStale", "BittensorValidatorTrustBelowPeers")


async def test_a_subnet_wide_stall_gives_one_subnet_alert_and_no_validator_alerts(tmp_path):
    path = tmp_path / "stall.yaml"
    path.write_text(SCENARIO)
    world = World(Chain(block_time=12.0), load_scenario(path)).build()
    validators = [world.hotkey(f"v{i}") for i in range(1, 5)]
    plan = WatchPlan(hotkeys=tuple((1, hk) for hk in validators), export_all=frozenset({1}))
    poller, _, registry = event_poller(world.chain, plan)

    async def advance(blocks: int, pause: float = 0.0) -> None:
        for _ in range(blocks):
            world.chain.step()
            assert await poller.poll()
            await asyncio.sleep(pause)

    await advance(40)  # permits handed out, every validator has set weights
    assert poller.snapshot.subnets[1].validators == 4
    knobs = {**FAST_ALERTMANAGER, "weights_stale_for": "10s", "vtrust_for": "10s"}
    async with serving_registry(registry) as target:
        settings = StackSettings(targets={"taowatch-agent": [target]}, overrides=knobs)
        async with Receiver() as receiver, Stack(settings, receiver) as stack:
            await stack.wait_for_query("bittensor_subnet_validators == 4", DEADLINE)
            await advance(STALL - world.chain.head, pause=0.05)
            # Weights stop: ages grow past both thresholds over ~15 s of real time.
            await advance(60, pause=0.25)
            subnet_alert = await receiver.wait_for(
                lambda n: (
                    n.service == SLACK
                    and n.status == "firing"
                    and n.mentions("BittensorSubnetValidatorsStale")
                ),
                DEADLINE,
            )
            assert "of 4 validators" in subnet_alert.text
            # Per-validator staleness is true of every validator by now: held back.
            await stack.wait_for_query(
                "count(neuron:bittensor_neuron_weights_age:tempos > 2.5"
                " and on (job, instance, netuid, hotkey) neuron:bittensor_neuron_is_validator:bool)"
                " == 4",
                DEADLINE,
            )
            await asyncio.sleep(15)  # past weights_stale_for and group_wait: they would be here
            told = [
                n
                for n in receiver.notifications
                if n.service != HEARTBEAT and any(n.mentions(a) for a in PER_VALIDATOR)
            ]
            assert told == []
            assert [n for n in receiver.notifications if n.service == PAGERDUTY] == []
            subnet_notes = [
                n
                for n in receiver.notifications
                if n.status == "firing" and n.mentions("BittensorSubnetValidatorsStale")
            ]
            assert len(subnet_notes) == 1
            assert not receiver.rejected, receiver.rejected
    await poller.close()
