"""``taowatch.chain.make_client``: which substrate it builds, and the ``wrap_substrate`` hook.

Nothing here connects: the wrapper answers the head itself, which proves the client reads
through the wrapped substrate rather than around it.
"""

from __future__ import annotations

from typing import Any

import bittensor as bt
import pytest
from bittensor import settings

from simnet.remote import RemoteSubstrate
from taowatch.chain import NetworkError, make_client


class HeadAnsweringWrapper:
    """Wraps a substrate; answers ``block_number`` itself and records what it wrapped."""

    def __init__(self, inner: Any, head: int):
        self.inner = inner
        self.head = head
        self.token_symbols: dict[int, str] = {}

    async def block_number(self) -> int:
        return self.head

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def wrapping(head: int) -> tuple[list[HeadAnsweringWrapper], Any]:
    made: list[HeadAnsweringWrapper] = []

    def wrap(substrate: Any) -> HeadAnsweringWrapper:
        made.append(HeadAnsweringWrapper(substrate, head))
        return made[-1]

    return made, wrap


async def test_a_sim_network_gets_a_remote_substrate_under_the_wrapper():
    made, wrap = wrapping(head=4242)
    client = make_client("sim://127.0.0.1:9955", timeout=3, wrap_substrate=wrap)
    assert isinstance(client, bt.Client)
    assert len(made) == 1
    inner = made[0].inner
    assert isinstance(inner, RemoteSubstrate)
    assert (inner.host, inner.port) == ("127.0.0.1", 9955)
    assert await client.block() == 4242  # read through the wrapper, no server needed
    assert client.endpoint.endswith(".invalid")  # a label nothing can ever resolve


async def test_finney_gets_the_sdks_rpc_substrate_with_its_default_pools_under_the_wrapper():
    made, wrap = wrapping(head=7)
    client = make_client("finney", wrap_substrate=wrap)
    inner = made[0].inner
    assert isinstance(inner, bt.RpcSubstrate)
    primary = settings.NETWORKS["finney"]
    assert inner.endpoint == primary == client.endpoint
    assert client.network == "finney"
    assert inner.fallback_endpoints == settings.default_fallback_endpoints("finney")
    assert inner.fallback_endpoints and primary not in inner.fallback_endpoints
    assert inner.archive_endpoints == settings.default_archive_endpoints("finney")
    assert await client.block() == 7


def test_an_empty_fallback_list_pins_a_real_client_to_its_endpoint():
    made, wrap = wrapping(head=1)
    make_client("wss://rpc.example.com:443", fallback_endpoints=[], wrap_substrate=wrap)
    inner = made[0].inner
    assert inner.endpoint == "wss://rpc.example.com:443"
    assert inner.fallback_endpoints == []


def test_without_a_hook_the_client_still_builds_for_every_kind_of_network():
    for network in ("finney", "test", "ws://127.0.0.1:9944", "sim://localhost:1"):
        assert isinstance(make_client(network), bt.Client)


@pytest.mark.parametrize(
    ("network", "says"),
    [
        ("mainnet", "sim://HOST:PORT"),
        ("http://127.0.0.1:9944", "ws://"),
        ("sim://127.0.0.1", "needs a host and a port"),
    ],
)
def test_a_bad_network_is_refused_with_what_is_accepted(network, says):
    made, wrap = wrapping(head=1)
    with pytest.raises(NetworkError, match=r"chain\.network") as info:
        make_client(network, wrap_substrate=wrap)
    assert says in str(info.value)
    assert made == []  # refused before anything is built
