"""simnet as an older runtime (simnet/runtime.py): a lacking item fails with the SDK's own
StorageFunctionNotFound, in process and over the wire, and a scenario event upgrades it."""

from __future__ import annotations

import bittensor as bt
import pytest
from bittensor._transport.errors import StorageFunctionNotFound

from common.chain import make_client
from simnet.runtime import OLDER_RUNTIME_LACKS
from simnet.scenario import Scenario, World
from simnet.server import SimnetServer
from simnet.state import Chain
from simnet.substrate import SimSubstrate

SM = bt.storage.SubtensorModule


def older_world(**extra) -> World:
    scenario = Scenario.model_validate(
        {
            "block_time": 12,
            "subnets": [{"netuid": 1, "tempo": 10, "max_uids": 8}],
            "runtime": {"spec_version": 293, "lacks": list(OLDER_RUNTIME_LACKS)},
            **extra,
        }
    )
    return World(Chain(), scenario).build()


async def test_an_older_runtime_lacks_its_items_and_answers_the_rest():
    world = older_world()
    sub = SimSubstrate(world.chain)
    assert await sub.spec_version() == 293
    for name in OLDER_RUNTIME_LACKS:
        pallet, item = name.split(".")
        with pytest.raises(StorageFunctionNotFound, match=item):
            await sub.query_map(pallet, item)
    assert await sub.query_map("SubtensorModule", "Yuma3On") == [(1, False)]


async def test_a_served_older_runtime_raises_the_sdks_own_error_through_the_client(aiohttp_server):
    world = older_world()
    server = await aiohttp_server(SimnetServer(SimSubstrate(world.chain)).app())
    async with make_client(f"sim://127.0.0.1:{server.port}") as client:
        snap = await client.at()
        with pytest.raises(StorageFunctionNotFound, match="MechanismCountCurrent"):
            await snap.query_map(SM.MechanismCountCurrent)
        assert await client.spec_version() == 293
        assert await snap.query_map(SM.Yuma3On) == [(1, False)]
    status = await SimnetServer(SimSubstrate(world.chain))._admin_status()
    assert status["runtime"] == {"spec_version": 293, "lacks": sorted(OLDER_RUNTIME_LACKS)}


async def test_a_scenario_upgrade_raises_the_version_adds_one_item_and_removes_another():
    world = older_world(
        events=[
            {
                "at": 5,
                "runtime_upgrade": {
                    "spec_version": 300,
                    "adds": ["SubtensorModule.MinNonImmuneUids"],
                    "removes": ["SubtensorModule.Yuma3On"],
                },
            }
        ]
    )
    chain, sub = world.chain, SimSubstrate(world.chain)
    while chain.head < 5:
        chain.step()
    assert await sub.spec_version() == 300
    assert await sub.query_map("SubtensorModule", "MinNonImmuneUids") == [(1, 0)]
    with pytest.raises(StorageFunctionNotFound):
        await sub.query_map("SubtensorModule", "Yuma3On")
    assert any("runtime upgraded: spec 293" in what for _, what in world.log)


def test_an_upgrade_to_a_version_not_above_the_running_one_is_refused_with_the_field():
    world = older_world(events=[{"at": 3, "runtime_upgrade": {"spec_version": 293}}])
    while world.chain.head < 3:
        world.chain.step()
    assert world.chain.runtime.spec_version == 293
    assert any("runtime_upgrade.spec_version 293 must be above" in w for _, w in world.log)


def test_a_lacking_item_named_twice_or_badly_is_a_config_error():
    with pytest.raises(ValueError, match="each storage item may be named once"):
        Scenario.model_validate({"runtime": {"lacks": ["A.B", "A.B"]}})
    with pytest.raises(ValueError, match="lacks"):
        Scenario.model_validate({"runtime": {"lacks": ["MinNonImmuneUids"]}})
