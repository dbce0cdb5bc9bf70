"""A quiet hour of the demo world pages nobody; its scripted event pages exactly once.

The demo's whole system on the default world of today: served simnet at the demo's fast
blocks, the bundled miner and validator, the agent with its signed probe on and the demo's
watch list (the scenario's sim-validator-a and sim-miner-3, sim-validator-c's coldkey), real
Prometheus and Alertmanager with the repository's rules, and the loopback receiver standing in
for Slack, PagerDuty, Discord and Telegram. An hour of chain time (300 blocks of the world's
12 s) runs compressed to 0.25 s blocks; the alerts whose ``for:`` waits out chain time are
compressed by the same factor through the stack's threshold overrides, so they could fire in
the window. Every notification but the heartbeat is counted.

The window is blocks 120..420: the hour after the genesis neurons' 100-block immunity, ending
just past the world's first scripted event (sim-validator-a's stake drops 30% at block 400).
Before that event nothing may arrive; after it, exactly the stake-drop page, once on each
receiver its severity routes to. (Before block 120 the watched sim-validator-a and sim-miner-3
leave their immunity with zero emission, since the demo's validator carries subnet 1's
consensus by design: a true page about the world as built, outside this window.)
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter

import pytest
import yaml

from simnet.scenario import load_scenario, neuron_coldkey, neuron_keypair
from taowatch.receiver import DISCORD, HEARTBEAT, PAGERDUTY, SLACK, TELEGRAM, Notification
from tests.support import REPO
from tests.support.system import NETUID, running_system

pytestmark = pytest.mark.e2e

WORLD_BLOCK_TIME = 12.0
BLOCK_TIME = 0.25  # the demo's fast blocks: 48x
HOUR = 300  # blocks of 12 s
FIRST = 120  # past the genesis neurons' immunity (100 blocks on subnet 1) and its resolves
LAST = FIRST + HOUR
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
    # The emission alerts (a subnet switched off, one under the bar): the demo's subnets sit at
    # the bar with their emission on, so these must stay silent too.
    "subnet_emission_off_for": 300,
    "emission_gate_for": 1800,
}
# Where each severity goes (alerts/alertmanager: critical to PagerDuty and Slack, warning to
# Slack; with the chat integrations both also to Discord and Telegram).
RECEIVERS = {
    "critical": {PAGERDUTY, SLACK, DISCORD, TELEGRAM},
    "warning": {SLACK, DISCORD, TELEGRAM},
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


def expected_pages(first: int, last: int) -> Counter:
    """(receiver, alert, hotkey) -> 1 for each scripted event of the default world in
    [first, last] that a watched neuron's rules should page for."""
    knobs = yaml.safe_load((REPO / "alerts" / "thresholds.yaml").read_text())
    expected: Counter = Counter()
    for event in load_scenario("default").events:
        if not first <= event.at <= last:
            continue
        assert event.stake is not None, f"no expectation written for the event at {event.at}"
        drop = -event.stake.change_percent / 100
        severity = "critical" if drop > knobs["stake_drop_critical_ratio"] else "warning"
        hotkey = neuron_keypair(event.stake.hotkey).ss58_address
        for receiver in RECEIVERS[severity]:
            expected[(receiver, "BittensorNeuronStakeDrop", hotkey)] += 1
    return expected


def about(note: Notification) -> tuple[str, str, str]:
    """(receiver, alert, hotkey) of a notification, read from its own text."""
    alert = re.search(r"\b(?:Bittensor|Taowatch)\w+", note.text)
    hotkey = next((h for h in WATCHED_NAMES.values() if note.mentions(h)), "")
    return note.service, alert[0] if alert else "", hotkey


WATCHED_NAMES = {
    name: neuron_keypair(name).ss58_address for name in ("sim-validator-a", "sim-miner-3")
}


async def block_seen(stack, block: int, timeout: float) -> None:
    await stack.wait_for_query(f"bittensor_exporter_source_block >= {block}", timeout)


async def test_an_hour_of_the_demo_world_pages_nobody_until_its_stake_drop_pages_once_each(
    tmp_path,
):
    expected = expected_pages(FIRST, LAST)
    # The window holds exactly one scripted event, the stake drop; it pages as a critical.
    assert {alert for _, alert, _ in expected} == {"BittensorNeuronStakeDrop"}
    drop_at = next(e.at for e in load_scenario("default").events if FIRST <= e.at <= LAST)
    async with running_system(
        tmp_path,
        block_time=BLOCK_TIME,
        probe=True,
        extra_watch=demo_watch(),
        overrides=compressed_for_windows(),
        stack_options={"chat": True},
    ) as system:
        stack, receiver = system.stack, system.receiver
        await block_seen(stack, FIRST, DEADLINE + FIRST * BLOCK_TIME)
        await asyncio.sleep(2)  # what fired before the window is delivered before it opens
        opened = time.monotonic()

        def in_window() -> list[Notification]:
            return [
                n
                for n in receiver.notifications
                if n.service != HEARTBEAT and n.received_monotonic >= opened
            ]

        async def diagnosis() -> tuple:
            active = [
                (a["labels"]["alertname"], a["labels"].get("hotkey"), a["state"])
                for a in await stack.alerts()
                if a["labels"]["alertname"] != "TaowatchWatchdog"
            ]
            return active, [n.text for n in in_window() if n.service in (SLACK, PAGERDUTY)]

        await block_seen(stack, drop_at - 1, DEADLINE + HOUR * BLOCK_TIME)
        # No wait here: the drop is a block away. Whatever fired late in the quiet stretch
        # still arrives, and the exact count below catches it.
        assert in_window() == [], await diagnosis()

        await block_seen(stack, LAST, DEADLINE + (LAST - drop_at) * BLOCK_TIME)
        await asyncio.sleep(3)
        sent = Counter(about(n) for n in in_window() if n.status == "firing")
        assert sent == expected, await diagnosis()
        # Nothing resolved or repeated in the window either: the drop stands for its window.
        assert len(in_window()) == sum(expected.values()), await diagnosis()
        # The heartbeat kept arriving: the pipeline was alive the whole hour.
        assert any(
            n.service == HEARTBEAT and n.received_monotonic >= opened
            for n in receiver.notifications
        )
