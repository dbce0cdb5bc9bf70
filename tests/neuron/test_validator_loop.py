"""The validator against in-process miners and a scripted chain: outcomes, scores, weights."""

from __future__ import annotations

import asyncio
import json
import random

import aiohttp
import bittensor as bt
import pytest
from aiohttp.test_utils import TestServer
from bittensor.error_map import ErrorCode

from common.metric_names import Runtime as R
from neuron.config import ValidatorConfig
from neuron.metagraph import MetagraphView, Peer
from neuron.runtime import build_runtime
from neuron.task import EchoTask, PoorQuality
from neuron.validator import Validator, classify_failure
from neuron.wallet import HotkeyWallet
from tests.support.neuron import MINER, SMALL, VALIDATOR, CountingEcho, make_axon

GOOD = bt.keyfiles.Keypair.create_from_uri("//taowatch/test/good")
POOR = bt.keyfiles.Keypair.create_from_uri("//taowatch/test/poor")


class ScriptedChain:
    """``execute`` answers from a script; the commit-reveal switch is a plain attribute."""

    def __init__(self, outcomes, *, commit_reveal: bool = False):
        self.outcomes = list(outcomes)
        self.intents = []
        self.commit_reveal = commit_reveal
        self.subnets = self.hyperparameters = self

    async def commit_reveal_enabled(self, netuid):
        return self.commit_reveal

    async def reveal_period(self, netuid):
        return 1

    async def execute(self, intent, wallet, **kwargs):
        assert kwargs["wait_for_finalization"] is False
        self.intents.append(intent)
        step = self.outcomes.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step


def _validator(chain=None, *, timeout: float = 2.0, fresh_every: int = 5) -> Validator:
    config = ValidatorConfig.model_validate(
        {
            "chain": {"network": "sim://127.0.0.1:1", "netuid": 1},
            "wallet": {"name": "unused"},
            "metrics": {"enabled": False},
            "query": {
                "task": "echo",
                "sample_size": 10,
                "timeout_seconds": timeout,
                "fresh_connection_every_steps": fresh_every,
            },
            "scoring": {"ema_alpha": 1.0},
        }
    )
    cold = bt.keyfiles.Keypair(ss58_address=SMALL.ss58_address)
    wallet = HotkeyWallet(hotkey=VALIDATOR, coldkeypub=cold, source="test")
    runtime = build_runtime(config, wallet, chain or ScriptedChain([]))
    return Validator(runtime, rng=random.Random(0))


def _miner_view(miner_hotkey: str):
    peers = [
        Peer(0, VALIDATOR.ss58_address, "ck", 5000.0, True, None, 90),
        Peer(1, miner_hotkey, "ck", 0.0, False, None, 90),
    ]
    return MetagraphView.build(netuid=1, block=100, tempo=10, weights_rate_limit=2, peers=peers)


async def _serve(hotkey, task, *, view=None):
    axon, _ = make_axon(task=task, current=view or _miner_view(hotkey.ss58_address))
    axon._verifier.own_hotkey = hotkey.ss58_address
    server = TestServer(axon.app(), host="127.0.0.1")
    await server.start_server()
    return server


class _Hang(EchoTask):
    async def solve(self, request):
        await asyncio.sleep(30)


@pytest.fixture
async def world():
    servers = []

    async def build():
        good = await _serve(GOOD, CountingEcho())
        poor = await _serve(POOR, PoorQuality(EchoTask(), wrong_fraction=1.0, delay=0.0))
        # This miner's metagraph does not know the validator: it refuses it.
        stranger_view = MetagraphView.build(
            netuid=1, block=1, tempo=10, weights_rate_limit=2, peers=[]
        )
        refusing = await _serve(SMALL, CountingEcho(), view=stranger_view)
        hanging = await _serve(MINER, _Hang())
        servers.extend([good, poor, refusing, hanging])
        peers = [
            Peer(0, VALIDATOR.ss58_address, "ck", 5000.0, True, None, 90),
            Peer(1, GOOD.ss58_address, "ck", 0.0, False, f"127.0.0.1:{good.port}", 90),
            Peer(2, POOR.ss58_address, "ck", 0.0, False, f"127.0.0.1:{poor.port}", 90),
            Peer(3, SMALL.ss58_address, "ck", 0.0, False, f"127.0.0.1:{refusing.port}", 90),
            Peer(4, MINER.ss58_address, "ck", 0.0, False, f"127.0.0.1:{hanging.port}", 90),
            Peer(5, "5Unreachable", "ck", 0.0, False, "127.0.0.1:1", 90),
            Peer(6, "5NotServing", "ck", 0.0, False, None, 90),
        ]
        return MetagraphView.build(netuid=1, block=100, tempo=10, weights_rate_limit=2, peers=peers)

    yield build
    for server in servers:
        await server.close()


