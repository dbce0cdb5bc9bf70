"""What the node answers for storage keys and runtime calls, as SCALE bytes.

A raw storage key is resolved the way a node resolves it: its 32-byte prefix names the pallet
and item (``twox128(pallet) ++ twox128(item)``), the rest carries the hashed map keys, which
the SDK's codec recovers. The value comes from simnet's decoded read
(:class:`~simnet.substrate.SimSubstrate`, the same path ``sim://`` serves) and is encoded
with the item's type from the node's own metadata. ``state_getKeysPaged`` lists a map's keys
sorted as a trie iterates them, and a page's values are kept for the ``state_queryStorageAt``
that follows, so ``query_map`` costs one read of simnet's map per page.
"""

from __future__ import annotations

from collections import OrderedDict
from types import MappingProxyType
from typing import Any

from bittensor.result import ChainError

from simnet.node.metadata import NodeMetadata, StorageRoute
from simnet.state import BlockUnavailable
from simnet.substrate import SimSubstrate

_HASH_PREFIX = MappingProxyType({"Identity": 0, "Blake2_128Concat": 16, "Twox64Concat": 8})
_PAGE_CACHE = 32


class NodeError(Exception):
    """A JSON-RPC error the node answers with (``code``, ``message``, optional ``data``)."""

    def __init__(self, code: int, message: str, data: Any = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


def discarded(block_hash: str) -> NodeError:
    # The SDK's rpc.py recognises this wording and raises StateDiscardedError.
    return NodeError(
        4003, "Client error: State already discarded for " + block_hash,
        "State already discarded for " + block_hash,
    )  # fmt: skip


def unmodelled(error: Exception) -> NodeError:
    # A real node has every key; simnet names what it does not model instead of answering
    # an absent value nobody could tell from a real miss.
    return NodeError(-32000, f"Client error: {error}")


class Runtimes:
    """Which runtime governs which block: the first, then each scripted upgrade from the
    block it takes effect (``upgrades``: ``(block, NodeMetadata)``, in block order)."""

    def __init__(self, first: NodeMetadata, upgrades: tuple = ()):
        self._schedule = ((0, first), *sorted(upgrades, key=lambda u: u[0]))

    def at(self, block: int) -> NodeMetadata:
        current = self._schedule[0][1]
        for start, metadata in self._schedule:
            if block >= start:
                current = metadata
        return current


class Answers:
    """Storage and runtime-call answers for one chain under one runtime's metadata."""

    def __init__(self, substrate: SimSubstrate, runtimes: Runtimes):
        self.substrate = substrate
        self.chain = substrate.chain
        self.runtimes = runtimes
        from simnet.node.author import Author

        self.author = Author(self.chain, lambda: self.runtimes.at(self.chain.head))
        self._pages: OrderedDict[tuple[str, str], tuple[list[str], dict[str, str | None]]] = (
            OrderedDict()
        )

    # ------------------------------------------------------------------ blocks

    def at(self, block_hash: str | None) -> str:
        """The block a read is pinned to: the given hash if the node still holds its state."""
        if block_hash is None:
            return self.chain.block_hash(self.chain.head)
        try:
            self.chain.record(self.chain.block_of(block_hash))
        except BlockUnavailable:
            try:
                number = int(str(block_hash)[2:10], 16)
            except ValueError:
                number = -1
            if 0 <= number <= self.chain.head and self.chain.block_hash(number) == block_hash:
                raise discarded(block_hash) from None
            raise NodeError(-32602, f"Unknown block {block_hash}") from None
        return block_hash

    def metadata_at(self, block_hash: str | None) -> NodeMetadata:
        """The runtime of a block; known for every block, pruned state or not (simnet keeps
        no code in state, so a runtime version never needs the block's state)."""
        if block_hash is None:
            return self.runtimes.at(self.chain.head)
        try:
            return self.runtimes.at(self.chain.block_of(block_hash))
        except BlockUnavailable:
            raise NodeError(-32602, f"Unknown block {block_hash}") from None

    # ------------------------------------------------------------------ storage

    def _params(self, md: NodeMetadata, route: StorageRoute, key: bytes, count: int) -> list[Any]:
        """The first ``count`` map keys carried in a raw key (after the 32-byte prefix)."""
        runtime, pallet, item = md.runtime, route.pallet, route.item
        if count == len(route.item.keys):
            return list(runtime.decode_storage_key_params(pallet, item.name, key, 0))
        out, offset = [], 32
        for key_type, hasher in item.keys[:count]:
            offset += _HASH_PREFIX[hasher]
            type_string = md.type_string(key_type)
            width = len(md.zero(key_type))
            out.append(md.decode(type_string, key[offset : offset + width]))
            offset += width
        return out

    @staticmethod
    def _encode_value(md: NodeMetadata, route: StorageRoute, value: Any) -> str | None:
        if value is None:
            return None
        data = md.encode(md.type_string(route.item.value), value)
        return "0x" + data.hex()

    async def storage(self, key_hex: str, block_hash: str | None) -> str | None:
        at = self.at(block_hash)
        cached = self._cached_value(key_hex, at)
        if cached is not None:
            return cached[0]
        key = bytes.fromhex(key_hex.removeprefix("0x"))
        md = self.metadata_at(at)
        route = md.route(key)
        if route is None or (len(key) <= 32 and route.item.keys):
            return None
        if (route.pallet, route.item.name) == ("System", "Events"):
            events = self.author.events(self.chain.record(self.chain.block_of(at)))
            return self._encode_value(md, route, events)
        params = self._params(md, route, key, len(route.item.keys))
        try:
            value = await self.substrate.query(route.pallet, route.item.name, params, at)
        except ChainError as error:
            raise unmodelled(error) from None
        return self._encode_value(md, route, value)

    def _cached_value(self, key_hex: str, at: str) -> tuple[str | None] | None:
        for (page_at, prefix), (_keys, values) in self._pages.items():
            if page_at == at and key_hex.startswith(prefix) and key_hex in values:
                return (values[key_hex],)
        return None

    async def keys_paged(
        self, prefix_hex: str, count: int, start_key: str | None, block_hash: str | None
    ) -> list[str]:
        at = self.at(block_hash)
        keys, _values = await self._map(prefix_hex.lower(), at)
        start = (start_key or prefix_hex).lower()
        return [k for k in keys if k > start][: max(0, int(count))]

    async def _map(self, prefix_hex: str, at: str) -> tuple[list[str], dict[str, str | None]]:
        held = self._pages.get((at, prefix_hex))
        if held is not None:
            self._pages.move_to_end((at, prefix_hex))
            return held
        prefix = bytes.fromhex(prefix_hex.removeprefix("0x"))
        md = self.metadata_at(at)
        route = md.route(prefix)
        values: dict[str, str | None] = {}
        if route is not None and route.item.keys:
            fixed = self._fixed_count(md, route, prefix)
            params = self._params(md, route, prefix, fixed)
            try:
                rows = await self.substrate.query_map(route.pallet, route.item.name, params, at)
            except ChainError as error:
                raise unmodelled(error) from None
            if rows:
                free = len(route.item.keys) - fixed
                full = [params + (list(k) if free > 1 else [k]) for k, _v in rows]
                raw_keys = md.runtime.storage_key_batch(route.pallet, route.item.name, full)
                for raw, (_k, value) in zip(raw_keys, rows, strict=True):
                    values["0x" + bytes(raw).hex()] = self._encode_value(md, route, value)
        held = (sorted(k for k in values if k.startswith(prefix_hex)), values)
        self._pages[(at, prefix_hex)] = held
        while len(self._pages) > _PAGE_CACHE:
            self._pages.popitem(last=False)
        return held

    @staticmethod
    def _fixed_count(md: NodeMetadata, route: StorageRoute, prefix: bytes) -> int:
        """How many leading map keys a prefix fixes (by the keys' encoded widths)."""
        offset, count = 32, 0
        for key_type, hasher in route.item.keys:
            if offset >= len(prefix):
                break
            offset += _HASH_PREFIX[hasher] + len(md.zero(key_type))
            count += 1
        return count

    async def query_storage_at(self, keys: list[str], block_hash: str | None) -> list[dict]:
        at = self.at(block_hash)
        changes = [[key, await self.storage(key, at)] for key in keys]
        return [{"block": at, "changes": changes}]

    # ------------------------------------------------------------------ runtime calls

    async def call(self, name: str, params_hex: str, block_hash: str | None) -> str:
        at = self.at(block_hash)
        md = self.metadata_at(at)
        api, _, method_name = name.partition("_")
        method = md.methods.get((api, method_name))
        if method is None:
            raise NodeError(
                -32000,
                f"Client error: Execution failed: Other: Exported method {name} is not found",
            )
        data = bytes.fromhex((params_hex or "0x").removeprefix("0x"))
        args = self._decode_args(md, method, data)
        if api == "Metadata":
            value = self._metadata_call(md, method_name, args)
        elif api == "Core":
            value = md.runtime_version()
        elif api == "TransactionPaymentApi":
            # The extrinsic travels as its own SCALE bytes (length-prefixed), then a u32.
            value = self.author.fee_info(data[:-4])
        else:
            try:
                value = await self.substrate.runtime_call(api, method_name, args, at)
            except ChainError as error:
                raise NodeError(-32000, f"Client error: Execution failed: {error}") from None
        return "0x" + md.encode(md.type_string(method.output), value).hex()

    @staticmethod
    def _decode_args(md: NodeMetadata, method: Any, data: bytes) -> dict[str, Any]:
        if not method.inputs:
            return {}
        types = [t for _, t in method.inputs]
        tuple_type = "(" + ", ".join(types) + ")"
        try:
            values = md.decode(md.type_string(tuple_type), data)
        except Exception as error:  # the codec's own message names what did not decode
            raise NodeError(-32602, f"cannot decode the call's parameters: {error}") from None
        if len(types) == 1 and not isinstance(values, (list, tuple)):
            values = [values]
        return {name: value for (name, _), value in zip(method.inputs, values, strict=True)}

    @staticmethod
    def _metadata_call(md: NodeMetadata, method: str, args: dict[str, Any]) -> Any:
        if method == "metadata_versions":
            return [14, 15]
        if int(args["version"]) != 15:
            return None
        return list(md.bytes)
