"""The eviction ETA end to end: a full simnet subnet taking one registration every few blocks,
a watched miner further down the eviction order, the agent's poller scraped by real Prometheus
with the repository's rules, and real Alertmanager paging the loopback receiver.

The page must come before the pruning, and the time it predicts must match the pruning within
the error the README states: one registration gap plus the scrape and rule intervals, once the
rate window is full. The world runs in this process; blocks are stepped at a steady real-time
pace, because Prometheus measures the rate in real seconds.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from exporters.chain import WatchPlan
from simnet.scenario import World, load_scenario
from simnet.state import Chain
from taowatch.receiver import PAGERDUTY, Receiver
from taowatch.stack import FAST_ALERTMANAGER, Stack, StackSettings
from tests.support.exporters import event_poller
from tests.support.loopback import serving_registry

pytestmark = pytest.mark.e2e

DEADLINE = 60.0  # generous: a loaded CI machine, never a performance bound
BLOCK_SECONDS = 0.5  # real seconds per stepped block
EVERY = 6  # blocks between registrations: one every 3 s
FIRST = 20  # the first registration's block
MINERS = 13


def scenario() -> str:
    # Tempo far beyond the test: no epoch, every emission 0, so the order is by registration
    # block then uid, and the genesis miner with the highest uid is the last genesis neuron
    # to go. Immunity is short: newcomers join the order behind it.
    miners = "\n".join(
        f"      - {{name: m{i:02d}, role: miner, quality: 0.5}}" for i in range(MINERS)
    )
    events = "\n".join(
        f"  - {{at: {FIRST + EVERY * k}, registration_burst: {{netuid: 1, count: 1}}}}"
        for k in range(40)
    )
    return f"""
subnets:
  - netuid: 1
    tempo: 5000
    max_uids: {MINERS + 1}
    immunity_period: 4
    burn_tao: 0.001
    neurons:
      - {{name: v, role: validator, stake_tao: 100, weights: idle}}
{miners}
events:
{events}
"""


async def test_the_eta_page_comes_before_the_pruning_and_predicts_it(tmp_path):
    path = tmp_path / "burst.yaml"
    path.write_text(scenario())
    world = World(Chain(block_time=12.0), load_scenario(path)).build()
    chain = world.chain
    watched = world.hotkey(f"m{MINERS - 1:02d}")
    poller, _, registry = event_poller(chain, WatchPlan(hotkeys=((1, watched),)))

    async def step() -> None:
        chain.step()
        assert await poller.poll()

    for _ in range(8):  # past genesis immunity, before the registrations start
        await step()
    sn = chain.subnet(1)
    assert len(sn.neurons) == sn.max_uids
    knobs = {
        **FAST_ALERTMANAGER,
        "eviction_rate_window": "20s",
        "eviction_eta_seconds": 25,
        "eviction_eta_for": "0s",
    }
    async with serving_registry(registry) as target:
        settings = StackSettings(targets={"taowatch-agent": [target]}, overrides=knobs)
        async with Receiver() as receiver, Stack(settings, receiver) as stack:
            await stack.wait_for_query(
                f'bittensor_neuron_registrations_until_pruned{{hotkey="{watched}"}}', DEADLINE
            )
            page_at = predicted = None
            pruned_at = None
            deadline = time.monotonic() + 4 * DEADLINE
            while pruned_at is None and time.monotonic() < deadline:
                started = time.monotonic()
                await step()
                if watched not in chain.subnet(1).uids:
                    pruned_at = time.time()
                if page_at is None and any(
                    n.service == PAGERDUTY and n.mentions("BittensorNeuronEvictionSoon")
                    for n in receiver.notifications
                ):
                    page_at = time.time()
                    rows = await stack.query(
                        f'neuron:bittensor_neuron_eviction_eta:seconds{{hotkey="{watched}"}}'
                    )
                    predicted = page_at + float(rows[0]["value"][1])
                await asyncio.sleep(max(0.0, BLOCK_SECONDS - (time.monotonic() - started)))
            assert pruned_at is not None, "the watched miner was never pruned"
            assert page_at is not None and page_at < pruned_at, "no page before the pruning"
            gap = EVERY * BLOCK_SECONDS
            eta = predicted - page_at
            error = abs(predicted - pruned_at)
            print(f"\nETA page {pruned_at - page_at:.1f} s before the pruning; error {error:.1f} s")
            # The README's stated error: one registration gap, the rate's quantisation over
            # the window (a count of registrations: ETA x gap / window), and the scrape and
            # rule intervals (1 s each) the page and the query lag behind the chain.
            assert error <= gap + eta * gap / 20 + 2.0
    await poller.close()
