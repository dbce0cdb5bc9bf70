"""One place that turns a ``chain.network`` config value into a ``bittensor.Client``.

``sim://HOST:PORT`` selects a simnet server (``taowatch simnet serve``); ``finney``,
``test``, ``local`` or a ``ws://`` / ``wss://`` URL select a real chain through the SDK's
normal RPC path. Every component calls :func:`make_client`, so "which chain" is one field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import bittensor as bt
from bittensor import Substrate
from bittensor import settings as bt_settings

SIM_SCHEME = "sim"
REAL_NETWORKS = ("finney", "test", "local", "archive", "devnet")


class NetworkError(ValueError):
    """A ``chain.network`` value that names no chain; the message says what is accepted."""


@dataclass(frozen=True)
class SimAddress:
    host: str
    port: int

    @property
    def label(self) -> str:
        # The SDK wants a ws:// label even with an injected substrate (explorer links and
        # the token-symbol cache key). ".invalid" can never resolve, so nothing can ever
        # mistake it for a real endpoint.
        return f"ws://simnet-{self.host}-{self.port}.invalid"


def parse_sim(network: str) -> SimAddress | None:
    """``sim://127.0.0.1:9955`` -> SimAddress; any other scheme -> None."""
    if not network.startswith(f"{SIM_SCHEME}://"):
        return None
    parts = urlsplit(network)
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise NetworkError(
            f"chain.network {network!r}: a simnet address needs a host and a port, "
            "for example sim://127.0.0.1:9955"
        )
    return SimAddress(parts.hostname, port)


def check_network(network: str) -> str:
    """Validate a ``chain.network`` value without connecting; returns it unchanged."""
    if parse_sim(network) is not None:
        return network
    if network.startswith(("ws://", "wss://")) or network in REAL_NETWORKS:
        return network
    raise NetworkError(
        f"chain.network {network!r} is not a chain: use sim://HOST:PORT for simnet, "
        f"one of {', '.join(REAL_NETWORKS)}, or a ws:// / wss:// endpoint URL"
    )


SubstrateWrapper = Callable[[Substrate], Substrate]


def make_client(
    network: str,
    *,
    fallback_endpoints: list[str] | None = None,
    archive_endpoints: list[str] | None = None,
    timeout: float = 10.0,
    wrap_substrate: SubstrateWrapper | None = None,
) -> bt.Client:
    """Build (but do not connect) a client for ``network``.

    The substrate (the SDK's chain-access backend) is built here and handed to
    ``bt.Client(network, substrate=...)``: for ``sim://`` a ``RemoteSubstrate``; for a real
    chain the SDK's own ``RpcSubstrate`` with the defaults ``bittensor.Client`` would apply
    (``settings.resolve_endpoint`` for the URL; the network's public fallback and archive
    pools when ``fallback_endpoints`` / ``archive_endpoints`` are None; ``[]`` pins the
    client to one endpoint).

    ``wrap_substrate``, when given, receives that substrate and returns the one the client
    uses: the documented way to put a layer under every read (the exporter memoizes block
    hashes there) without reaching into the client's private attributes. It must keep the
    ``Substrate`` protocol, including the writable ``token_symbols`` that ``connect`` sets.

    ``timeout`` bounds each simnet round trip; the SDK's RPC transport has its own.
    ``fallback_endpoints`` and ``archive_endpoints`` only apply to real chains: simnet
    failover is done by the caller holding one client per endpoint.
    """
    check_network(network)
    sim = parse_sim(network)
    substrate: Substrate
    if sim is not None:
        from simnet.remote import RemoteSubstrate

        label = sim.label
        substrate = RemoteSubstrate(sim.host, sim.port, timeout=timeout)
    else:
        label, endpoint = bt_settings.resolve_endpoint(network)
        if fallback_endpoints is None:
            fallback_endpoints = bt_settings.default_fallback_endpoints(label)
        if archive_endpoints is None:
            archive_endpoints = bt_settings.default_archive_endpoints(label)
        substrate = bt.RpcSubstrate(
            endpoint,
            fallback_endpoints=[url for url in fallback_endpoints if url != endpoint],
            archive_endpoints=list(archive_endpoints),
        )
        # The client resolves the label again for explorer links; give it what the user said.
        label = network
    if wrap_substrate is not None:
        substrate = wrap_substrate(substrate)
    return bt.Client(label, substrate=substrate)
