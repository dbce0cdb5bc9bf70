"""Sharded agents: three agents with shard.count 3 split one simnet world's subnets, and
between them export every subnet and neuron series exactly once, as one unsharded agent does.

All four agents run in process against the same chain in manual mode (no block is produced
while they poll), so every one of them reads the same block.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from agent.app import POLLER_KEY, create_app
from agent.config import AgentConfig, watch_plan
from agent.startup import read_startup
from common.config import ConfigError, load_config
from exporters.chain import WatchPlan
from simnet.scenario import Scenario, World
from simnet.state import Chain
from simnet.substrate import SimSubstrate
from simnet.testing import in_process_backends

SUBNETS = 7  # not a multiple of the shard count, so the shards are uneven


@pytest.fixture
def world() -> World:
    chain = Chain(block_time=12.0)
    scenario = Scenario(scale={"subnets": SUBNETS, "neurons": 6, "validators": 2, "tempo": 5})
    built = World(chain, scenario).build()
    chain.step(12)  # past an epoch, so scores are not all zero
    return built


def config(world: World, shard: dict[str, int] | None) -> AgentConfig:
    data: dict[str, Any] = {
        "chain": {"network": "sim://127.0.0.1:1"},
        "poll": {"interval_seconds": 3600},
        # One watched hotkey per subnet (it gets registered and deregistration series) on
        # top of every neuron of every subnet.
        "watch": [
            {"netuid": n, "hotkeys": [world.names[f"g{n}-3"]]} for n in range(1, SUBNETS + 1)
        ],
        "export_all_neurons": list(range(1, SUBNETS + 1)),
    }
    if shard is not None:
        data["shard"] = shard
    return AgentConfig.model_validate(data)


async def scrape(aiohttp_client, world: World, shard: dict[str, int] | None) -> list[Any]:
    cfg = config(world, shard)
    app = create_app(
        cfg,
        read_startup(cfg, backends=in_process_backends(every=SimSubstrate(world.chain))),
        process_metrics=False,
    )
    http = await aiohttp_client(app)
    poller = app[POLLER_KEY]
    deadline = asyncio.get_running_loop().time() + 20
    while poller.snapshot is None:
        assert asyncio.get_running_loop().time() < deadline, poller.status.last_error
        await asyncio.sleep(0.01)
    text = await (await http.get("/metrics")).text()
    return [s for f in text_string_to_metric_families(text) for s in f.samples]


def key(sample: Any) -> tuple[str, tuple[tuple[str, str], ...]]:
    return sample.name, tuple(sorted(sample.labels.items()))


def per_subnet(samples: list[Any]) -> list[Any]:
    return [s for s in samples if "netuid" in s.labels]


async def test_three_shards_export_every_subnet_series_exactly_once(aiohttp_client, world):
    whole = per_subnet(await scrape(aiohttp_client, world, None))
    shards = [
        per_subnet(await scrape(aiohttp_client, world, {"index": i, "count": 3})) for i in range(3)
    ]

    union = Counter(key(s) for shard in shards for s in shard)
    assert union and max(union.values()) == 1, "a series is exported by two shards"
    assert set(union) == {key(s) for s in whole}
    assert {key(s): s.value for shard in shards for s in shard} == {key(s): s.value for s in whole}


async def test_each_shard_reads_only_the_netuids_its_index_owns(aiohttp_client, world):
    for index in range(3):
        samples = per_subnet(await scrape(aiohttp_client, world, {"index": index, "count": 3}))
        netuids = {int(s.labels["netuid"]) for s in samples}
        assert netuids == {n for n in range(1, SUBNETS + 1) if n % 3 == index}


async def test_every_agent_tells_its_shard_index_and_count(aiohttp_client, world):
    shard = await scrape(aiohttp_client, world, {"index": 2, "count": 3})
    whole = await scrape(aiohttp_client, world, None)

    def shard_series(samples: list[Any]) -> list[tuple[dict[str, str], float]]:
        return [(s.labels, s.value) for s in samples if s.name == "bittensor_exporter_shards"]

    assert shard_series(shard) == [({"shard_index": "2"}, 3.0)]
    assert shard_series(whole) == [({"shard_index": "0"}, 1.0)]


def test_a_shard_index_outside_the_count_is_refused_naming_the_field(tmp_path):
    path = tmp_path / "agent.yaml"
    path.write_text("export_all_neurons: [1]\nshard: {index: 3, count: 3}\n")
    with pytest.raises(ConfigError) as err:
        load_config(AgentConfig, path)
    message = str(err.value)
    assert "agent.yaml" in message and "shard" in message
    assert "number the agents 0 to 2" in message


def test_the_plan_keeps_only_the_shards_netuids_of_hotkeys_and_exports():
    cfg = AgentConfig.model_validate(
        {"export_all_neurons": [1, 2, 3, 4, 5, 6], "shard": {"index": 1, "count": 2}}
    )
    plan = watch_plan(cfg)
    assert plan.fixed_netuids() == {1, 3, 5}
    assert [plan.owns(n) for n in (0, 1, 2, 65535)] == [False, True, False, True]


def test_a_plan_cannot_be_built_with_an_index_outside_its_count():
    with pytest.raises(ValueError, match=r"not in 0\.\.1"):
        WatchPlan(shard_index=2, shard_count=2)
