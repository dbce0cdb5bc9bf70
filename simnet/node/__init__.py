"""simnet as a Substrate node: V15 metadata from simnet's declarations, SCALE storage and
runtime-call answers, JSON-RPC over WebSocket and HTTP (``ws://127.0.0.1:9944`` by default)."""

from __future__ import annotations

from simnet.node.answers import Answers
from simnet.node.metadata import NodeMetadata
from simnet.node.rpc import NodeRpc
from simnet.node.server import NodeServer

DEFAULT_WS_PORT = 9944  # Substrate's own default RPC port, where Bittensor tools look first


def node_server(
    substrate, *, spec_version: int, chain_name: str = "simnet", faults=None
) -> NodeServer:
    """The node for ``substrate``'s chain, serving the runtime of ``spec_version``; ``faults``
    (``simnet.server.Faults``) are injected into its frames as into ``sim://``'s calls."""
    metadata = NodeMetadata(spec_version=spec_version, block_time=substrate.chain.block_time)
    rpc = NodeRpc(Answers(substrate, metadata), chain_name=chain_name)
    return NodeServer(rpc, faults=faults)
