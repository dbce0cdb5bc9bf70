"""The ``unopenable_commit`` scenario fault: the chain fails to open the next commits of a
hotkey (or any) on a subnet at their reveal (simnet/commit_reveal.py)."""

from __future__ import annotations

import pytest

from simnet.scenario import Scenario, World
from simnet.state import Chain


def world_with(event: dict) -> World:
    scenario = Scenario.model_validate(
        {
            "subnets": [
                {
                    "netuid": 1,
                    "commit_reveal": True,
                    "neurons": [{"name": "v", "role": "validator", "stake_tao": 10}],
                }
            ],
            "events": [{"at": 3, "unopenable_commit": event}],
        }
    )
    return World(Chain(), scenario).build()


def test_the_event_arms_the_chain_for_that_hotkey_or_any():
    world = world_with({"netuid": 1, "hotkey": "v", "count": 2})
    while world.chain.head < 3:
        world.chain.step()
    assert world.chain.commit_reveal.unopenable == {(1, world.hotkey("v")): 2}
    anyone = world_with({"netuid": 1})
    while anyone.chain.head < 3:
        anyone.chain.step()
    assert anyone.chain.commit_reveal.unopenable == {(1, None): 1}


def test_an_unknown_hotkey_name_is_refused_naming_the_event():
    with pytest.raises(ValueError, match="unopenable_commit"):
        world_with({"netuid": 1, "hotkey": "nobody"})
