"""One place that turns a ``chain.network`` config value into a substrate and a client.

``finney``, ``test``, ``local``, ``archive``, ``devnet`` or a ``ws://`` / ``wss://`` URL select a
real chain through the SDK's own :class:`bittensor.RpcSubstrate`. Any other URL scheme is
served by a *substrate backend* that a package registers under the
``taowatch.substrate_backends`` entry-point group (simnet registers ``sim``), so this module
never imports the packages that simulate a chain: the seam points down.

:class:`SubstrateBackends` is the registry, an ordinary object: ``installed()`` reads the
entry points, and tests build one from a mapping. :func:`make_client` is the one-liner for
code that wants a plain ``bittensor.Client``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from types import MappingProxyType
from typing import Protocol

import bittensor as bt
from bittensor import Substrate
from bittensor import settings as bt_settings

ENTRY_POINT_GROUP = "taowatch.substrate_backends"
REAL_NETWORKS = ("finney", "test", "local", "archive", "devnet")
RPC_SCHEMES = ("ws", "wss")

# Schemes this project ships a backend for, and the extra that installs it: what to tell an
# operator whose host lacks it.
SHIPPED_BACKEND_EXTRAS = MappingProxyType({"sim": "taowatch[sim]"})


class NetworkError(ValueError):
    """A ``chain.network`` value that names no chain; the message says what is accepted."""


@dataclass(frozen=True)
class ChainAccess:
    """What a ``bittensor.Client`` needs for one network: its label and its substrate.

    ``label`` is what the client is constructed with (explorer links, the SDK's token-symbol
    cache key); ``substrate`` answers every read and write.
    """

    label: str
    substrate: Substrate


class SubstrateBackend(Protocol):
    """Serves the networks of one URL scheme."""

    # How an operator writes such a network, for error messages ("sim://HOST:PORT for simnet").
    usage: str

    def check(self, network: str) -> None:
        """Raise :class:`NetworkError` if ``network`` is malformed; never connects."""

    def substrate_for(
        self,
        network: str,
        *,
        timeout: float,
        fallback_endpoints: list[str] | None,
        archive_endpoints: list[str] | None,
    ) -> ChainAccess:
        """Build (but do not connect) the substrate for a checked ``network``."""


class RpcBackend:
    """Real chains, through the SDK's ``RpcSubstrate`` with the defaults ``bt.Client`` applies."""

    usage = f"{', '.join(REAL_NETWORKS)} or a ws:// / wss:// endpoint URL"

    def check(self, network: str) -> None:
        if network in REAL_NETWORKS or network.startswith(("ws://", "wss://")):
            return
        raise NetworkError(f"chain.network {network!r} is not a chain: use {self.usage}")

    def substrate_for(
        self,
        network: str,
        *,
        timeout: float,
        fallback_endpoints: list[str] | None,
        archive_endpoints: list[str] | None,
    ) -> ChainAccess:
        # ``timeout`` is simnet's round-trip bound; the SDK's RPC transport has its own.
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
        return ChainAccess(network, substrate)


BackendLoader = Callable[[], SubstrateBackend]


def _loader(entry_point: EntryPoint) -> BackendLoader:
    # The entry point names a zero-argument factory (usually the backend class).
    return lambda: entry_point.load()()


