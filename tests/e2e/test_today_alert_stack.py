"""Today's chain alerts through real Prometheus and Alertmanager, from the real exporter.

The exporter polls an in-process simnet chain stepped by hand and serves its collector to
Prometheus over loopback, so each assertion is about a known block: a validator that stops
committing on a commit-reveal subnet pages only once its weights are older than the warning's
tempos plus the reveal period; in a scenario world where root switches one watched subnet's
emission off and another's price falls so its share slides under the emission bar, both page
and nothing else does.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import bittensor as bt
import bittensor_core
import pytest

from exporters.chain import ChainPoller, WatchPlan
from simnet.scenario import World, load_scenario
from simnet.state import RAO_PER_TAO, Chain
from simnet.testing import sim_client, small_world
from taowatch.receiver import HEARTBEAT, PAGERDUTY, SLACK, Notification, Receiver
from taowatch.stack import FAST_ALERTMANAGER, Stack, StackSettings
from tests.support.exporters import make_poller
from tests.support.loopback import serving_registry

pytestmark = pytest.mark.e2e

DEADLINE = 60.0  # generous: a loaded CI machine, never a performance bound
TAO = RAO_PER_TAO


async def seen(stack: Stack, poller: ChainPoller, chain: Chain) -> None:
    """Poll the chain at its head and wait until Prometheus has evaluated every rule group
    on a scrape of it."""
    assert await poller.poll()
    await stack.wait_for_query(f"bittensor_chain_head_block == {chain.head}", DEADLINE)
    scraped = datetime.now(UTC)
    deadline = time.monotonic() + DEADLINE
    while True:
        groups = await stack.rule_groups()
        if all(datetime.fromisoformat(g["lastEvaluation"]) > scraped for g in groups):
            return
        assert time.monotonic() < deadline, "the rules were not evaluated again"
        await asyncio.sleep(0.2)


async def active(stack: Stack, alertname: str, **labels: str) -> list[dict]:
    return [
        a
        for a in await stack.alerts()
        if a["labels"]["alertname"] == alertname
        and all(a["labels"].get(k) == v for k, v in labels.items())
    ]


def _is(service: str, status: str, alertname: str, needle: str):
    def match(n: Notification) -> bool:
        return (
            n.service == service
            and n.status == status
            and n.mentions(alertname)
            and n.mentions(needle)
        )

    return match


@pytest.mark.slow
async def test_a_validator_that_stops_committing_pages_after_the_warning_plus_the_reveal_period(
    monkeypatch,
):
    world = small_world(validators=2, miners=3, tempo=10, max_uids=8)
    chain, netuid, validator = world.chain, world.netuid, world.validators[0]
    chain.set_hyperparameter(netuid, "commit_reveal", True)
    chain.step()
    # Offline drand: the real encryptor runs; the chain's escrow learns the plaintext.
    real = bittensor_core.get_encrypted_commit_v2
    monkeypatch.setattr(bittensor_core, "get_encrypted_commit_v2", chain.timelock_escrow.wrap(real))
    sn = chain.subnet(netuid)
    tempo, reveal = sn.tempo, sn.reveal_period_epochs
    hotkey = validator.hotkey.ss58_address
    poller, _, registry = make_poller(chain, WatchPlan(hotkeys=((netuid, hotkey),)))
    settings_overrides = {**FAST_ALERTMANAGER, "weights_stale_for": "0s"}
    async with (
        serving_registry(registry) as target,
        Receiver() as receiver,
        Stack(
            StackSettings(targets={"taowatch-agent": [target]}, overrides=settings_overrides),
            receiver,
        ) as stack,
        sim_client(chain) as client,
    ):
        # Three tempos of commits, one per tempo: never stale.
        for _ in range(3):
            result = await client.execute(bt.SetWeights(netuid, weights={3: 1.0}), validator)
            assert result.success, result.message
            chain.step(tempo + 1)
            await seen(stack, poller, chain)
            assert await active(stack, "BittensorValidatorWeightsStale", hotkey=hotkey) == []
        last_commit = chain.subnet(netuid).neurons[sn.uids[hotkey]].last_update
        # Commits stop. The warning waits 2.5 tempos plus the reveal period: silent up to
        # that many blocks after the last commit, firing the block after.
        limit = int((2.5 + reveal) * tempo)
        chain.step(last_commit + limit - 2 - chain.head)
        for _ in range(2):
            chain.step()
            await seen(stack, poller, chain)
            assert chain.head - last_commit <= limit
            assert await active(stack, "BittensorValidatorWeightsStale", hotkey=hotkey) == []
        chain.step()
        await seen(stack, poller, chain)
        firing = await active(stack, "BittensorValidatorWeightsStale", hotkey=hotkey)
        assert [a["labels"]["severity"] for a in firing] == ["warning"]
        assert firing[0]["state"] == "firing"
        assert (chain.head - last_commit) / tempo == pytest.approx(2.5 + reveal + 1 / tempo)
        slack = await receiver.wait_for(
            _is(SLACK, "firing", "BittensorValidatorWeightsStale", hotkey), DEADLINE
        )
        assert f"on subnet {netuid}" in slack.text
        assert not receiver.rejected, receiver.rejected


GATE_WORLD = """
name: emission-gate
block_time: 12
seed: 5
accounts: [{uri: "//Alice", tao: 100000}]
root: {tao_weight: 0.18}
emission: {tao_per_block: 1, price_ema_alpha: 0.05}
subnets:
  - netuid: 1
    tempo: 10000
    immunity_period: 100000
    neurons: [{name: op-miner-1, role: miner}]
  - netuid: 2
    tempo: 10000
    immunity_period: 100000
    alpha_price_tao: 0.5
    neurons: [{name: op-miner-2, role: miner}]
