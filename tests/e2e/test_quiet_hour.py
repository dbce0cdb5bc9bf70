"""A quiet hour of the demo world pages nobody.

The demo's whole system on the default world of today: served simnet at the demo's fast
blocks, the bundled miner and validator, the agent with its signed probe on and the demo's
watch list (the scenario's sim-validator-a and sim-miner-3, sim-validator-c's coldkey), real
Prometheus and Alertmanager with the repository's rules, and the loopback receiver standing in
for Slack, PagerDuty, Discord and Telegram. An hour of chain time (300 blocks of the world's
12 s) runs compressed to 0.25 s blocks; the alerts whose ``for:`` waits out chain time are
compressed by the same factor through the stack's threshold overrides, so they could fire in
the window. Every notification but the heartbeat is counted: the notifications the scenario's
events in the window should send, and nothing else.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from simnet.scenario import load_scenario, neuron_coldkey, neuron_keypair
from taowatch.receiver import HEARTBEAT, PAGERDUTY, SLACK
from tests.support.system import NETUID, running_system

pytestmark = pytest.mark.e2e

WORLD_BLOCK_TIME = 12.0
BLOCK_TIME = 0.25  # the demo's fast blocks: 48x
HOUR = 300  # blocks of 12 s
DEADLINE = 90.0  # generous: a loaded CI machine, never a performance bound
# Knobs whose `for:` waits out chain time (weights, scores, eviction), shortened by the
# compression so they can fire within the compressed hour. The process and scrape waits
# (down, stale, chain stall) measure wall time and stay as they are.
CHAIN_TIME_FOR = {
    "weights_stale_for": 120,
    "deregistration_risk_for": 120,
    "immunity_ending_for": 300,
    "vtrust_for": 1800,
    "incentive_zero_for": 12960,
    "pruned_emission_for": 600,
    "axon_collapse_for": 600,
}


def compressed_for_windows() -> dict[str, str]:
    ratio = WORLD_BLOCK_TIME / BLOCK_TIME
    return {knob: f"{max(1, round(seconds / ratio))}s" for knob, seconds in CHAIN_TIME_FOR.items()}


def demo_watch() -> list[dict]:
    """What ``taowatch demo`` watches besides its own neurons."""
    return [
        {
            "netuid": NETUID,
            "hotkeys": [
                neuron_keypair("sim-validator-a").ss58_address,
                neuron_keypair("sim-miner-3").ss58_address,
            ],
        },
        {"coldkey": neuron_coldkey("sim-validator-c").ss58_address},
    ]


def scripted_in(first: int, last: int) -> list[int]:
    """Blocks of the default world's scripted events within [first, last]."""
    return [e.at for e in load_scenario("default").events if first <= e.at <= last]


async def test_an_hour_of_the_demo_world_without_scripted_events_sends_no_notification(
    tmp_path,
):
    async with running_system(
        tmp_path,
        block_time=BLOCK_TIME,
        probe=True,
        extra_watch=demo_watch(),
        overrides=compressed_for_windows(),
        stack_options={"chat": True},
    ) as system:
        stack, receiver = system.stack, system.receiver
        head = await stack.wait_for_query("bittensor_exporter_source_block", DEADLINE)
        start = int(float(head[0]["value"][1]))
        end = start + HOUR
        # The window holds none of the world's scripted events, so the expected count is 0.
        assert scripted_in(0, end) == []
        await stack.wait_for_query(f"bittensor_exporter_source_block >= {end}", DEADLINE + 75)
        await asyncio.sleep(3)  # past group_wait: anything that fired would have arrived
        sent = Counter(
            (n.service, n.text.splitlines()[0] if n.text else "")
            for n in receiver.notifications
            if n.service != HEARTBEAT
        )
        active = [
            (a["labels"]["alertname"], a["labels"].get("hotkey"), a["state"])
            for a in await stack.alerts()
            if a["labels"]["alertname"] != "TaowatchWatchdog"
        ]
        pages = [n.text for n in receiver.notifications if n.service in (SLACK, PAGERDUTY)]
        assert sent == Counter(), (sent, active, pages)
        # The heartbeat kept arriving: the pipeline was alive the whole hour.
        assert any(n.service == HEARTBEAT for n in receiver.notifications)
