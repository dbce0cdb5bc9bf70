"""An endpoint that comes back rewound or serving another chain: never a deregistration.

The poller reads through a substrate that can be swapped under a running client, as when
the node behind an unchanged URL is resynced from scratch, or restarted as a fresh dev chain,
or misrouted to another chain.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from prometheus_client import CollectorRegistry

from exporters.chain import ChainPoller, WatchPlan
from exporters.collector import ChainCollector
from exporters.deregistration import DeregistrationTracker
from exporters.endpoints import EndpointPool
from simnet.state import Chain
from simnet.substrate import SimSubstrate
from simnet.testing import World, in_process_backends, small_world


class SwappableSubstrate:
    """Forwards to ``inner``, which a test replaces to put another node behind the URL."""

    def __init__(self, inner: Any):
        object.__setattr__(self, "inner", inner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "inner":
            object.__setattr__(self, name, value)
        else:
            setattr(self.inner, name, value)


class Watched(NamedTuple):
    """A poller watching the miners of ``world`` through a node a test can swap."""

    world: World
    state: Path
    poller: ChainPoller
    sub: SwappableSubstrate
    reg: CollectorRegistry
    hk: str


@pytest.fixture
def watched(tmp_path: Path) -> Watched:
    world = small_world(validators=1, miners=2, tempo=10, max_uids=6)
    world.chain.step(20)  # well past the lag a lagging node is forgiven
    plan = WatchPlan(hotkeys=tuple((world.netuid, w.hotkey.ss58_address) for w in world.miners))
    sub = SwappableSubstrate(SimSubstrate(world.chain))
    pool = EndpointPool.over(["sim://node:1"], in_process_backends(every=sub))
    state = tmp_path / "state.json"
    poller = ChainPoller(plan, pool, DeregistrationTracker(state))
    reg = CollectorRegistry()
    reg.register(ChainCollector(poller))
    return Watched(world, state, poller, sub, reg, plan.hotkeys[0][1])


def val(registry: CollectorRegistry, name: str, **labels: Any) -> float | None:
    return registry.get_sample_value(name, {k: str(v) for k, v in labels.items()})


async def test_a_different_chain_behind_the_url_counts_nothing_and_reports_a_changed_chain(
    watched: Watched,
):
    world, state, poller, sub, reg, hk = watched
    assert await poller.poll()
    saved = state.read_bytes()
    trusted = world.chain.head
    assert val(reg, "bittensor_neuron_registered", netuid=world.netuid, hotkey=hk) == 1

    # Another chain, ahead in height, where the watched hotkeys were never registered.
    other = Chain(seed=7)
    other.step(world.chain.head + 50)
    sub.inner = SimSubstrate(other)
    for _ in range(3):
        other.step()
        assert await poller.poll()

    assert val(reg, "bittensor_exporter_chain_mismatch", kind="changed") == 1
    assert val(reg, "bittensor_exporter_chain_mismatch", kind="rewound") == 0
    assert val(reg, "bittensor_exporter_chain_mismatches_total", kind="changed") == 1
    # The last trusted values, not the other chain's 0: no deregistration, the state file
    # untouched, and the values say which block they are from.
    assert val(reg, "bittensor_neuron_registered", netuid=world.netuid, hotkey=hk) == 1
    assert val(reg, "bittensor_exporter_source_block") == trusted
    assert poller.tracker.count(world.netuid, hk) == 0
    assert state.read_bytes() == saved
    # The chain-stall logic follows the head this endpoint really has.
    assert val(reg, "bittensor_chain_head_block") == other.head

    # The right node again: trusted, nothing counted, the mismatch cleared.
    sub.inner = SimSubstrate(world.chain)
    world.chain.step()
    assert await poller.poll()
    assert val(reg, "bittensor_exporter_chain_mismatch", kind="changed") == 0
    assert val(reg, "bittensor_exporter_source_block") == world.chain.head
    assert val(reg, "bittensor_neuron_registered", netuid=world.netuid, hotkey=hk) == 1
    assert val(reg, "bittensor_neuron_deregistrations_total", netuid=world.netuid, hotkey=hk) == 0


async def test_a_node_resyncing_from_scratch_is_rewound_until_it_passes_the_trusted_block(
    watched: Watched,
):
    world, state, poller, sub, reg, hk = watched
    assert await poller.poll()
    trusted = world.chain.head

    # The same chain (same seed, so the same genesis and block hashes) from block 1 again.
    resyncing = Chain()
    sub.inner = SimSubstrate(resyncing)
    assert await poller.poll()
    assert poller.status.chain_mismatch == "rewound"
    assert val(reg, "bittensor_exporter_chain_mismatches_total", kind="rewound") == 1
    assert val(reg, "bittensor_chain_head_block") == resyncing.head
    first_seen = val(reg, "bittensor_chain_head_timestamp_seconds")
    resyncing.step(3)
    assert await poller.poll()
    # A head moving forward below the trusted block is still a moving head: no stall.
    assert val(reg, "bittensor_chain_head_block") == resyncing.head
    assert val(reg, "bittensor_chain_head_timestamp_seconds") >= first_seen
    assert poller.tracker.count(world.netuid, hk) == 0

    # Synced again: the hash at the trusted height matches, and evidence counts again.
    sub.inner = SimSubstrate(world.chain)
    world.chain.step()
    assert world.chain.head > trusted
    assert await poller.poll()
    assert poller.status.chain_mismatch is None
    assert val(reg, "bittensor_neuron_registered", netuid=world.netuid, hotkey=hk) == 1
    anchor = json.loads(state.read_text())["anchor"]
    assert anchor["block"] == world.chain.head


async def test_a_node_a_few_blocks_behind_keeps_the_trusted_values_and_raises_nothing(
    watched: Watched,
):
    world, _, poller, sub, reg, hk = watched
    world.chain.step(3)
    assert await poller.poll()
    behind = Chain()
    behind.step(world.chain.head - 3)
    sub.inner = SimSubstrate(behind)
    assert await poller.poll()
    assert val(reg, "bittensor_exporter_chain_mismatch", kind="rewound") == 0
    assert val(reg, "bittensor_neuron_registered", netuid=world.netuid, hotkey=hk) == 1
    assert val(reg, "bittensor_chain_head_block") == behind.head


def neuron_samples(registry: CollectorRegistry) -> dict[tuple, float]:
    """Every neuron and subnet sample, by name and labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in registry.collect()
        for s in family.samples
        if s.name.startswith(("bittensor_neuron_", "bittensor_subnet_"))
    }


