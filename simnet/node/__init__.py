"""simnet as a Substrate node: V15 metadata from simnet's declarations, SCALE storage and
runtime-call answers, JSON-RPC over WebSocket and HTTP (``ws://127.0.0.1:9944`` by default)."""

from __future__ import annotations

from simnet.node.answers import Answers, Runtimes
from simnet.node.metadata import NodeMetadata
from simnet.node.rpc import NodeRpc
from simnet.node.server import NodeServer

DEFAULT_WS_PORT = 9944  # Substrate's own default RPC port, where Bittensor tools look first
# The runtime the node serves by default: Finney's in October 2026 (chain-today.md), the newest
# whose items simnet models (SubnetEpochConsensus arrived in 474).
NODE_SPEC_VERSION = 475


def node_server(
    substrate,
    *,
    spec_version: int = NODE_SPEC_VERSION,
    upgrade: tuple[int, int] | None = None,
    chain_name: str = "simnet",
    faults=None,
) -> NodeServer:
    """The node for ``substrate``'s chain, serving the runtime of ``spec_version`` (an older
    one lacks the items added after it), upgraded to ``upgrade = (block, spec_version)`` from
    that block on; ``faults`` (``simnet.server.Faults``) are injected into its frames as into
    ``sim://``'s calls."""
    block_time = substrate.chain.block_time
    first = NodeMetadata(spec_version=spec_version, block_time=block_time)
    upgrades = ()
    if upgrade is not None:
        block, later = upgrade
        upgrades = ((int(block), NodeMetadata(spec_version=later, block_time=block_time)),)
    rpc = NodeRpc(Answers(substrate, Runtimes(first, upgrades)), chain_name=chain_name)
    return NodeServer(rpc, faults=faults)
