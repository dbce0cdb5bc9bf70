"""Runtime versions at the node: an older runtime that lacks a later storage item, and a
scripted upgrade mid-run (spec version and metadata change at a block), read through the SDK's
unmodified ``RpcSubstrate``, which resolves each pinned block's runtime from the node."""

from __future__ import annotations

import bittensor as bt
import pytest
from aiohttp import web
from bittensor._transport.errors import StorageFunctionNotFound

from simnet.node import node_server
from simnet.substrate import SimSubstrate
from tests.simnet.test_node import Node, _fresh_metadata_cache  # noqa: F401  (fixture)

CONSENSUS = bt.storage.SubtensorModule.SubnetEpochConsensus  # from spec 474 (chain-today.md)


class VersionedNode(Node):
    def __init__(self, chain, **runtime):
        super().__init__(chain)
        self.server = node_server(SimSubstrate(chain), **runtime)
        self.runner = web.AppRunner(self.server.app())

    async def spec_at(self, block_hash: str) -> int:
        answer = await self.post(
            {"jsonrpc": "2.0", "id": 1, "method": "state_getRuntimeVersion", "params": [block_hash]}
        )
        return answer["result"]["specVersion"]


async def test_an_older_runtime_lacks_the_later_item_and_serves_the_rest(world):
    async with VersionedNode(world.chain, spec_version=441) as node, bt.Client(node.url) as client:
        view = await client.at()
        assert await node.spec_at(world.chain.block_hash(view.block)) == 441
        # What a monitor meets on an old node: the SDK's own codec refuses the item (its
        # transport error, not a ChainError), before any request is sent.
        with pytest.raises(StorageFunctionNotFound, match="SubnetEpochConsensus"):
            await view.query(CONSENSUS, [world.netuid])
        assert len(await view.neurons.all(world.netuid)) == 5


async def test_a_scripted_upgrade_changes_spec_and_metadata_from_its_block(world):
    chain = world.chain
    upgrade_block = chain.head + 3
    runtime = {"spec_version": 441, "upgrade": (upgrade_block, 475)}
    async with VersionedNode(chain, **runtime) as node, bt.Client(node.url) as client:
        before = await client.at()
        chain.step(6)
        after = await client.at()
        assert await node.spec_at(chain.block_hash(before.block)) == 441
        assert await node.spec_at(chain.block_hash(after.block)) == 475
        assert await after.query(CONSENSUS, [world.netuid]) == "Yuma"
        with pytest.raises(StorageFunctionNotFound, match="SubnetEpochConsensus"):
            await before.query(CONSENSUS, [world.netuid])
        assert await before.neurons.all(world.netuid) == await after.neurons.all(world.netuid)
