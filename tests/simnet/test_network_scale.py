"""Whole-network pieces at small size: simnet's generated ``scale:`` worlds and the poller's
bound on subnets read at once (the big world itself is for bench/bench_network.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from common.config import ConfigError, load_config
from exporters.chain import ChainPoller, WatchPlan
from exporters.deregistration import AgentState
from exporters.endpoints import EndpointPool
from simnet.scenario import Scenario, World
from simnet.state import Chain
from simnet.substrate import SimSubstrate
from simnet.testing import in_process_backends


def generated(**scale: Any) -> tuple[Chain, World]:
    chain = Chain(block_time=12.0)
    world = World(chain, Scenario(scale=scale)).build()
    chain.step(1)
    return chain, world


def test_a_scale_block_generates_full_subnets_with_staked_validators():
    chain, world = generated(subnets=3, neurons=10, validators=2, first_netuid=4)
    assert [chain.subnet(n).n for n in (4, 5, 6)] == [10, 10, 10]
    assert chain.subnet(5).neurons[3].hotkey == world.names["g5-3"]
    stakes = {i: chain.stake_alpha(4, world.names[f"g4-{i}"]) for i in range(4)}
    assert stakes[0] > 0 and stakes[1] > 0 and stakes[2] == stakes[3] == 0


def test_generated_keys_are_the_same_in_every_build():
    _, first = generated(subnets=1, neurons=4, validators=1)
    _, second = generated(subnets=1, neurons=4, validators=1)
    assert first.names == second.names
    assert len(set(first.names.values())) == 4


def test_generated_subnets_follow_the_written_ones(tmp_path):
    path = tmp_path / "world.yaml"
    path.write_text(
        "subnets: [{netuid: 1}]\nscale: {subnets: 2, neurons: 3, validators: 1, first_netuid: 2}\n"
    )
    scenario = load_config(Scenario, path)
    assert [s.netuid for s in scenario.all_subnets] == [1, 2, 3]


def test_a_scale_block_overlapping_written_subnets_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "world.yaml"
    path.write_text("subnets: [{netuid: 1}]\nscale: {subnets: 2}\n")
    with pytest.raises(ConfigError, match="start it after the written subnets"):
        load_config(Scenario, path)


def test_a_scale_block_with_more_validators_than_neurons_is_refused(tmp_path):
    path = tmp_path / "world.yaml"
    path.write_text("scale: {subnets: 1, neurons: 4, validators: 5}\n")
    with pytest.raises(ConfigError, match=r"scale.*validators \(5\) exceeds neurons \(4\)"):
        load_config(Scenario, path)


class InFlight:
    """Wraps a Substrate and records the most runtime calls ever waiting at once."""

    def __init__(self, inner: Any):
        self._inner = inner
        self.now = 0
        self.most = 0

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if name != "runtime_call":
            return target

        async def wrapped(*args: Any, **kwargs: Any) -> Any:
            self.now += 1
            self.most = max(self.most, self.now)
            try:
                # A round trip counted in loop turns, not seconds, so how far the reads
                # overlap does not depend on how busy the machine is.
                for _ in range(100):
                    await asyncio.sleep(0)
                return await target(*args, **kwargs)
            finally:
                self.now -= 1

        return wrapped


async def most_runtime_calls_at_once(chain: Chain, netuids: int, **poller: Any) -> int:
    sub = InFlight(SimSubstrate(chain))
    pool = EndpointPool.over(["sim://test:1"], in_process_backends(every=sub))
    p = ChainPoller(
        WatchPlan(export_all=frozenset(range(1, netuids + 1))),
        pool,
        AgentState(None),
        **poller,
    )
    try:
        assert await p.poll(), p.status.last_error
        assert len(p.snapshot.subnets) == netuids
    finally:
        await p.close()
    return sub.most


async def test_a_poll_reads_no_more_subnets_at_once_than_configured():
    chain, _ = generated(subnets=8, neurons=3, validators=1)
    # Two runtime calls per subnet (neurons.all + metagraph), and beside them the poll's one
    # chain-wide runtime call (get_all_dynamic_info, for the emission ranking).
    assert await most_runtime_calls_at_once(chain, 8, max_concurrent_subnets=2) <= 2 * 2 + 1
    assert await most_runtime_calls_at_once(chain, 8, max_concurrent_subnets=8) > 2 * 2 + 1


def test_a_poller_needs_at_least_one_subnet_at_a_time():
    with pytest.raises(ValueError, match="at least 1"):
        ChainPoller(WatchPlan(), None, AgentState(None), max_concurrent_subnets=0)
