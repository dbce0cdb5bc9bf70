"""Chain events end to end: a scenario's governance and registration events on simnet, the
exporter's event counters scraped by real Prometheus, the repository's rules and routing in
real Alertmanager, and the loopback receiver standing in for Slack and PagerDuty.

The world (``simnet.scenario.World``) runs in this process and is stepped block by block, so
the test decides when each event happens and waits for its notification before the next; the
exporter is the agent's poller and collector, served on loopback. The chain's 36,000-block
coldkey swap delay is shortened to 20 blocks, the only change to the chain's rules.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable

import pytest

from exporters.chain import ColdkeyWatch, WatchPlan
from simnet.scenario import World, load_scenario
from simnet.state import Chain
from simnet.testing import dev_keypair
from taowatch.chain_events import EVENT_ALERTS, event_line
from taowatch.receiver import HEARTBEAT, PAGERDUTY, SLACK, Notification, Receiver
from taowatch.stack import FAST_ALERTMANAGER, Stack, StackSettings
from tests.support.exporters import event_poller
from tests.support.loopback import serving_registry
from tests.support.scenarios import EVENTS_SUBNET

pytestmark = pytest.mark.e2e

DEADLINE = 60.0  # generous: a loaded CI machine, never a performance bound
QUIET_BLOCKS = 300  # an hour of 12 s blocks with nothing happening
E = QUIET_BLOCKS + 10  # the first event's block

SCENARIO = (
    EVENTS_SUBNET
    + f"""events:
  - {{at: {E}, coldkey_swap: {{coldkey: v1, action: announce, new_coldkey: "//Eve"}}}}
  - {{at: {E + 5}, coldkey_swap: {{coldkey: v2, action: announce, new_coldkey: "//Ferdie"}}}}
  - {{at: {E + 10}, coldkey_swap: {{coldkey: v2, action: dispute}}}}
  - {{at: {E + 15}, coldkey_swap: {{coldkey: v2, action: reset}}}}
  - {{at: {E + 20}, take: {{hotkey: v1, percent: 9}}}}
  - at: {E + 25}
    childkeys: {{netuid: 1, hotkey: v1, children: [{{hotkey: v2, proportion: 0.5}}]}}
  - {{at: {E + 35}, hyperparameter: {{netuid: 1, name: weights_rate_limit, value: 4}}}}
  - {{at: {E + 40}, registration_burst: {{netuid: 1, count: 4}}}}
  - {{at: {E + 45}, coldkey_swap: {{coldkey: v1, action: execute}}}}