async def test_a_step_queries_serving_miners_and_scores_only_correct_answers(world):
    view = await world()
    validator = _validator(timeout=0.5)
    validator.metagraph.view = view
    validator._on_sync(view)
    validator._session = aiohttp.ClientSession()
    try:
        assert await validator.step() == 5  # itself and the non-serving uid are skipped
    finally:
        await validator._session.close()
    scores = validator.board.snapshot()
    assert scores[1] > 0.8  # correct and fast
    assert scores[2] == scores[3] == scores[4] == scores[5] == 0.0
    m = validator.metrics
    for outcome in ("correct", "wrong", "refused", "timeout", "unreachable"):
        assert m.sample(R.VALIDATOR_QUERIES + "_total", outcome=outcome) == 1, outcome
    assert m.sample(R.VALIDATOR_QUERY_DURATION_SECONDS + "_count") == 5
    assert m.sample(R.VALIDATOR_STEP_DURATION_SECONDS + "_count") == 1
    assert m.sample(R.VALIDATOR_MINER_SCORE, uid="1") == pytest.approx(scores[1])


async def test_set_weights_outcomes_are_classified_and_counted():
    chain = ScriptedChain(
        [
            bt.ChainError("retry in ~3 blocks", code=ErrorCode.RATE_LIMITED),
            bt.RpcConnectionError("connection reset"),
            bt.ExtrinsicResult(
                success=False, error=bt.ChainError("no permit", code=ErrorCode.NOT_AUTHORIZED)
            ),
            bt.ExtrinsicResult(success=True, extrinsic_id="123-0001"),
        ]
    )
    validator = _validator(chain)
    validator.board.sync(["a", "b", "c"])
    validator.board.update([1, 2], [1.0, 0.5])
    outcomes = [await validator.set_weights(head=120) for _ in range(4)]
    assert outcomes == ["rate_limited", "rpc_error", "not_authorized", "success"]
    for outcome in outcomes:
        assert validator.metrics.sample(R.VALIDATOR_SET_WEIGHTS + "_total", outcome=outcome) == 1
    assert validator.last_set_weights_block == 123
    intent = chain.intents[-1]
    assert intent.uids == [1, 2] and intent.weights == pytest.approx([2 / 3, 1 / 3])
    assert validator.metrics.sample(R.VALIDATOR_LAST_SET_WEIGHTS_BLOCK) == 123


async def test_the_path_follows_the_chains_commit_reveal_switch_read_at_every_attempt():
    committed = bt.ExtrinsicResult(success=True, extrinsic_id="130-0001", data={"reveal_round": 9})
    chain = ScriptedChain(
        [bt.ExtrinsicResult(success=True, extrinsic_id="120-0001"), committed], commit_reveal=False
    )
    validator = _validator(chain)
    validator.board.sync(["a", "b", "c"])
    validator.board.update([1, 2], [1.0, 0.5])
    m = validator.metrics
    assert m.sample(R.VALIDATOR_WEIGHT_COMMITS + "_total") == 0
    assert m.sample(R.VALIDATOR_WEIGHT_REVEALS + "_total") == 0
    assert await validator.set_weights(head=120) == "success"
    assert type(chain.intents[-1]) is bt.SetWeights
    assert m.sample(R.VALIDATOR_WEIGHT_COMMITS + "_total") == 0
    assert m.sample(R.VALIDATOR_LAST_COMMIT_BLOCK) is None

    chain.commit_reveal = True  # the owner switched it on between two attempts
    assert await validator.set_weights(head=130) == "success"
    assert type(chain.intents[-1]) is bt.CommitWeights
    assert m.sample(R.VALIDATOR_WEIGHT_COMMITS + "_total") == 1
    assert m.sample(R.VALIDATOR_LAST_COMMIT_BLOCK) == 130
    assert m.sample(R.VALIDATOR_UNREVEALED_COMMITS) == 1
    assert m.sample(R.VALIDATOR_SET_WEIGHTS + "_total", outcome="success") == 2


async def test_nothing_is_submitted_before_any_miner_scored():
    chain = ScriptedChain([])
    validator = _validator(chain)
    validator.board.sync(["a", "b"])
    assert await validator.set_weights(head=10) is None
    assert chain.intents == []


