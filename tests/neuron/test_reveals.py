"""The validator's view of its own commits: counted at the commit, seen revealed on chain,
drained from the unrevealed gauge whether revealed or dropped."""

from __future__ import annotations

import bittensor as bt
import bittensor_core
import pytest

from neuron.reveals import RevealTracker
from simnet.testing import sim_client, small_world


@pytest.fixture
def world():
    world = small_world(block_time=0.25)
    world.chain.set_hyperparameter(world.netuid, "commit_reveal", True)
    world.chain.step()
    return world


def run_to_next_epoch(chain, netuid: int) -> None:
    before = chain.subnet(netuid).epoch_index
    while chain.subnet(netuid).epoch_index == before:
        chain.step()


async def commit(client, world, validator) -> int:
    result = await client.execute(bt.SetWeights(world.netuid, weights={3: 1.0}), validator)
    assert result.success, result.message
    return world.chain.head


async def test_a_revealed_commit_is_seen_at_the_block_the_chain_revealed_it(world, monkeypatch):
    chain, netuid, validator = world.chain, world.netuid, world.validators[0]
    real = bittensor_core.get_encrypted_commit_v2
    monkeypatch.setattr(bittensor_core, "get_encrypted_commit_v2", chain.timelock_escrow.wrap(real))
    async with sim_client(chain) as client:
        tracker = RevealTracker(client, netuid, validator.hotkey.ss58_address)
        assert await tracker.observe(chain.head) == 0
        tracker.committed(await commit(client, world, validator))
        assert await tracker.observe(chain.head) == 0
        assert tracker.state().unrevealed == 1
        committed_at = chain.head
        run_to_next_epoch(chain, netuid)
        chain.step(2)
        assert await tracker.observe(chain.head) == 1
    [revealed_at] = [
        n
        for n in range(committed_at, chain.head + 1)
        if any(e.event == "TimelockedWeightsRevealed" for e in chain.record(n).events)
    ]
    state = tracker.state()
    assert state.unrevealed == 0
    assert state.last_commit_block == committed_at
    assert state.last_reveal_block == revealed_at


async def test_a_commit_the_chain_drops_drains_the_gauge_without_counting_a_reveal(world):
    chain, netuid, validator = world.chain, world.netuid, world.validators[0]
    async with sim_client(chain) as client:  # no escrow: the chain can never open it
        tracker = RevealTracker(client, netuid, validator.hotkey.ss58_address)
        tracker.committed(await commit(client, world, validator))
        run_to_next_epoch(chain, netuid)
        run_to_next_epoch(chain, netuid)
        chain.step()
        assert await tracker.observe(chain.head) == 0
    assert tracker.state().unrevealed == 0
    assert tracker.state().last_reveal_block is None
    assert tracker.state().missed == 1


async def test_a_restarted_validator_counts_the_commits_its_last_run_left_pending(
    world, monkeypatch
):
    chain, netuid, validator = world.chain, world.netuid, world.validators[0]
    real = bittensor_core.get_encrypted_commit_v2
    monkeypatch.setattr(bittensor_core, "get_encrypted_commit_v2", chain.timelock_escrow.wrap(real))
    async with sim_client(chain) as client:
        await commit(client, world, validator)  # made by the previous run
        restarted = RevealTracker(client, netuid, validator.hotkey.ss58_address)
        assert await restarted.observe(chain.head) == 0
        assert restarted.state().unrevealed == 1
        run_to_next_epoch(chain, netuid)
        assert await restarted.observe(chain.head) == 1
    assert restarted.state().unrevealed == 0


async def test_a_commit_the_chain_fails_to_open_is_missed_once_and_the_next_one_revealed(
    world, monkeypatch
):
    chain, netuid, validator = world.chain, world.netuid, world.validators[0]
    real = bittensor_core.get_encrypted_commit_v2
    monkeypatch.setattr(bittensor_core, "get_encrypted_commit_v2", chain.timelock_escrow.wrap(real))
    hotkey = validator.hotkey.ss58_address
    chain.commit_reveal.fail_to_open(netuid, hotkey)  # the scenario's unopenable_commit fault
    async with sim_client(chain) as client:
        tracker = RevealTracker(client, netuid, hotkey)
        tracker.committed(await commit(client, world, validator))
        missed = []
        while tracker.state().unrevealed or not missed:
            chain.step()
            assert await tracker.observe(chain.head) == 0
            missed.append(tracker.missed_last)
        assert sum(missed) == 1 and missed[-1] == 1  # told once, when it left the queue
        assert tracker.state().missed == 1
        # The fault was for one commit: the next one is revealed, and nothing more is missed.
        run_to_next_epoch(chain, netuid)
        tracker.committed(await commit(client, world, validator))
        revealed = 0
        for _ in range(4 * (chain.subnet(netuid).tempo + 1)):
            chain.step()
            revealed += await tracker.observe(chain.head)
    assert revealed == 1
    assert tracker.state().missed == 1
