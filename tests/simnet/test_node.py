"""The SDK's unmodified ``RpcSubstrate`` (``bt.Client("ws://...")``) against simnet's node.

Every read here goes the production path: JSON-RPC over a WebSocket, storage keys hashed by the
SDK's codec, SCALE values decoded against the metadata the node serves. Each answer is compared
with what the same chain gives in process through ``SimSubstrate`` (the ``sim://`` path).
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
import bittensor as bt
import pytest
from aiohttp import web
from bittensor.result import ChainError

from simnet.node import NODE_SPEC_VERSION as SPEC_VERSION
from simnet.node import node_server
from simnet.records import RAO_PER_TAO
from simnet.substrate import SimSubstrate
from simnet.testing import dev_wallet, sim_client, small_world


@pytest.fixture(autouse=True)
def _fresh_metadata_cache(tmp_path, monkeypatch):
    # The SDK caches metadata on disk by (genesis hash, spec version); a test world's genesis
    # repeats, so a stale cache could answer for the metadata under test.
    monkeypatch.setenv("BITTENSOR_RUNTIME_CACHE_DIR", str(tmp_path / "runtime-cache"))


class Node:
    def __init__(self, chain):
        self.chain = chain
        self.substrate = SimSubstrate(chain)
        self.server = node_server(self.substrate, spec_version=SPEC_VERSION)
        self.runner = web.AppRunner(self.server.app())
        self.url = ""

    async def __aenter__(self) -> Node:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"ws://127.0.0.1:{self.runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *_exc) -> None:
        await self.runner.cleanup()

    async def post(self, payload: object) -> object:
        async with aiohttp.ClientSession() as session:
            url = self.url.replace("ws://", "http://") + "/"
            async with session.post(url, data=json.dumps(payload)) as resp:
                return await resp.json()


async def test_neurons_metagraph_dynamic_info_and_hyperparameters_read_the_same_over_ws(world):
    async with Node(world.chain) as node, bt.Client(node.url) as ws, sim_client(world.chain) as ref:
        assert await ws.block() == await ref.block() == world.chain.head
        over_ws, in_process = await ws.at(), await ref.at()
        neurons = await over_ws.neurons.all(world.netuid)
        assert neurons == await in_process.neurons.all(world.netuid)
        assert any(n.raw["incentive"] > 0 for n in neurons)
        assert any(n.raw["dividends"] > 0 for n in neurons)
        metagraph = await over_ws.subnets.metagraph(world.netuid)
        assert metagraph == await in_process.subnets.metagraph(world.netuid)
        assert metagraph.hotkeys == [n.hotkey for n in neurons]
        for api in (bt.runtime_api.SubnetInfoRuntimeApi.get_all_dynamic_info,):
            assert await over_ws.runtime(api, []) == await in_process.runtime(api, [])
        hyper = await over_ws.subnets.subnet_hyperparameters(world.netuid)
        assert hyper == await in_process.subnets.subnet_hyperparameters(world.netuid)
        assert hyper["tempo"] == 10 and hyper["max_allowed_uids"] == 16
        assert await over_ws.subnets.all() == await in_process.subnets.all()


async def test_storage_reads_decode_the_runtime_types_the_sdk_expects(world):
    sm = bt.storage.SubtensorModule
    validator = world.validators[0].hotkey.ss58_address
    async with Node(world.chain) as node, bt.Client(node.url) as ws, sim_client(world.chain) as ref:
        for item, params in (
            (sm.Tempo, [world.netuid]),
            (sm.Incentive, [world.netuid]),  # Vec<PerU16> keyed by NetUidStorageIndex
            (sm.SubnetEpochConsensus, [world.netuid]),  # an enum
            (sm.MechanismCountCurrent, [world.netuid]),  # MechId
            (sm.Uids, [world.netuid, validator]),  # (Identity, Blake2_128Concat) keys
            (sm.Uids, [world.netuid, world.owner.coldkey.ss58_address]),  # an OptionQuery miss
            (sm.Owner, [validator]),
            (sm.AlphaValues, [world.netuid]),
            (bt.storage.System.Account, [world.owner.coldkey.ss58_address]),
        ):
            assert await ws.query(item, params) == await ref.query(item, params), item
        assert await ws.query(sm.SubnetEpochConsensus, [world.netuid]) == "Yuma"
        assert await ws.query(sm.Uids, [world.netuid, world.owner.coldkey.ss58_address]) is None
        rows = [[world.netuid, w.hotkey.ss58_address] for w in world.miners]
        assert await ws.query_batch(sm.Uids, rows) == await ref.query_batch(sm.Uids, rows)
        assert await ws.block_time() == 0.25  # Aura.SlotDuration from the node's metadata


async def test_query_map_pages_through_every_key_of_a_map_longer_than_a_page():
    world = small_world(block_time=0.25)
    for i in range(130):  # the SDK pages 100 keys at a time
        world.chain.fund(dev_wallet(f"Holder{i}").coldkey.ss58_address, (i + 1) * RAO_PER_TAO)
    world.chain.step()
    account = bt.storage.System.Account
    async with Node(world.chain) as node, bt.Client(node.url) as ws, sim_client(world.chain) as ref:
        over_ws = dict(await ws.query_map(account))
        in_process = dict(await ref.query_map(account))
        assert len(over_ws) > 130 and over_ws == in_process
        tempos = await ws.query_map(bt.storage.SubtensorModule.Tempo)
        assert tempos == [(world.netuid, 10)]
        # A node lists a map in hashed-key (trie) order, not in simnet's uid order.
        uids = await ws.query_map(bt.storage.SubtensorModule.Uids, [world.netuid])
        assert dict(uids) == dict(await ref.query_map(bt.storage.SubtensorModule.Uids, [1]))
        assert sorted(uid for _hotkey, uid in uids) == list(range(5))


async def test_head_subscription_delivers_every_new_block_in_order(world):
    chain = world.chain
    async with Node(chain) as node, bt.Client(node.url) as ws:
        seen: list[int] = []
        first = asyncio.Event()

        async def follow() -> None:
            async for header in ws.blocks():
                seen.append(header.number)
                first.set()
                if len(seen) == 4:
                    return

        task = asyncio.create_task(follow())
        await asyncio.wait_for(first.wait(), 10)
        chain.step(3)
        await asyncio.wait_for(task, 10)
        assert seen == [seen[0], seen[0] + 1, seen[0] + 2, seen[0] + 3]
        assert seen[-1] == chain.head


async def test_a_read_pinned_to_a_block_the_node_has_discarded_fails_with_the_node_error(world):
    chain = world.chain
    async with Node(chain) as node, bt.Client(node.url) as ws:
        old = await ws.at()
        await old.neurons.all(world.netuid)  # pinned reads of a recent block work
        chain.step(400)  # simnet keeps the last 300 blocks' state
        # The SDK recognises the node's wording and says to use an archive node.
        pinned = chain.block_hash(old.block)
        with pytest.raises(ChainError, match=f"State discarded for {pinned}.*archive node"):
            await old.query(bt.storage.SubtensorModule.Tempo, [world.netuid])
        assert (await (await ws.at()).query(bt.storage.SubtensorModule.Tempo, [1])) == 10


async def test_bad_frames_get_json_rpc_errors_and_the_node_carries_on(world):
    async with Node(world.chain) as node:
        unknown = await node.post({"jsonrpc": "2.0", "id": 1, "method": "nope_nothing"})
        assert unknown["error"]["code"] == -32601
        missing = await node.post(
            {"jsonrpc": "2.0", "id": 2, "method": "state_call", "params": ["NoSuchApi_x", "0x"]}
        )
        assert "Exported method NoSuchApi_x is not found" in missing["error"]["message"]
        async with aiohttp.ClientSession() as session:
            async with session.post(node.url.replace("ws", "http", 1) + "/", data=b"{") as resp:
                assert (await resp.json())["error"]["code"] == -32700
        batch = await node.post(
            [
                {"jsonrpc": "2.0", "id": 3, "method": "chain_getHead"},
                {"jsonrpc": "2.0", "id": 4, "method": "system_chain"},
            ]
        )
        assert batch[0]["result"] == world.chain.block_hash(world.chain.head)
        assert batch[1]["result"] == "simnet"


async def test_finalized_heads_follow_finality_two_blocks_behind_the_head(world):
    chain = world.chain
    async with Node(chain) as node, bt.Client(node.url) as ws:
        assert await ws.finalized_block() == chain.finalized == chain.head - chain.finality_lag
        seen: list[int] = []
        first = asyncio.Event()

        async def follow() -> None:
            async for header in ws.blocks(finalized=True):
                seen.append(header.number)
                first.set()
                if len(seen) == 3:
                    return

        task = asyncio.create_task(follow())
        await asyncio.wait_for(first.wait(), 10)
        chain.step(2)
        await asyncio.wait_for(task, 10)
        assert seen == [seen[0], seen[0] + 1, seen[0] + 2]
        assert seen[-1] == chain.finalized == chain.head - chain.finality_lag


async def test_the_exporters_chain_wide_read_is_the_same_over_ws(world):
    from exporters.economics import read_chain_wide
    from exporters.reads import ReadBook

    ws_book, ref_book = ReadBook(), ReadBook()
    async with Node(world.chain) as node, bt.Client(node.url) as ws, sim_client(world.chain) as ref:
        block = await ref.block()
        over_ws = await read_chain_wide(await ws.at(block), ws_book)
        in_process = await read_chain_wide(await ref.at(block), ref_book)
    assert over_ws == in_process
    # Each read fails alone, so equal results could hide a read failing on both paths.
    for book in (ws_book, ref_book):
        assert not any(book.view().errors.values())
        assert not any(book.view().unsupported.values())


async def test_every_sdk_read_answers_over_ws_as_it_does_in_process(world):
    """The SDK's read catalog (``client.read(name, ...)``), each read taking only a netuid, a
    uid, keys or a block: over ws:// it answers what it answers in process, or fails there too
    (an item simnet does not model). None may fail, or differ, over ws:// alone."""
    import bittensor.reads  # noqa: F401  (registers the catalog)
    from bittensor.reads.base import REGISTRY

    hotkey, coldkey = (
        world.validators[0].hotkey.ss58_address,
        world.validators[0].coldkey.ss58_address,
    )
    values = {
        "netuid": world.netuid, "uid": 0, "hotkey_ss58": hotkey, "coldkey_ss58": coldkey,
        "netuids": [world.netuid], "block": world.chain.head,
    }  # fmt: skip

    async def outcome(view, name: str, args: dict) -> tuple[str, object]:
        try:
            return "ok", await view.read(name, **args)
        except Exception as error:  # what each path raises is compared, not its type
            return "failed", type(error).__name__

    agreed, broken = [], []
    async with Node(world.chain) as node, bt.Client(node.url) as ws, sim_client(world.chain) as ref:
        over_ws, in_process = await ws.at(), await ref.at()
        for name, spec in sorted(REGISTRY.items()):
            if any(p not in values for p in spec.params):
                continue
            args = {p: values[p] for p in spec.params}
            a, b = await outcome(over_ws, name, args), await outcome(in_process, name, args)
            if a[0] == b[0] == "failed" or a == b:
                agreed.append(name)
            else:
                broken.append((name, a, b))
    assert not broken
    assert len(agreed) > 80
    assert {"metagraph", "subnets", "stake_for_coldkey", "block_info", "epoch_status"} <= set(
        agreed
    )