def test_weights_are_due_at_the_subnet_rate_limit_after_the_last_update():
    validator = _validator()
    peers = [Peer(0, VALIDATOR.ss58_address, "ck", 5000.0, True, None, 100)]
    validator.metagraph.view = MetagraphView.build(
        netuid=1, block=100, tempo=10, weights_rate_limit=5, peers=peers
    )
    assert not validator.weights_due(104)
    assert validator.weights_due(105)
    validator.last_set_weights_block = 106
    assert not validator.weights_due(110)
    assert validator.weights_due(111)


def test_failures_map_to_bounded_outcome_labels():
    assert classify_failure(bt.ChainError("x", code=ErrorCode.NOT_REGISTERED)) == "not_registered"
    assert classify_failure(TimeoutError()) == "timeout"
    assert classify_failure(ConnectionResetError()) == "rpc_error"
    assert classify_failure(ValueError("?")) == "error"


async def _raw_miner(handler) -> TestServer:
    from aiohttp import web

    app = web.Application()
    app.router.add_post("/echo", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


async def test_a_reply_split_into_chunks_is_read_whole_and_an_oversized_one_is_malformed():
    from aiohttp import web

    async def chunked(request):
        payload = json.loads(await request.read())["payload"]
        body = json.dumps({"payload": payload}).encode()
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        for i in range(len(body)):  # one byte per write: the worst case for a reader
            await resp.write(body[i : i + 1])
        await resp.write_eof()
        return resp

    async def huge(request):
        return web.Response(body=b"x" * (2 << 20), content_type="application/json")

    servers = [await _raw_miner(chunked), await _raw_miner(huge)]
    validator = _validator()
    validator._session = aiohttp.ClientSession()
    try:
        peers = [
            Peer(i + 1, f"5Miner{i}", "ck", 0.0, False, f"127.0.0.1:{s.port}", 1)
            for i, s in enumerate(servers)
        ]
        assert await validator.query(peers[0]) > 0.8
        assert await validator.query(peers[1]) == 0.0
    finally:
        await validator._session.close()
        for server in servers:
            await server.close()
    m = validator.metrics
    assert m.sample(R.VALIDATOR_QUERIES + "_total", outcome="correct") == 1
    assert m.sample(R.VALIDATOR_QUERIES + "_total", outcome="malformed") == 1


async def test_fresh_connection_queries_show_a_miner_that_only_serves_its_kept_alive_callers():
    from neuron.serving import ConnectionGuard, ServingLimits, start_bounded_site

    axon, miner_metrics = make_axon(task=CountingEcho(), current=_miner_view(GOOD.ss58_address))
    axon._verifier.own_hotkey = GOOD.ss58_address
    # A cap of one: the validator's kept-alive connection holds the only place.
    guard = ConnectionGuard(ServingLimits(1, 30.0, 30.0, 30.0, 4096), miner_metrics)
    runner, port = await start_bounded_site(axon.app(), "127.0.0.1", 0, guard)
    peers = [
        Peer(0, VALIDATOR.ss58_address, "ck", 5000.0, True, None, 90),
        Peer(1, GOOD.ss58_address, "ck", 0.0, False, f"127.0.0.1:{port}", 90),
    ]
    view = MetagraphView.build(netuid=1, block=100, tempo=10, weights_rate_limit=2, peers=peers)
    validator = _validator(fresh_every=2)
    validator.metagraph.view = view
    validator._on_sync(view)
    validator._session = aiohttp.ClientSession()
    validator._fresh_session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(force_close=True)
    )
    try:
        for _ in range(4):
            await validator.step()
    finally:
        await validator._session.close()
        await validator._fresh_session.close()
        await runner.cleanup()
    m = validator.metrics
    # Steps 1 and 3 reuse the kept-alive connection and look healthy ...
    assert m.sample(R.VALIDATOR_QUERIES + "_total", outcome="correct") == 2
    # ... steps 2 and 4 open a new one, and the miner turns it away at its cap.
    assert m.sample(R.VALIDATOR_FRESH_CONNECTION_QUERIES + "_total", outcome="miner_error") == 2
    assert m.sample(R.VALIDATOR_FRESH_CONNECTION_QUERIES + "_total", outcome="correct") == 0


async def test_a_reveal_check_that_fails_every_second_is_logged_once_a_minute():
    from bittensor._transport.errors import StorageFunctionNotFound

    validator = _validator()
    lines: list[dict] = []
    validator.log = type("Log", (), {"warning": lambda self, event, **kw: lines.append(kw)})()

    async def lacking(head: int) -> int:
        raise StorageFunctionNotFound("storage function TimelockedWeightCommits not found")

    validator.reveals.observe = lacking
    for head in range(30):  # one check a second for half a minute: an older runtime
        await validator.observe_reveals(head)
    assert len(lines) == 1
    assert "TimelockedWeightCommits not found" in lines[0]["error"]