"""
)


@pytest.fixture
def world(tmp_path) -> World:
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO)
    chain = Chain(block_time=12.0)
    built = World(chain, load_scenario(path)).build()
    chain.governance.swap_delay = 20
    chain.governance.childkey_cooldown = 5
    return built


@pytest.fixture
async def exporter(world: World) -> AsyncIterator[tuple[Callable, str]]:
    """The agent's poller over the world's chain, its /metrics on loopback; yields
    ``advance(blocks)`` (step the chain, poll after each block) and the target."""
    v1, v2 = (world.coldkey(n) for n in ("v1", "v2"))
    plan = WatchPlan(
        hotkeys=((1, world.hotkey("v1")), (1, world.hotkey("v2"))),
        coldkeys=(ColdkeyWatch(v1, (1,)), ColdkeyWatch(v2, (1,))),
    )
    poller, _, registry = event_poller(world.chain, plan)

    async def advance(blocks: int = 1) -> None:
        for _ in range(blocks):
            world.chain.step()
            assert await poller.poll()
            await asyncio.sleep(0)

    await advance()
    async with serving_registry(registry) as target:
        yield advance, target
    await poller.close()


def firing(alertname: str, *needles: str, service: str = SLACK):
    def match(n: Notification) -> bool:
        return (
            n.service == service
            and n.status == "firing"
            and n.mentions(alertname)
            and all(n.mentions(x) for x in needles)
        )

    return match


def event_notifications(receiver: Receiver) -> list[Notification]:
    return [
        n
        for n in receiver.notifications
        if n.service != HEARTBEAT and any(n.mentions(a) for a in EVENT_ALERTS)
    ]


async def test_each_chain_event_reaches_its_receivers_once_with_old_and_new_values(world, exporter):
    advance, target = exporter
    settings = StackSettings(
        targets={"taowatch-agent": [target]},
        overrides={**FAST_ALERTMANAGER, "event_lookback": "10m", "churn_deregistrations": 2},
    )
    chain = world.chain
    v1, v2 = world.coldkey("v1"), world.coldkey("v2")
    eve = dev_keypair("Eve").ss58_address
    async with Receiver() as receiver, Stack(settings, receiver) as stack:
        await stack.wait_for_query(
            f'bittensor_coldkey_swap_events_total{{coldkey="{v1}",action="announced"}} == 0',
            DEADLINE,
        )
        # An hour of chain time with nothing happening: no notification but the heartbeat.
        for _ in range(QUIET_BLOCKS // 10):
            await advance(10)
            await asyncio.sleep(0.1)
        await stack.wait_for_query(f"bittensor_exporter_source_block >= {chain.head}", DEADLINE)
        await asyncio.sleep(3)  # past group_wait: anything that fired would have arrived
        assert [n for n in receiver.notifications if n.service != HEARTBEAT] == []

        async def at(block: int) -> None:
            await advance(block - chain.head)

        await at(E)
        execute_from = E + 20
        page = await receiver.wait_for(
            firing("BittensorColdkeySwapAnnounced", v1, service=PAGERDUTY), DEADLINE
        )
        assert f"execute from block {execute_from}" in page.text
        assert f"pagerduty  BittensorColdkeySwapAnnounced  {v1} -> coldkey hashing to" in (
            event_line(page) or ""
        )
        assert f"(from block {execute_from})" in (event_line(page) or "")
        slack = await receiver.wait_for(firing("BittensorColdkeySwapAnnounced", v1), DEADLINE)
        assert slack.payload["channel"] == "#taowatch-critical"

        await at(E + 5)
        await receiver.wait_for(
            firing("BittensorColdkeySwapAnnounced", v2, service=PAGERDUTY), DEADLINE
        )
        await at(E + 10)
        await receiver.wait_for(
            firing("BittensorColdkeySwapChanged", v2, "was disputed", service=PAGERDUTY), DEADLINE
        )
        await at(E + 15)
        await receiver.wait_for(
            firing("BittensorColdkeySwapChanged", v2, "was reset", service=PAGERDUTY), DEADLINE
        )

        await at(E + 20)
        take = await receiver.wait_for(firing("BittensorDelegateTakeChanged"), DEADLINE)
        assert "changed from 18% to 9%" in take.text
        assert (
            f"slack      BittensorDelegateTakeChanged  take of {world.hotkey('v1')}: 18% -> 9%"
            in (event_line(take) or "")
        )
        assert take.payload["channel"] == "#taowatch-alerts"

        await at(E + 25)
        pending = await receiver.wait_for(
            firing("BittensorChildkeysChanged", "childkeys pending"), DEADLINE
        )
        assert f"pending: {world.hotkey('v2')} 50%" in pending.text
        assert f"childkeys none -> {world.hotkey('v2')} 50% (pending)" in (
            event_line(pending) or ""
        )
        await at(E + 30)
        applied = await receiver.wait_for(
            firing("BittensorChildkeysChanged", "childkeys applied"), DEADLINE
        )
        assert f"applied {world.hotkey('v2')} 50%" in applied.text

        await at(E + 35)
        hyper = await receiver.wait_for(firing("BittensorSubnetHyperparameterChanged"), DEADLINE)
        assert "weights_rate_limit of subnet 1 changed from 2 to 4" in hyper.text
        assert "weights_rate_limit of subnet 1: 2 -> 4" in (event_line(hyper) or "")

        await at(E + 40)
        churn = await receiver.wait_for(firing("BittensorSubnetChurnHigh"), DEADLINE)
        assert "neurons of subnet 1 were replaced" in churn.text
        assert "subnet 1: " in (event_line(churn) or "")

        await at(E + 45)
        executed = await receiver.wait_for(
            firing("BittensorColdkeySwapChanged", v1, "was executed", service=PAGERDUTY), DEADLINE
        )
        assert f"now belong to {eve}" in executed.text
        assert f"{v1} -> {eve} (executed)" in (event_line(executed) or "")
        assert chain.owner_of(world.hotkey("v1")) == eve

        await advance(5)
        await asyncio.sleep(3)
        # Each event once per receiver: critical ones on PagerDuty and Slack, warnings on Slack.
        needles = (
            v1,
            v2,
            *(f"was {action} within" for action in ("disputed", "reset", "executed")),
            *(f"childkeys {stage} within" for stage in ("pending", "applied")),
        )
        sent = Counter(
            (n.service, a, tuple(x for x in needles if n.mentions(x)))
            for n in event_notifications(receiver)
            if n.status == "firing"
            for a in EVENT_ALERTS
            if n.mentions(a)
        )
        # 5 critical events on two receivers, 5 warnings on one.
        assert len(sent) == 2 * 5 + 5
        for (service, alert, keys), count in sent.items():
            assert count == 1, (service, alert, keys, count)
        criticals = {a for s, a, _ in sent if s == PAGERDUTY}
        assert criticals == {"BittensorColdkeySwapAnnounced", "BittensorColdkeySwapChanged"}
