"""Metagraph sync: survives RPC failures, exposes its age, and notices its own deregistration."""

from __future__ import annotations

from types import SimpleNamespace

import bittensor as bt
import structlog

from common.metric_names import Runtime as R
from neuron.metagraph import MetagraphSync
from neuron.metrics import NeuronMetrics, RuntimeState
from tests.support.neuron import MINER, VALIDATOR


def _neuron(uid: int, hotkey: str, stake: float = 1.0, permit: bool = False):
    return SimpleNamespace(
        uid=uid,
        hotkey=hotkey,
        coldkey="ck",
        total_stake=SimpleNamespace(amount=stake),
        validator_permit=permit,
        axon="127.0.0.1:8091",
        last_update=1,
    )


class FakeClient:
    """Answers ``subnets.metagraph`` from a script: a metagraph-like object or an exception."""

    def __init__(self, script):
        self.script = list(script)
        self.subnets = SimpleNamespace(metagraph=self._metagraph)

    async def block_time(self) -> float:
        return 0.25

    async def _metagraph(self, netuid: int, *, commitments: bool = True):
        assert commitments is False  # commitments cost two extra map reads we never use
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def _graph(block: int, hotkeys: list[str], tempo: int = 360):
    return SimpleNamespace(
        netuid=1,
        block=block,
        tempo=tempo,
        raw={"weights_rate_limit": 5},
        neurons=[_neuron(i, hk, permit=i == 0) for i, hk in enumerate(hotkeys)],
    )


def _sync(client, metrics, interval=300.0):
    sync = MetagraphSync(client, 1, MINER.ss58_address, interval=interval, retry=1, metrics=metrics)
    metrics.set_state_source(
        lambda: RuntimeState(
            metagraph_block=sync.view.block if sync.view else None,
            metagraph_last_sync=sync.view.synced_at if sync.view else None,
            metagraph_sync_interval=sync.effective_interval,
            self_registered=sync.self_registered,
        )
    )
    return sync


async def test_a_failed_sync_keeps_the_last_good_view_and_is_counted():
    metrics = NeuronMetrics(role="miner", netuid=1, hotkey=MINER.ss58_address)
    client = FakeClient(
        [
            _graph(100, [VALIDATOR.ss58_address, MINER.ss58_address]),
            bt.RpcConnectionError("connection refused"),
            TimeoutError(),
        ]
    )
    sync = _sync(client, metrics)
    assert metrics.sample(R.METAGRAPH_BLOCK) is None  # nothing exported before the first sync
    # The failure counter exists from the start, so a healthy neuron's rate() reads 0.
    assert metrics.sample(R.METAGRAPH_SYNC_FAILURES + "_total") == 0
    assert await sync.sync_once() is True
    assert await sync.sync_once() is False
    assert await sync.sync_once() is False
    assert sync.view.block == 100
    assert metrics.sample(R.METAGRAPH_BLOCK) == 100
    assert metrics.sample(R.METAGRAPH_SYNC_FAILURES + "_total") == 2
    assert metrics.sample(R.METAGRAPH_LAST_SYNC_TIMESTAMP_SECONDS) == sync.view.synced_at
    assert sync.view.by_hotkey[VALIDATOR.ss58_address].validator_permit is True


async def test_the_sync_interval_shrinks_to_one_tempo_when_a_tempo_is_shorter():
    metrics = NeuronMetrics(role="miner", netuid=1, hotkey=MINER.ss58_address)
    client = FakeClient([_graph(100, [MINER.ss58_address], tempo=20)])
    sync = _sync(client, metrics, interval=300.0)
    assert sync.effective_interval == 300.0
    await sync.sync_once()
    assert sync.effective_interval == 5.0  # 20 blocks x 0.25 s
    assert metrics.sample(R.METAGRAPH_SYNC_INTERVAL_SECONDS) == 5.0


async def test_losing_its_own_registration_is_logged_loudly_and_exported():
    metrics = NeuronMetrics(role="miner", netuid=1, hotkey=MINER.ss58_address)
    client = FakeClient(
        [
            _graph(100, [VALIDATOR.ss58_address, MINER.ss58_address]),
            _graph(101, [VALIDATOR.ss58_address, "5SomeoneElse"]),
        ]
    )
    sync = _sync(client, metrics)
    with structlog.testing.capture_logs() as logs:
        await sync.sync_once()
        assert metrics.sample(R.SELF_REGISTERED) == 1
        assert sync.own_uid == 1
        await sync.sync_once()
    assert metrics.sample(R.SELF_REGISTERED) == 0
    assert sync.own_uid is None
    loud = [e for e in logs if e["log_level"] == "error"]
    assert loud and "not registered" in loud[0]["event"]
    assert loud[0]["was_registered"] is True


async def test_a_missing_subnet_is_a_failed_sync():
    metrics = NeuronMetrics(role="miner", netuid=1, hotkey=MINER.ss58_address)
    sync = _sync(FakeClient([None]), metrics)
    assert await sync.sync_once() is False
    assert metrics.sample(R.METAGRAPH_SYNC_FAILURES + "_total") == 1


async def test_a_failing_listener_does_not_stop_the_sync():
    metrics = NeuronMetrics(role="miner", netuid=1, hotkey=MINER.ss58_address)
    client = FakeClient([_graph(100, [MINER.ss58_address]), _graph(101, [MINER.ss58_address])])
    sync = _sync(client, metrics)
    seen = []

    def broken(view):
        seen.append(view.block)
        raise RuntimeError("consumer bug")

    sync.listeners.append(broken)
    assert await sync.sync_once() is True
    assert await sync.sync_once() is True
    assert seen == [100, 101] and sync.view.block == 101
