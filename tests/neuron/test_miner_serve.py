"""ServeAxon is published when, and only when, the chain's record differs from our address."""

from __future__ import annotations

import bittensor as bt

from neuron.config import MinerConfig
from neuron.metagraph import MetagraphView, Peer
from neuron.miner import Miner
from neuron.runtime import build_runtime
from neuron.wallet import HotkeyWallet
from tests.support.neuron import MINER, VALIDATOR
from tests.support.waiting import eventually


class RecordingChain:
    def __init__(self, success: bool = True):
        self.intents = []
        self.success = success

    async def execute(self, intent, wallet, **kwargs):
        assert kwargs["wait_for_finalization"] is False
        assert wallet.hotkey is MINER  # signed by the hotkey, never a coldkey
        self.intents.append(intent)
        return bt.ExtrinsicResult(success=self.success, message="ok" if self.success else "no")


def _miner(chain) -> Miner:
    config = MinerConfig.model_validate(
        {
            "chain": {"network": "sim://127.0.0.1:1", "netuid": 3},
            "wallet": {"name": "unused"},
            "axon": {"host": "127.0.0.1", "port": 8123, "external_ip": "203.0.113.7"},
            "metrics": {"enabled": False},
        }
    )
    cold = bt.keyfiles.Keypair(ss58_address=VALIDATOR.ss58_address)
    wallet = HotkeyWallet(hotkey=MINER, coldkeypub=cold, source="test")
    return Miner(build_runtime(config, wallet, chain))


def _view(axon: str | None, *, registered: bool = True) -> MetagraphView:
    peers = [Peer(0, VALIDATOR.ss58_address, "ck", 10.0, True, None, 1)]
    if registered:
        peers.append(Peer(1, MINER.ss58_address, "ck", 0.0, False, axon, 1))
    return MetagraphView.build(netuid=3, block=5, tempo=10, weights_rate_limit=1, peers=peers)


async def test_a_changed_address_is_served_once_and_an_unchanged_one_never():
    chain = RecordingChain()
    miner = _miner(chain)
    miner._on_sync(_view("10.0.0.1:8091"))
    await eventually(lambda: miner._serving.done(), what="serve task")
    served = miner._serving
    assert [(i.netuid, i.ip, i.port) for i in chain.intents] == [(3, "203.0.113.7", 8123)]
    miner._on_sync(_view("10.0.0.1:8091"))  # the chain has not caught up yet: no resubmit
    miner._on_sync(_view("203.0.113.7:8123"))
    await miner._serving  # runs to completion whatever serve the syncs may have scheduled
    assert miner._serving is served
    assert len(chain.intents) == 1


async def test_an_address_already_on_chain_or_an_unregistered_miner_serves_nothing():
    chain = RecordingChain()
    miner = _miner(chain)
    miner._on_sync(_view("203.0.113.7:8123"))
    miner._on_sync(_view(None, registered=False))
    # Serving is scheduled synchronously inside _on_sync: with no task, none can run later.
    assert miner._serving is None
    assert chain.intents == []


async def test_a_refused_serve_is_retried_at_the_next_sync():
    chain = RecordingChain(success=False)
    miner = _miner(chain)
    miner._on_sync(_view(None))
    await eventually(lambda: miner._serving.done(), what="first attempt")
    miner._on_sync(_view(None))
    await eventually(lambda: miner._serving.done() and len(chain.intents) == 2, what="retry")
    assert [(i.ip, i.port) for i in chain.intents] == [("203.0.113.7", 8123)] * 2
