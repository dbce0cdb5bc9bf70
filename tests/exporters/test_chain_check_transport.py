"""The chain check over the SDK's real WebSocket transport, where the node behind one URL is
reset, rewound and replaced: every verdict comes from the node, never from a cache.

The SDK's ``RpcSubstrate`` -> ``SubstrateConnection`` -> ``RpcSession`` run unchanged; only
the socket is fake, through the session's own seam (``connect_factory``): a JSON-RPC node
serving block hashes and headers of a simnet ``Chain`` that a test swaps, dropping the
connection as a restarted node would. It finalizes instantly, so the SDK caches every
number -> hash it sees (its LRU keeps finalized heights only) and keeps them across the
reconnect. Neuron reads go to simnet in process (the fake node serves no runtime metadata),
always to the chain the node serves.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from bittensor import RpcSubstrate
from bittensor._transport.interface import SubstrateConnection

from exporters.chain import ChainPoller, WatchPlan
from exporters.deregistration import DeregistrationTracker
from exporters.endpoints import EndpointPool
from simnet.state import Chain
from simnet.substrate import SimSubstrate
from simnet.testing import in_process_backends, small_world

URL = "ws://node.invalid:9944"


class FakeSocket:
    """One WebSocket connection to :class:`FakeNode` (the SDK's ``WsConnection`` slice)."""

    def __init__(self, node: FakeNode):
        self.node = node
        self.inbox: asyncio.Queue[str | Exception] = asyncio.Queue()

    async def send(self, message: str) -> None:
        frame = json.loads(message)
        replies = [self.node.answer(f) for f in frame] if isinstance(frame, list) else None
        self.inbox.put_nowait(
            json.dumps(replies if replies is not None else self.node.answer(frame))
        )

    async def recv(self) -> str:
        item = await self.inbox.get()
        if isinstance(item, Exception):
            raise item
        return item

    async def close(self) -> None:
        self.node.sockets.discard(self)


class FakeNode:
    """Block hashes and headers of ``chain`` over JSON-RPC; finalized up to its head."""

    def __init__(self, chain: Chain):
        self.chain = chain
        self.sockets: set[FakeSocket] = set()
        self.methods: list[str] = []

    async def connect(self, url: str) -> FakeSocket:
        assert url == URL
        socket = FakeSocket(self)
        self.sockets.add(socket)
        return socket

    def serve(self, chain: Chain) -> None:
        """Another node behind the URL: open connections drop, the client reconnects."""
        self.chain = chain
        for socket in list(self.sockets):
            socket.inbox.put_nowait(ConnectionResetError("node restarted"))
        self.sockets.clear()

    def answer(self, frame: dict) -> dict:
        method, params = frame["method"], frame.get("params") or []
        self.methods.append(method)
        chain = self.chain
        if method == "chain_getBlockHash":
            n = params[0] if params and params[0] is not None else chain.head
            result: Any = chain.block_hash(n) if n <= chain.head else None
        elif method in ("chain_getHead", "chain_getFinalizedHead"):
            result = chain.block_hash(chain.head)
        elif method == "chain_getHeader":
            n = chain.head if not params or params[0] is None else chain.ledger.block_of(params[0])
            result = {"number": hex(n), "parentHash": chain.block_hash(max(n - 1, 0))}
        else:
            return {
                "jsonrpc": "2.0",
                "id": frame["id"],
                "error": {"code": -32601, "message": method},
            }
        return {"jsonrpc": "2.0", "id": frame["id"], "result": result}


class ConnectionWithoutMetadata(SubstrateConnection):
    async def initialize(self) -> None:
        # The SDK warms its runtime codec here, from the runtime's metadata, which no block
        # hash or header needs and this node does not serve: the session opens on first use.
        await self.get_chain_head()


class NodeRpcSubstrate(RpcSubstrate):
    """The SDK's RPC substrate, its connection dialled through the fake node."""

    def __init__(self, node: FakeNode):
        super().__init__(URL)
        self.node = node

    def _interface(self, endpoint: str, fallbacks: list[str]) -> SubstrateConnection:
        return ConnectionWithoutMetadata(
            endpoint, fallback_urls=fallbacks, connect_factory=self.node.connect
        )


class SplitSubstrate:
    """Block identity (hashes, head, finalized head, ``raw``) from the SDK's transport;
    every other read from simnet, on the chain the node serves."""

    RPC = frozenset({"block_hash", "block_number", "finalized_block_number", "raw"})

    def __init__(self, rpc: NodeRpcSubstrate):
        object.__setattr__(self, "rpc", rpc)

    async def connect(self) -> None:
        await self.rpc.connect()

    async def close(self) -> None:
        await self.rpc.close()

    def __getattr__(self, name: str) -> Any:
        if name in self.RPC:
            return getattr(self.rpc, name)
        return getattr(SimSubstrate(self.rpc.node.chain), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.rpc, name, value)


@pytest.fixture
async def over_the_transport(tmp_path: Path):
    world = small_world(validators=1, miners=2, tempo=10, max_uids=6)
    world.chain.step(20)
    node = FakeNode(world.chain)
    rpc = NodeRpcSubstrate(node)
    plan = WatchPlan(hotkeys=tuple((world.netuid, w.hotkey.ss58_address) for w in world.miners))
    pool = EndpointPool.over(["sim://node:1"], in_process_backends(every=SplitSubstrate(rpc)))
    poller = ChainPoller(plan, pool, DeregistrationTracker(tmp_path / "state.json"))
    yield world, node, rpc, poller
    await poller.close()


async def verdict(poller: ChainPoller) -> str:
    assert await poller.poll(), poller.status.last_error
    return poller.status.chain_mismatch or "trusted"


async def test_a_reset_rewound_and_replaced_node_behind_one_url_is_judged_from_the_node_each_time(
    over_the_transport,
):
    world, node, _, poller = over_the_transport
    watched = list(poller.plan.hotkeys)
    assert await verdict(poller) == "trusted"

    # A dev chain restarted behind the URL: another genesis, a low head.
    node.serve(Chain(genesis_nonce="reset"))
    assert await verdict(poller) == "changed"
    node.serve(world.chain)
    world.chain.step()
    assert await verdict(poller) == "trusted"

    # The same chain resyncing from scratch: far behind the trusted block.
    resyncing = Chain()
    resyncing.step(3)
    node.serve(resyncing)
    assert await verdict(poller) == "rewound"
    node.serve(world.chain)
    world.chain.step()
    assert await verdict(poller) == "trusted"

    # A stall (the trusted height is the head, finalized, in every cache), then another
    # chain ahead in height where one watched miner never registered.
    assert await verdict(poller) == "trusted"
    other = small_world(validators=1, miners=1, tempo=10, max_uids=6, seed=7).chain
    other.step(world.chain.head + 5 - other.head)
    node.serve(other)
    assert await verdict(poller) == "changed"
    node.serve(world.chain)
    world.chain.step()
    assert await verdict(poller) == "trusted"

    assert [poller.tracker.count(n, hk) for n, hk in watched] == [0, 0]
    # Through the SDK's transport, reconnecting after every swap.
    assert node.methods.count("chain_getBlockHash") > 0


async def test_the_sdks_own_block_hash_answers_from_its_cache_after_the_node_was_replaced(
    over_the_transport,
):
    # Why the check goes around it: the hazard the test above would miss without the bypass.
    world, node, rpc, poller = over_the_transport
    assert await verdict(poller) == "trusted"
    genesis = world.chain.block_hash(0)
    assert await rpc.block_hash(0) == genesis

    other = Chain(seed=7)
    other.step(world.chain.head + 5)
    node.serve(other)
    assert other.block_hash(0) != genesis
    assert await rpc.block_hash(0) == genesis  # the old chain's, from the SDK's LRU
    assert await verdict(poller) == "changed"  # the check asked the node