class SubstrateBackends:
    """URL scheme -> substrate backend. Real chains are built in; other schemes are plugged.

    ``loaders`` maps a scheme (``"sim"``) to a zero-argument callable returning its backend;
    a loader runs only when a network of its scheme is used, so a host never imports a
    backend it does not use.
    """

    def __init__(
        self,
        loaders: Mapping[str, BackendLoader],
        *,
        rpc: SubstrateBackend | None = None,
        extras: Mapping[str, str] = SHIPPED_BACKEND_EXTRAS,
    ):
        clash = sorted(set(loaders) & set(RPC_SCHEMES))
        if clash:
            raise ValueError(f"substrate backends: {', '.join(clash)} is the SDK's RPC scheme")
        self._loaders = dict(loaders)
        self._rpc = rpc or RpcBackend()
        self._extras = extras

    @classmethod
    def installed(cls) -> SubstrateBackends:
        """The backends the installed packages register (``taowatch.substrate_backends``)."""
        return cls({ep.name: _loader(ep) for ep in entry_points(group=ENTRY_POINT_GROUP)})

    @classmethod
    def of(cls, backends: Mapping[str, SubstrateBackend], **options) -> SubstrateBackends:
        """A registry over ready-built backends (tests, embedding)."""
        return cls({scheme: (lambda b=b: b) for scheme, b in backends.items()}, **options)

    @property
    def schemes(self) -> tuple[str, ...]:
        return (*RPC_SCHEMES, *sorted(self._loaders))

    def backend_for(self, network: str) -> SubstrateBackend:
        """The backend serving ``network``, or a :class:`NetworkError` saying what is accepted."""
        scheme, sep, _ = network.partition("://")
        if not sep or scheme in RPC_SCHEMES:
            if not sep and network not in REAL_NETWORKS:
                raise NetworkError(f"chain.network {network!r} is not a chain: {self._accepted()}")
            return self._rpc
        loader = self._loaders.get(scheme)
        if loader is None:
            extra = self._extras.get(scheme)
            if extra is not None:
                raise NetworkError(
                    f"chain.network {network!r}: {scheme}:// networks need a backend that is not "
                    f"installed on this host; install {extra} (pip install '{extra}')"
                )
            raise NetworkError(f"chain.network {network!r} is not a chain: {self._accepted()}")
        try:
            return loader()
        except ImportError as exc:
            extra = self._extras.get(scheme, "the package that provides it")
            raise NetworkError(
                f"chain.network {network!r}: the {scheme}:// backend cannot be loaded ({exc}); "
                f"install {extra}"
            ) from None

    def check(self, network: str) -> str:
        """Validate a ``chain.network`` value without connecting; returns it unchanged."""
        self.backend_for(network).check(network)
        return network

    def substrate_for(
        self,
        network: str,
        *,
        timeout: float = 10.0,
        fallback_endpoints: list[str] | None = None,
        archive_endpoints: list[str] | None = None,
    ) -> ChainAccess:
        """Build (but do not connect) the label and substrate for ``network``.

        ``timeout`` bounds each round trip of a plugged backend. ``fallback_endpoints`` and
        ``archive_endpoints`` apply to real chains: None takes the network's public pools,
        ``[]`` pins the substrate to one endpoint.
        """
        backend = self.backend_for(network)
        backend.check(network)
        return backend.substrate_for(
            network,
            timeout=timeout,
            fallback_endpoints=fallback_endpoints,
            archive_endpoints=archive_endpoints,
        )

    def _accepted(self) -> str:
        plugged = []
        for scheme in sorted(self._loaders):
            try:
                plugged.append(self._loaders[scheme]().usage)
            except ImportError:
                plugged.append(f"{scheme}:// (its backend does not load on this host)")
        return "use " + "; or ".join([self._rpc.usage, *plugged])


def is_rpc_network(network: str) -> bool:
    """True when ``network`` is a real chain reached through the SDK's own RPC transport.

    Only such networks can share one client's SDK failover; a plugged backend (simnet) has none.
    """
    scheme, sep, _ = network.partition("://")
    return scheme in RPC_SCHEMES if sep else network in REAL_NETWORKS


def check_network(network: str, backends: SubstrateBackends | None = None) -> str:
    """Validate a ``chain.network`` value against the installed backends; returns it."""
    return (backends or SubstrateBackends.installed()).check(network)


def make_client(
    network: str,
    *,
    fallback_endpoints: list[str] | None = None,
    archive_endpoints: list[str] | None = None,
    timeout: float = 10.0,
    backends: SubstrateBackends | None = None,
) -> bt.Client:
    """Build (but do not connect) a plain ``bittensor.Client`` for ``network``.

    See :meth:`SubstrateBackends.substrate_for` for the arguments; ``backends`` defaults to
    the installed ones.
    """
    access = (backends or SubstrateBackends.installed()).substrate_for(
        network,
        timeout=timeout,
        fallback_endpoints=fallback_endpoints,
        archive_endpoints=archive_endpoints,
    )
    return bt.Client(access.label, substrate=access.substrate)
