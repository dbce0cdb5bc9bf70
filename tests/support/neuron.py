"""Shared pieces for the neuron tests: dev keys, a fixed metagraph view, a counting task,
an axon wired as the miner wires it, signed request headers and wallets on disk."""

from __future__ import annotations

import random
from pathlib import Path

from bittensor.keyfiles import Keyfile, Keypair
from pydantic import BaseModel

from neuron.admission import PriorityGate, RateLimiter
from neuron.auth import Verifier, sign_request
from neuron.axon import Axon
from neuron.blacklist import CallerPolicy
from neuron.metagraph import MetagraphView, Peer
from neuron.metrics import NeuronMetrics, RuntimeState
from neuron.probe import ProbeResponder
from neuron.task import EchoTask

MINER = Keypair.create_from_uri("//taowatch/test/miner")
VALIDATOR = Keypair.create_from_uri("//taowatch/test/validator")  # permit, high stake
SMALL = Keypair.create_from_uri("//taowatch/test/small")  # permit, low stake
NOPERMIT = Keypair.create_from_uri("//taowatch/test/nopermit")  # registered, no permit
STRANGER = Keypair.create_from_uri("//taowatch/test/stranger")  # not registered


def view(block: int = 100) -> MetagraphView:
    peers = [
        Peer(0, VALIDATOR.ss58_address, "ck", 5000.0, True, None, 90),
        Peer(1, SMALL.ss58_address, "ck", 10.0, True, None, 90),
        Peer(2, NOPERMIT.ss58_address, "ck", 0.0, False, None, 90),
        Peer(3, MINER.ss58_address, "ck", 0.0, False, "127.0.0.1:1", 90),
    ]
    return MetagraphView.build(netuid=1, block=block, tempo=10, weights_rate_limit=2, peers=peers)


class CountingEcho(EchoTask):
    """The echo task, counting how often its handler really runs."""

    def __init__(self) -> None:
        self.calls = 0

    async def solve(self, request: BaseModel) -> BaseModel:
        self.calls += 1
        return await super().solve(request)


def make_axon(
    *,
    task=None,
    current=view,
    min_stake: float = 100.0,
    rate: float = 1000.0,
    burst: int = 1000,
    max_concurrent: int = 4,
    max_queue: int = 4,
    max_wait: float = 5.0,
    max_body: int = 4096,
    probe_rate: float = 1000.0,
    probe_burst: int = 1000,
    own: Keypair = MINER,
) -> tuple[Axon, NeuronMetrics]:
    metrics = NeuronMetrics(role="miner", netuid=1, hotkey=own.ss58_address)
    snapshot = current() if callable(current) else current
    gate = PriorityGate(max_concurrent, max_queue, max_wait)
    metrics.set_state_source(lambda: RuntimeState(inflight=gate.inflight, queue_depth=gate.depth))
    verifier = Verifier(own.ss58_address)
    probe = ProbeResponder(
        own_hotkey=own.ss58_address,
        netuid=1,
        verifier=verifier,
        limiter=RateLimiter(probe_rate, probe_burst),
        view=lambda: snapshot,
        metrics=metrics,
    )
    axon = Axon(
        task=task or CountingEcho(),
        verifier=verifier,
        policy=CallerPolicy(require_validator_permit=True, min_stake=min_stake),
        view=lambda: snapshot,
        gate=gate,
        limiter=RateLimiter(rate, burst),
        metrics=metrics,
        max_body_bytes=max_body,
        probe=probe,
    )
    return axon, metrics


def signed(
    body: bytes,
    *,
    key: Keypair = VALIDATOR,
    path: str = "/echo",
    receiver: str | None = None,
    nonce_ns: int | None = None,
) -> dict[str, str]:
    if nonce_ns is None:
        headers = sign_request(
            key, method="POST", path=path, body=body, receiver=receiver or MINER.ss58_address
        )
    else:
        from bittensor import http_auth

        headers = http_auth.sign(
            key,
            method="POST",
            path=path,
            body=body,
            receiver_ss58=receiver or MINER.ss58_address,
            nonce_ns=nonce_ns,
        )
    return {**headers, "Content-Type": "application/json"}


def probe_headers(
    *, key: Keypair = STRANGER, receiver: str | None = None, path: str = "/probe"
) -> dict[str, str]:
    """btauth/1 headers for ``GET /probe``, signed by an unregistered prober by default."""
    return sign_request(
        key, method="GET", path=path, body=b"", receiver=receiver or MINER.ss58_address
    )


def write_wallet(root: Path, name: str, hot: Keypair, cold: Keypair, *, coldkey: bool = False):
    """A bittensor Wallet layout on disk (hotkey 0600, coldkeypub.txt, optional coldkey)."""
    Keyfile(root / name / "hotkeys" / "default").set_keypair(hot, encrypt=False, overwrite=True)
    Keyfile(root / name / "coldkeypub.txt").set_keypair(
        Keypair(ss58_address=cold.ss58_address), encrypt=False, overwrite=True
    )
    if coldkey:
        Keyfile(root / name / "coldkey").set_keypair(cold, encrypt=False, overwrite=True)


def rng(seed: int = 0) -> random.Random:
    return random.Random(seed)
