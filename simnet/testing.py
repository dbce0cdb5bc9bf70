"""Helpers for tests and scenarios: dev keys, keypair wallets, in-process clients, a small world.

Everything here is deterministic: keys come from ``//Name`` dev URIs, and ``small_world``
builds the same chain, block for block, on every call with the same arguments.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import bittensor as bt
from bittensor.keyfiles import Keypair

from common.chain import ChainAccess, NetworkError, SubstrateBackends
from simnet.state import RAO_PER_TAO, Chain
from simnet.subnets import legacy_rules
from simnet.substrate import SimSubstrate

INPROC_LABEL = "ws://simnet-inproc.invalid"


@cache
def dev_keypair(name: str) -> Keypair:
    """``//Alice``-style dev keypair; ``name`` may be given with or without the slashes."""
    uri = name if name.startswith("//") else f"//{name}"
    return Keypair.create_from_uri(uri)


@dataclass(frozen=True)
class KeyWallet:
    """A wallet made of two keypairs, accepted wherever the SDK takes a ``wallet``."""

    coldkey: Keypair
    hotkey: Keypair

    @property
    def coldkeypub(self) -> Keypair:
        return self.coldkey

    @property
    def hotkeypub(self) -> Keypair:
        return self.hotkey


def dev_wallet(name: str) -> KeyWallet:
    """Coldkey ``//Name``, hotkey ``//Name//hot``."""
    return KeyWallet(coldkey=dev_keypair(name), hotkey=dev_keypair(f"//{name}//hot"))


def isolate_token_symbol_cache() -> None:
    """Point the SDK's token-symbol cache at a temp file (it writes ~/.bittensor otherwise)."""
    if "BTCLI_TOKEN_SYMBOLS_CACHE" not in os.environ:
        fd, path = tempfile.mkstemp(prefix="simnet-token-symbols-", suffix=".json")
        os.close(fd)
        os.unlink(path)
        os.environ["BTCLI_TOKEN_SYMBOLS_CACHE"] = path


def sim_client(chain: Chain, *, label: str = INPROC_LABEL) -> bt.Client:
    """An unconnected ``bt.Client`` whose substrate is this chain, in process."""
    isolate_token_symbol_cache()
    return bt.Client(label, substrate=SimSubstrate(chain))


class InProcessBackend:
    """A ``sim`` substrate backend whose networks are in-process substrates (tests, benches).

    ``substrates`` maps each ``sim://`` network to the substrate that serves it; ``every``
    serves every ``sim://`` network with one substrate instead.
    """

    usage = "sim://HOST:PORT naming an in-process substrate"

    def __init__(
        self,
        substrates: Mapping[str, Any] | None = None,
        *,
        every: Any = None,
        label: str = INPROC_LABEL,
    ):
        self._substrates = dict(substrates or {})
        self._every = every
        self._label = label

    def check(self, network: str) -> None:
        if network not in self._substrates and (
            self._every is None or not network.startswith("sim://")
        ):
            raise NetworkError(f"chain.network {network!r}: no in-process substrate serves it")

    def substrate_for(self, network: str, *, timeout: float, **_pools: Any) -> ChainAccess:
        self.check(network)
        return ChainAccess(self._label, self._substrates.get(network, self._every))


def in_process_backends(
    substrates: Mapping[str, Any] | None = None, *, every: Any = None
) -> SubstrateBackends:
    """Substrate backends that serve ``sim://`` networks from in-process substrates."""
    isolate_token_symbol_cache()
    return SubstrateBackends.of({"sim": InProcessBackend(substrates, every=every)})


@dataclass(frozen=True)
class World:
    chain: Chain
    netuid: int
    owner: KeyWallet
    validators: tuple[KeyWallet, ...]
    miners: tuple[KeyWallet, ...]


def small_world(
    *,
    netuid: int = 1,
    validators: int = 2,
    miners: int = 3,
    tempo: int = 10,
    max_uids: int = 16,
    block_time: float = 12.0,
    seed: int = 0,
    weighted_miners: int | None = None,
) -> World:
    """A subnet with validators (uids first) and miners, weights set, and two epochs run.

    Validators put every weight on the first ``weighted_miners`` miners (all but the last
    miner by default), so the last miner earns no incentive. Two epochs run because permits
    lag one epoch (yuma.md §2.3): the first grants them, the second uses them.
    """
    chain = Chain(block_time=block_time, seed=seed)
    owner = dev_wallet("Alice")
    chain.fund(owner.coldkey.ss58_address, 10_000 * RAO_PER_TAO)
    chain.create_subnet(
        netuid,
        tempo=tempo,
        max_uids=max_uids,
        immunity_period=4 * (tempo + 1),
        activity_cutoff=50 * (tempo + 1),
        weights_rate_limit=1,
        serving_rate_limit=1,
        owner_coldkey=owner.coldkey.ss58_address,
        owner_hotkey=owner.hotkey.ss58_address,
        **legacy_rules(),
    )
    vals = tuple(dev_wallet(f"Validator{i}") for i in range(validators))
    mins = tuple(dev_wallet(f"Miner{i}") for i in range(miners))
    for i, w in enumerate(vals):
        chain.fund(w.coldkey.ss58_address, 1_000 * RAO_PER_TAO)
        chain.register(netuid, w.hotkey.ss58_address, w.coldkey.ss58_address)
        chain.set_stake(
            netuid, w.hotkey.ss58_address, w.coldkey.ss58_address, (1_000 + 500 * i) * RAO_PER_TAO
        )
    for w in mins:
        chain.fund(w.coldkey.ss58_address, 100 * RAO_PER_TAO)
        chain.register(netuid, w.hotkey.ss58_address, w.coldkey.ss58_address)
    # Weights must postdate the miners' registration to count (the outdated-weight mask).
    chain.step(1)
    _run_to_epoch(chain, netuid)
    weighted = mins[: (miners - 1 if weighted_miners is None else weighted_miners)]
    sn = chain.subnet(netuid)
    uids = [sn.uids[w.hotkey.ss58_address] for w in weighted]
    for k, w in enumerate(vals):
        if uids:
            chain.set_weights(
                netuid,
                w.hotkey.ss58_address,
                uids,
                [1 + (k + j) % 3 for j in range(len(uids))],
            )
    _run_to_epoch(chain, netuid)
    return World(chain=chain, netuid=netuid, owner=owner, validators=vals, miners=mins)


def _run_to_epoch(chain: Chain, netuid: int) -> None:
    """Step until the subnet's next epoch has run."""
    before = chain.subnet(netuid).epoch_index
    while chain.subnet(netuid).epoch_index == before:
        chain.step()
