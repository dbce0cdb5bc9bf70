"""Simulated validators on a commit-reveal subnet commit their weights; the chain reveals them."""

from __future__ import annotations

import pytest

from simnet.scenario import Scenario, World
from simnet.state import Chain
from simnet.testing import sim_client


def world(*, commit_reveal: bool, yuma3: bool) -> tuple[Chain, World]:
    scenario = Scenario.model_validate(
        {
            "subnets": [
                {
                    "netuid": 1,
                    "tempo": 10,
                    "weights_rate_limit": 2,
                    "commit_reveal": commit_reveal,
                    "yuma3": yuma3,
                    "neurons": [
                        {"name": "v1", "role": "validator", "stake_tao": 100, "every": 3},
                        {"name": "m1", "role": "miner", "quality": 0.9},
                        {"name": "m2", "role": "miner", "quality": 0.2},
                    ],
                }
            ]
        }
    )
    chain = Chain(block_time=1)
    return chain, World(chain, scenario).build()


def events_named(chain: Chain, name: str) -> list:
    return [
        ev
        for n in range(max(1, chain.head - 40), chain.head + 1)
        for ev in chain.record(n).events
        if ev.event == name
    ]


@pytest.mark.parametrize("yuma3", [True, False], ids=["yuma3", "original-yuma"])
async def test_a_commit_reveal_subnet_gets_the_weights_only_after_the_reveal_period(yuma3):
    chain, w = world(commit_reveal=True, yuma3=yuma3)
    v1 = w.hotkey("v1")
    chain.step(4)  # block 3: v1 commits
    assert events_named(chain, "TimelockedWeightsCommitted")
    async with sim_client(chain) as client:
        pending = await client.weights.timelocked_weight_commits(1)
    assert pending, "the commit is queued, not applied"
    uid = chain.subnet(1).uids[v1]
    assert chain.subnet(1).neurons[uid].weights == ()
    chain.step(25)  # past the reveal period (one epoch of tempo 10)
    assert events_named(chain, "TimelockedWeightsRevealed")
    weights = dict(chain.subnet(1).neurons[uid].weights)
    m1, m2 = (chain.subnet(1).uids[w.hotkey(name)] for name in ("m1", "m2"))
    assert weights[m1] > weights[m2] > 0


async def test_a_subnet_without_commit_reveal_gets_the_weights_at_once():
    chain, w = world(commit_reveal=False, yuma3=False)
    chain.step(4)
    uid = chain.subnet(1).uids[w.hotkey("v1")]
    assert chain.subnet(1).neurons[uid].weights != ()
    assert not events_named(chain, "TimelockedWeightsCommitted")
