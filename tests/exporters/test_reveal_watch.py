"""The agent's reveal watch (exporters/reveal_watch.py): a watched validator's commits told
apart from chain storage as pending, revealed or missed, with simnet's ``unopenable_commit``
fault making the chain fail to open one."""

from __future__ import annotations

import bittensor as bt
import bittensor_core
import pytest

from exporters.chain import WatchPlan
from simnet.testing import sim_client, small_world
from tests.support.exporters import make_poller


@pytest.fixture
def world():
    world = small_world(block_time=0.25)
    world.chain.set_hyperparameter(world.netuid, "commit_reveal", True)
    for _ in range(world.chain.subnet(world.netuid).tempo + 2):  # permits handed out
        world.chain.step()
    return world


def counts(reg, netuid: int, hotkey: str) -> tuple[float | None, ...]:
    labels = {"netuid": str(netuid), "hotkey": hotkey}
    return tuple(
        reg.get_sample_value(name, labels)
        for name in (
            "bittensor_neuron_weight_commits_pending",
            "bittensor_neuron_weight_reveals_total",
            "bittensor_neuron_weight_reveals_missed_total",
        )
    )


async def test_a_commit_the_chain_fails_to_open_is_missed_and_the_next_revealed(world, monkeypatch):
    chain, netuid, validator = world.chain, world.netuid, world.validators[0]
    hotkey = validator.hotkey.ss58_address
    real = bittensor_core.get_encrypted_commit_v2
    monkeypatch.setattr(bittensor_core, "get_encrypted_commit_v2", chain.timelock_escrow.wrap(real))
    poller, _, reg = make_poller(chain, WatchPlan(hotkeys=((netuid, hotkey),)))
    assert await poller.poll()
    assert counts(reg, netuid, hotkey) == (0, 0, 0)  # every series from the first poll
    chain.commit_reveal.fail_to_open(netuid, hotkey)
    async with sim_client(chain) as client:

        async def commit_and_follow() -> None:
            result = await client.execute(bt.SetWeights(netuid, weights={3: 1.0}), validator)
            assert result.success, result.message
            chain.step()
            assert await poller.poll()
            assert counts(reg, netuid, hotkey)[0] == 1  # pending, inside its window
            while counts(reg, netuid, hotkey)[0]:
                chain.step()
                assert await poller.poll()

        await commit_and_follow()
        assert counts(reg, netuid, hotkey) == (0, 0, 1)
        for _ in range(chain.subnet(netuid).weights_rate_limit + 1):
            chain.step()
        await commit_and_follow()
    assert counts(reg, netuid, hotkey) == (0, 1, 1)
