"""``taowatch agent --adopt-chain``: adopt the chain the endpoints serve, or say why not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent.adopt import adopt, describe
from agent.config import AgentConfig
from exporters.chain_trust import AdoptionRefused
from exporters.deregistration import DeregistrationTracker, chain_identity
from simnet.state import Chain
from simnet.substrate import SimSubstrate
from simnet.testing import dev_wallet, in_process_backends, small_world


def config(**extra: Any) -> AgentConfig:
    data = {
        "chain": {"network": "sim://node:1", "fallback_networks": ["sim://node:2"]},
        "watch": [{"netuid": 1, "hotkeys": [dev_wallet("Bob").hotkey.ss58_address]}],
        **extra,
    }
    return AgentConfig.model_validate(data)


def trusting(state: Path, chain: Chain) -> DeregistrationTracker:
    """A state file anchored on ``chain`` at its head, as a running agent leaves it."""
    tracker = DeregistrationTracker(state)
    tracker.trust(chain.block_hash(0), chain.head, chain.block_hash(chain.head))
    tracker.save()
    return tracker


async def test_adoption_is_refused_while_an_endpoint_still_serves_the_trusted_chain(tmp_path):
    world = small_world(validators=1, miners=1)
    state = tmp_path / "state.json"
    trusting(state, world.chain)
    other = Chain(seed=7)
    other.step(world.chain.head + 5)
    backends = in_process_backends(
        {"sim://node:1": SimSubstrate(other), "sim://node:2": SimSubstrate(world.chain)}
    )
    saved = state.read_bytes()

    with pytest.raises(AdoptionRefused, match="sim://node:2 still serve the chain"):
        await adopt(config(state_file=str(state)), backends=backends)
    assert state.read_bytes() == saved


async def test_adoption_is_refused_when_the_endpoints_serve_different_chains(tmp_path):
    world = small_world(validators=1, miners=1)
    state = tmp_path / "state.json"
    trusting(state, world.chain)
    one, two = Chain(seed=7), Chain(seed=8)
    backends = in_process_backends(
        {"sim://node:1": SimSubstrate(one), "sim://node:2": SimSubstrate(two)}
    )
    with pytest.raises(AdoptionRefused, match="the endpoints serve different chains"):
        await adopt(config(state_file=str(state)), backends=backends)


async def test_without_a_state_file_there_is_nothing_to_adopt():
    with pytest.raises(AdoptionRefused, match="state_file is not set"):
        await adopt(config())


async def test_adopting_a_reset_chain_anchors_the_state_file_on_it_and_keeps_the_old_one(tmp_path):
    world = small_world(validators=1, miners=1)
    state = tmp_path / "state.json"
    old = trusting(state, world.chain).chain
    reset = Chain(genesis_nonce="reset")
    reset.step(4)
    backends = in_process_backends(every=SimSubstrate(reset))

    adoption = await adopt(config(state_file=str(state)), backends=backends)

    assert adoption.verdict == "changed"
    assert adoption.chain == chain_identity(reset.block_hash(0), reset.head) != old
    saved = json.loads(state.read_text())
    assert saved["chain"] == adoption.chain
    assert saved["anchor"] == {
        "genesis": reset.block_hash(0),
        "block": reset.head,
        "hash": reset.block_hash(reset.head),
    }
    assert saved["neurons"] == {}
    assert json.loads(adoption.archived.read_text())["chain"] == old
    assert describe(adoption).startswith(f"adopted chain {adoption.chain} served by sim://node:1")