scale: {subnets: 40, first_netuid: 3, neurons: 1, validators: 1, tempo: 10000}
events:
  - {at: 5, emission_switch: {netuid: 1, enabled: false}}
  - {at: 5, price_move: {netuid: 2, change_percent: -95}}
"""


def gate_world(tmp_path) -> tuple[Chain, World]:
    path = tmp_path / "gate.yaml"
    path.write_text(GATE_WORLD)
    chain = Chain()
    return chain, World(chain, load_scenario(path)).build()


async def firing(stack: Stack) -> set[tuple[str, str]]:
    """Every firing alert but the always-on watchdog (the dead man's switch)."""
    return {
        (a["labels"]["alertname"], a["labels"].get("netuid", ""))
        for a in await stack.alerts()
        if a["state"] == "firing" and a["labels"]["alertname"] != "TaowatchWatchdog"
    }


@pytest.mark.slow
async def test_emission_switched_off_and_a_slide_under_the_bar_page_for_both_and_nothing_else(
    tmp_path,
):
    chain, world = gate_world(tmp_path)
    plan = WatchPlan(hotkeys=((1, world.hotkey("op-miner-1")), (2, world.hotkey("op-miner-2"))))
    poller, _, registry = make_poller(chain, plan)
    overrides = {**FAST_ALERTMANAGER, "subnet_emission_off_for": "0s", "emission_gate_for": "0s"}
    async with (
        serving_registry(registry) as target,
        Receiver() as receiver,
        Stack(
            StackSettings(targets={"taowatch-agent": [target]}, overrides=overrides), receiver
        ) as stack,
    ):
        chain.step(4 - chain.head)
        await seen(stack, poller, chain)
        assert await firing(stack) == set()  # both subnets earn, at or above the bar

        # Root switches subnet 1's emission off; subnet 2's price falls 95% and its EMA follows.
        chain.step(40)
        await seen(stack, poller, chain)
        off = await receiver.wait_for(
            _is(PAGERDUTY, "firing", "BittensorSubnetEmissionOff", "subnet 1"), DEADLINE
        )
        assert off.payload["payload"]["severity"] == "critical"
        under = await receiver.wait_for(
            _is(PAGERDUTY, "firing", "BittensorSubnetUnderEmissionBar", "Subnet 2"), DEADLINE
        )
        assert under.payload["payload"]["severity"] == "critical"
        assert await firing(stack) == {
            ("BittensorSubnetEmissionOff", "1"),
            ("BittensorSubnetUnderEmissionBar", "2"),
        }
        # Nothing else reached any receiver (the dead man's heartbeat aside).
        others = [
            n
            for n in receiver.notifications
            if n.service != HEARTBEAT
            and not n.mentions("BittensorSubnetEmissionOff")
            and not n.mentions("BittensorSubnetUnderEmissionBar")
        ]
        assert others == []
        assert not receiver.rejected, receiver.rejected
