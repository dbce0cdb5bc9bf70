"""``common.chain``: which substrate each ``chain.network`` gets, and from which backend.

Nothing here reaches a real chain: a fake backend's substrate answers the head itself, which
proves the client reads through the substrate the registry built rather than around it, and a
sim:// client reads an in-process simnet server on loopback.
"""

from __future__ import annotations

from typing import Any

import bittensor as bt
import pytest
from bittensor import settings

from common.chain import (
    ChainAccess,
    NetworkError,
    SubstrateBackends,
    check_network,
    make_client,
)
from simnet.remote import RemoteSubstrate, SimBackend
from simnet.server import SimnetServer
from simnet.substrate import SimSubstrate
from simnet.testing import small_world


class HeadAnsweringSubstrate:
    """Just enough of a Substrate for a client to read the head from it."""

    def __init__(self, head: int):
        self.head = head
        self.token_symbols: dict[int, str] = {}

    async def block_number(self) -> int:
        return self.head


class RecordingBackend:
    """A backend for the ``fake`` scheme that records what it was asked to build."""

    usage = "fake://NAME for the test backend"

    def __init__(self, head: int = 1):
        self.head = head
        self.built: list[tuple[str, float]] = []

    def check(self, network: str) -> None:
        if network == "fake://":
            raise NetworkError("chain.network 'fake://': a fake network needs a name")

    def substrate_for(self, network: str, *, timeout: float, **_pools: Any) -> ChainAccess:
        self.built.append((network, timeout))
        return ChainAccess("ws://fake.invalid", HeadAnsweringSubstrate(self.head))


def test_the_installed_backends_serve_sim_through_simnets_entry_point():
    assert "sim" in SubstrateBackends.installed().schemes
    assert isinstance(SubstrateBackends.installed().backend_for("sim://h:1"), SimBackend)


def test_a_sim_network_gets_a_remote_substrate_with_a_label_nothing_resolves():
    access = SubstrateBackends.installed().substrate_for("sim://127.0.0.1:9955", timeout=3)
    assert isinstance(access.substrate, RemoteSubstrate)
    assert (access.substrate.host, access.substrate.port) == ("127.0.0.1", 9955)
    assert access.label.endswith(".invalid")
    client = make_client("sim://127.0.0.1:9955")
    assert client.endpoint.endswith(".invalid")


def test_finney_gets_the_sdks_rpc_substrate_with_its_default_pools():
    access = SubstrateBackends.installed().substrate_for("finney")
    inner = access.substrate
    assert isinstance(inner, bt.RpcSubstrate)
    primary = settings.NETWORKS["finney"]
    assert inner.endpoint == primary
    assert access.label == "finney"
    assert inner.fallback_endpoints == settings.default_fallback_endpoints("finney")
    assert inner.fallback_endpoints and primary not in inner.fallback_endpoints
    assert inner.archive_endpoints == settings.default_archive_endpoints("finney")
    client = make_client("finney")
    assert client.network == "finney" and client.endpoint == primary


def test_an_empty_fallback_list_pins_a_real_substrate_to_its_endpoint():
    access = SubstrateBackends.installed().substrate_for(
        "wss://rpc.example.com:443", fallback_endpoints=[]
    )
    assert access.substrate.endpoint == "wss://rpc.example.com:443"
    assert access.substrate.fallback_endpoints == []


async def test_the_client_builds_for_every_kind_of_network(aiohttp_server):
    # The SDK keeps a client's substrate private; it is what every read goes through.
    for network in ("finney", "test"):
        client = make_client(network)
        primary = settings.NETWORKS[network]
        assert (client.network, client.endpoint) == (network, primary)
        assert client._substrate.endpoint == primary
        pool = [url for url in settings.default_fallback_endpoints(network) if url != primary]
        assert client._substrate.fallback_endpoints == pool
    given = make_client("ws://127.0.0.1:9944", fallback_endpoints=["ws://127.0.0.1:9945"])
    assert given.endpoint == given._substrate.endpoint == "ws://127.0.0.1:9944"
    assert given._substrate.fallback_endpoints == ["ws://127.0.0.1:9945"]
    world = small_world()
    server = await aiohttp_server(SimnetServer(SimSubstrate(world.chain)).app())
    async with make_client(f"sim://127.0.0.1:{server.port}") as client:
        assert await client.block() == world.chain.head > 0


async def test_a_registered_backend_serves_its_scheme_and_the_client_reads_through_it():
    fake = RecordingBackend(head=4242)
    backends = SubstrateBackends.of({"fake": fake})
    client = make_client("fake://alpha", timeout=3, backends=backends)
    assert fake.built == [("fake://alpha", 3)]
    assert await client.block() == 4242


def test_the_backend_checks_its_own_networks_before_anything_is_built():
    fake = RecordingBackend()
    backends = SubstrateBackends.of({"fake": fake})
    with pytest.raises(NetworkError, match="needs a name"):
        make_client("fake://", backends=backends)
    assert fake.built == []
    assert check_network("fake://beta", backends) == "fake://beta"


@pytest.mark.parametrize(
    ("network", "says"),
    [
        ("mainnet", "sim://HOST:PORT"),
        ("http://127.0.0.1:9944", "ws://"),
        ("sim://127.0.0.1", "needs a host and a port"),
    ],
)
def test_a_bad_network_is_refused_naming_the_field_and_what_is_accepted(network, says):
    with pytest.raises(NetworkError, match=r"chain\.network") as info:
        make_client(network)
    assert says in str(info.value)


def test_a_scheme_nobody_registered_lists_what_this_host_accepts():
    backends = SubstrateBackends.of({"fake": RecordingBackend()})
    with pytest.raises(NetworkError, match=r"chain\.network 'gopher://x'") as info:
        check_network("gopher://x", backends)
    message = str(info.value)
    assert "finney" in message and "wss://" in message and "fake://NAME" in message


def test_sim_without_simnet_installed_says_which_extra_to_install():
    with pytest.raises(NetworkError, match=r"chain\.network 'sim://h:1'") as info:
        check_network("sim://h:1", SubstrateBackends({}))
    assert "taowatch[sim]" in str(info.value)


def test_a_backend_whose_package_does_not_import_says_which_extra_to_install():
    def missing() -> Any:
        raise ModuleNotFoundError("No module named 'simnet'")

    with pytest.raises(NetworkError, match=r"chain\.network 'sim://h:1'") as info:
        check_network("sim://h:1", SubstrateBackends({"sim": missing}))
    assert "taowatch[sim]" in str(info.value) and "No module named 'simnet'" in str(info.value)


def test_real_chains_stay_with_the_sdk_whatever_is_registered():
    with pytest.raises(ValueError, match="wss"):
        SubstrateBackends.of({"wss": RecordingBackend()})
    test_net = SubstrateBackends({}).substrate_for("test").substrate
    assert isinstance(test_net, bt.RpcSubstrate)
    assert test_net.endpoint == settings.NETWORKS["test"]
