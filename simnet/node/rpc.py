"""The JSON-RPC methods the node answers, by name: chain, state, system, author, account,
and the runtime call (``state_call``), as the SDK's transport calls them
(``bittensor/_transport/{rpc,interface,runtime,runtime_api,extrinsics}.py``).

Each handler takes the request's positional params and returns the ``result``; a
:class:`~simnet.node.answers.NodeError` becomes the JSON-RPC ``error`` object. Subscription
methods live in :mod:`simnet.node.server`, which owns the connections.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from common.version import __version__ as VERSION
from simnet.node.answers import Answers, NodeError

Handler = Callable[[list], Awaitable[Any]]

METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602


def _param(params: list, index: int, default: Any = None) -> Any:
    return params[index] if len(params) > index else default


class NodeRpc:
    """Answers one JSON-RPC request at a time against simnet's chain."""

    def __init__(self, answers: Answers, *, chain_name: str = "simnet"):
        self.answers = answers
        self.chain = answers.chain
        self.chain_name = chain_name
        self.methods: dict[str, Handler] = {
            "chain_getHead": self.chain_get_head,
            "chain_getFinalizedHead": self.chain_get_finalized_head,
            "chain_getFinalisedHead": self.chain_get_finalized_head,
            "chain_getBlockHash": self.chain_get_block_hash,
            "chain_getHeader": self.chain_get_header,
            "chain_getBlock": self.chain_get_block,
            "chain_getRuntimeVersion": self.state_get_runtime_version,
            "state_getRuntimeVersion": self.state_get_runtime_version,
            "state_getMetadata": self.state_get_metadata,
            "state_getStorage": self.state_get_storage,
            "state_getStorageAt": self.state_get_storage,
            "state_queryStorageAt": self.state_query_storage_at,
            "state_getKeysPaged": self.state_get_keys_paged,
            "state_getKeysPagedAt": self.state_get_keys_paged,
            "state_call": self.state_call,
            "system_chain": self.system_chain,
            "system_name": self.system_name,
            "system_version": self.system_version,
            "system_properties": self.system_properties,
            "system_health": self.system_health,
            "system_accountNextIndex": self.account_next_index,
            "account_nextIndex": self.account_next_index,
            "author_submitExtrinsic": self.author_submit,
            "rpc_methods": self.rpc_methods,
        }

    async def dispatch(self, method: str, params: Any) -> Any:
        handler = self.methods.get(method)
        if handler is None:
            raise NodeError(METHOD_NOT_FOUND, f"Method not found: {method}")
        if params is None:
            params = []
        if not isinstance(params, list):
            raise NodeError(INVALID_PARAMS, f"{method}: params must be a list")
        return await handler(params)

    # ------------------------------------------------------------------ chain

    def header(self, number: int) -> dict[str, Any]:
        own = self.chain.block_hash(number)
        parent = self.chain.block_hash(number - 1) if number > 0 else "0x" + "00" * 32
        return {
            "parentHash": parent,
            "number": hex(number),
            "stateRoot": own,
            "extrinsicsRoot": own,
            "digest": {"logs": []},
        }

    def _number(self, block_hash: str | None) -> int:
        if block_hash is None:
            return self.chain.head
        try:
            return self.chain.block_of(block_hash)
        except Exception:
            return -1

    async def chain_get_head(self, params: list) -> str:
        return self.chain.block_hash(self.chain.head)

    async def chain_get_finalized_head(self, params: list) -> str:
        return self.chain.block_hash(self.chain.finalized)

    async def chain_get_block_hash(self, params: list) -> str | None:
        number = _param(params, 0)
        if number is None:
            return self.chain.block_hash(self.chain.head)
        number = int(number, 16) if isinstance(number, str) else int(number)
        if not 0 <= number <= self.chain.head:
            return None
        return self.chain.block_hash(number)

    async def chain_get_header(self, params: list) -> dict | None:
        number = self._number(_param(params, 0))
        return self.header(number) if number >= 0 else None

    async def chain_get_block(self, params: list) -> dict | None:
        number = self._number(_param(params, 0))
        if number < 0:
            return None
        extrinsics = self.answers.author.extrinsics(self.chain.record(number))
        block = {"header": self.header(number), "extrinsics": extrinsics}
        return {"block": block, "justifications": None}

    # ------------------------------------------------------------------ state

    async def state_get_runtime_version(self, params: list) -> dict[str, Any]:
        version = self.answers.metadata_at(_param(params, 0)).runtime_version()
        return {
            "specName": version["spec_name"],
            "implName": version["impl_name"],
            "authoringVersion": version["authoring_version"],
            "specVersion": version["spec_version"],
            "implVersion": version["impl_version"],
            "apis": [],
            "transactionVersion": version["transaction_version"],
            "stateVersion": 1,
        }

    async def state_get_metadata(self, params: list) -> str:
        return "0x" + self.answers.metadata_at(_param(params, 0)).bytes.hex()

    async def state_get_storage(self, params: list) -> str | None:
        key = _param(params, 0)
        if not isinstance(key, str):
            raise NodeError(INVALID_PARAMS, "state_getStorage: the first param is a 0x-hex key")
        return await self.answers.storage(key, _param(params, 1))

    async def state_query_storage_at(self, params: list) -> list[dict]:
        keys = _param(params, 0) or []
        return await self.answers.query_storage_at(list(keys), _param(params, 1))

    async def state_get_keys_paged(self, params: list) -> list[str]:
        prefix = _param(params, 0) or "0x"
        count = int(_param(params, 1, 1000))
        return await self.answers.keys_paged(prefix, count, _param(params, 2), _param(params, 3))

    async def state_call(self, params: list) -> str:
        name = _param(params, 0)
        if not isinstance(name, str):
            raise NodeError(INVALID_PARAMS, "state_call: the first param is the method name")
        return await self.answers.call(name, _param(params, 1, "0x"), _param(params, 2))

    # ------------------------------------------------------------------ system, account

    async def system_chain(self, params: list) -> str:
        return self.chain_name

    async def system_name(self, params: list) -> str:
        return "simnet"

    async def system_version(self, params: list) -> str:
        return VERSION

    async def system_properties(self, params: list) -> dict[str, Any]:
        return {"ss58Format": 42, "tokenDecimals": 9, "tokenSymbol": "TAO"}

    async def system_health(self, params: list) -> dict[str, Any]:
        return {"peers": 0, "isSyncing": False, "shouldHavePeers": False}

    async def account_next_index(self, params: list) -> int:
        return self.chain.next_index(str(_param(params, 0)))

    async def author_submit(self, params: list) -> str:
        _pending, extrinsic_hash = self.answers.author.accept(str(_param(params, 0, "")))
        return extrinsic_hash

    async def rpc_methods(self, params: list) -> dict[str, Any]:
        subscriptions = ["chain_subscribeNewHeads", "chain_subscribeFinalizedHeads"]
        return {"methods": sorted([*self.methods, *subscriptions])}