async def test_a_rewound_endpoint_keeps_every_neuron_value_of_the_last_trusted_block(
    watched: Watched,
):
    world, _, poller, sub, reg, hk = watched
    assert await poller.poll()
    trusted = world.chain.head
    before = neuron_samples(reg)
    chain_info = val(reg, "bittensor_exporter_trusted_chain_info", chain=poller.tracker.chain)

    resyncing = Chain()
    resyncing.step(2)
    sub.inner = SimSubstrate(resyncing)
    for _ in range(3):
        resyncing.step()
        assert await poller.poll()

    # Nothing an alert reads moves or goes: the values are the trusted block's, marked so.
    assert poller.status.chain_mismatch == "rewound"
    assert neuron_samples(reg) == before
    assert val(reg, "bittensor_exporter_chain_mismatch", kind="rewound") == 1
    assert val(reg, "bittensor_exporter_source_block") == trusted
    assert val(reg, "bittensor_chain_head_block") == resyncing.head
    # The same trusted history before, during and after: the rules' chain label holds.
    assert chain_info == 1
    assert val(reg, "bittensor_exporter_trusted_chain_info", chain=poller.tracker.chain) == 1

    sub.inner = SimSubstrate(world.chain)
    world.chain.step()
    assert await poller.poll()
    assert poller.status.chain_mismatch is None
    assert val(reg, "bittensor_exporter_trusted_chain_info", chain=poller.tracker.chain) == 1
    assert poller.tracker.count(world.netuid, hk) == 0


async def test_adopting_another_chain_under_a_running_poller_starts_a_new_history_counting_nothing(
    watched: Watched, tmp_path: Path
):
    from exporters.chain_trust import AdoptionRefused, adopt_chain, check_chain

    world, state, poller, sub, reg, hk = watched
    assert await poller.poll()
    old_chain = poller.tracker.chain
    ep = poller.pool.endpoints[0]

    # Adopting the chain the agent already trusts is refused.
    await poller.pool.probe()
    same = await check_chain(ep.memo, poller.tracker.anchor, ep.head, lag_blocks=10)
    with pytest.raises(AdoptionRefused, match="already trusts"):
        adopt_chain(state, ep.label, same, ep.head)

    # A reset dev chain where the watched miners never registered.
    other = Chain(seed=7)
    other.step(world.chain.head + 5)
    sub.inner = SimSubstrate(other)
    assert await poller.poll()
    assert poller.status.chain_mismatch == "changed"

    await poller.pool.probe()
    check = await check_chain(ep.memo, poller.tracker.anchor, ep.head, lag_blocks=10)
    adoption = adopt_chain(state, ep.label, check, ep.head, clock=lambda: 1700000000)
    assert adoption.verdict == "changed"
    assert adoption.archived == state.with_name(
        f"{state.name}.{old_chain.replace('@', '-')}.1700000000"
    )
    assert json.loads(adoption.archived.read_text())["chain"] == old_chain

    # The running poller takes the new file up at its next poll: trusted, a new chain
    # label, the miners unregistered there and nothing counted as a deregistration.
    other.step()
    assert await poller.poll()
    assert poller.status.chain_mismatch is None
    assert poller.tracker.chain == adoption.chain != old_chain
    assert val(reg, "bittensor_exporter_trusted_chain_info", chain=adoption.chain) == 1
    assert val(reg, "bittensor_exporter_trusted_chain_info", chain=old_chain) is None
    assert val(reg, "bittensor_neuron_registered", netuid=world.netuid, hotkey=hk) == 0
    assert val(reg, "bittensor_neuron_deregistrations_total", netuid=world.netuid, hotkey=hk) == 0
    assert json.loads(state.read_text())["chain"] == adoption.chain
