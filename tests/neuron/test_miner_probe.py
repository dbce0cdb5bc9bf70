"""The miner's probe endpoint: a signed GET answered without the task, the metagraph's judgement
of the caller, or a refusal count; forgeries and replays still refused."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer
from bittensor.keyfiles import Keypair

from common.metric_names import Runtime as R
from neuron.config import MinerConfig
from neuron.metrics import RefusalReason
from neuron.miner import Miner
from neuron.runtime import build_runtime
from neuron.wallet import HotkeyWallet
from tests.support.neuron import MINER, STRANGER, VALIDATOR, probe_headers


def refusals(metrics) -> float:
    return sum(
        metrics.sample(R.AXON_BLACKLISTED + "_total", reason=reason.value) or 0.0
        for reason in RefusalReason
    )


def answered(metrics, route: str, status: int) -> float:
    return metrics.sample(R.AXON_REQUESTS + "_total", route=route, status=str(status)) or 0.0


async def test_a_signed_probe_from_an_unregistered_hotkey_is_answered_with_the_miners_hotkey(
    served,
):
    client, _axon, _metrics = await served()
    resp = await client.get("/probe", headers=probe_headers())
    assert resp.status == 200
    assert await resp.json() == {
        "probe": "ok",
        "hotkey": MINER.ss58_address,
        "netuid": 1,
        "block": 100,
    }


async def test_a_probe_is_neither_a_refusal_nor_a_task_query(served):
    client, axon, metrics = await served(min_stake=1e9)  # no caller would pass the blacklist
    for _ in range(3):
        resp = await client.get("/probe", headers=probe_headers())
        assert resp.status == 200
    assert axon.task.calls == 0
    assert refusals(metrics) == 0
    assert answered(metrics, "/probe", 200) == 3
    assert answered(metrics, "/echo", 200) == 0


async def test_a_forged_probe_is_refused_and_counted(served):
    client, _axon, metrics = await served()
    headers = probe_headers(path="/probe?other")  # signed for another target than the one sent
    resp = await client.get("/probe", headers=headers)
    assert resp.status == 401
    assert (await resp.json())["error"] == "bad_signature"
    assert refusals(metrics) == 1


async def test_a_probe_signed_for_another_hotkey_is_refused(served):
    client, _axon, _metrics = await served()
    resp = await client.get("/probe", headers=probe_headers(receiver=VALIDATOR.ss58_address))
    assert resp.status == 403
    assert (await resp.json())["error"] == "wrong_receiver"


async def test_a_replayed_probe_is_refused(served):
    client, _axon, metrics = await served()
    headers = probe_headers()
    first = await client.get("/probe", headers=headers)
    again = await client.get("/probe", headers=headers)
    assert first.status == 200
    assert again.status == 403
    assert (await again.json())["error"] == "replayed"
    assert metrics.sample(R.AXON_BLACKLISTED + "_total", reason="replayed") == 1


async def test_an_unsigned_probe_is_refused(served):
    client, _axon, _metrics = await served()
    resp = await client.get("/probe")
    assert resp.status == 401
    assert (await resp.json())["error"] == "malformed_auth"


async def test_a_probe_with_a_body_is_refused_before_any_signature_work(served):
    client, _axon, metrics = await served()
    resp = await client.get("/probe", data=b"x" * 10, headers=probe_headers())
    assert resp.status == 413
    assert metrics.sample(R.AXON_BLACKLISTED + "_total", reason="oversized") == 1


async def test_probes_share_one_bounded_rate_whoever_signs_them(served):
    client, _axon, metrics = await served(probe_rate=0.001, probe_burst=2)
    statuses = []
    for key in (STRANGER, VALIDATOR, STRANGER):
        resp = await client.get("/probe", headers=probe_headers(key=key))
        statuses.append(resp.status)
    assert statuses == [200, 200, 429]
    assert metrics.sample(R.AXON_BLACKLISTED + "_total", reason="rate_limited") == 1


def _bundled_miner(**axon) -> Miner:
    config = MinerConfig.model_validate(
        {
            "chain": {"network": "sim://127.0.0.1:1", "netuid": 3},
            "wallet": {"name": "unused"},
            "axon": {"host": "127.0.0.1", "port": 0, **axon},
            "metrics": {"enabled": False},
        }
    )
    cold = Keypair(ss58_address=VALIDATOR.ss58_address)
    wallet = HotkeyWallet(hotkey=MINER, coldkeypub=cold, source="test")
    return Miner(build_runtime(config, wallet, None))


async def test_the_bundled_miner_answers_a_probe_before_its_first_metagraph_sync():
    miner = _bundled_miner()
    async with TestClient(TestServer(miner.axon.app())) as client:
        probe = await client.get("/probe", headers=probe_headers())
        route = miner.axon.route
        task = await client.post(route, data=b"{}", headers=probe_headers(path=route))
        assert probe.status == 200
        assert await probe.json() == {
            "probe": "ok",
            "hotkey": MINER.ss58_address,
            "netuid": 3,
            "block": None,
        }
        # The task route still needs the metagraph to judge its caller.
        assert task.status == 503
        assert (await task.json())["error"] == "metagraph_unavailable"


async def test_a_miner_with_probes_turned_off_has_no_probe_route():
    miner = _bundled_miner(probe_rate_per_second=0)
    async with TestClient(TestServer(miner.axon.app())) as client:
        resp = await client.get("/probe", headers=probe_headers())
        assert resp.status == 404
        assert (await resp.json())["error"] == "unknown_route"
