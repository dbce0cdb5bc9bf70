"""The miner's axon, in process: who gets through, who is refused with what, and the counts."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from common.metric_names import Runtime as R
from neuron.admission import PriorityGate, QueueFull, QueueTimeout, RateLimiter
from tests.support.neuron import (
    NOPERMIT,
    SMALL,
    STRANGER,
    CountingEcho,
    signed,
)
from tests.support.waiting import eventually

BODY = json.dumps({"payload": "hello"}).encode()


def refused(metrics, reason: str) -> float:
    return metrics.sample(R.AXON_BLACKLISTED + "_total", reason=reason) or 0.0


def answered(metrics, status: int, route: str = "/echo") -> float:
    return metrics.sample(R.AXON_REQUESTS + "_total", route=route, status=str(status)) or 0.0


async def test_a_validly_signed_request_from_a_validator_is_answered(served):
    client, axon, metrics = await served()
    resp = await client.post("/echo", data=BODY, headers=signed(BODY))
    assert resp.status == 200
    assert await resp.json() == {"payload": "hello"}
    assert axon.task.calls == 1
    assert answered(metrics, 200) == 1
    assert metrics.sample(R.AXON_REQUEST_DURATION_SECONDS + "_count", route="/echo") == 1


async def test_a_forged_signature_is_refused_with_401_and_counted(served):
    client, axon, metrics = await served()
    headers = signed(BODY)
    other = json.dumps({"payload": "tampered"}).encode()  # signature covers BODY, not this
    resp = await client.post("/echo", data=other, headers=headers)
    assert resp.status == 401
    assert (await resp.json())["error"] == "bad_signature"
    assert refused(metrics, "bad_signature") == 1
    assert answered(metrics, 401) == 1
    assert axon.task.calls == 0


async def test_a_replayed_request_is_refused_with_403_and_counted(served):
    client, axon, metrics = await served()
    headers = signed(BODY)
    first = await client.post("/echo", data=BODY, headers=headers)
    again = await client.post("/echo", data=BODY, headers=headers)
    assert first.status == 200
    assert again.status == 403
    assert (await again.json())["error"] == "replayed"
    assert refused(metrics, "replayed") == 1
    assert axon.task.calls == 1


async def test_a_stale_request_is_refused_with_401_and_counted(served):
    client, axon, metrics = await served()
    old = time.time_ns() - 60 * 10**9
    resp = await client.post("/echo", data=BODY, headers=signed(BODY, nonce_ns=old))
    assert resp.status == 401
    assert (await resp.json())["error"] == "stale"
    assert refused(metrics, "stale") == 1
    assert axon.task.calls == 0


async def test_a_request_signed_for_another_miner_is_refused_with_403(served):
    client, axon, metrics = await served()
    resp = await client.post(
        "/echo", data=BODY, headers=signed(BODY, receiver=STRANGER.ss58_address)
    )
    assert resp.status == 403
    assert refused(metrics, "wrong_receiver") == 1
    assert axon.task.calls == 0


async def test_an_oversized_body_is_refused_with_413_and_counted(served):
    client, axon, metrics = await served(max_body=1024)
    big = json.dumps({"payload": "x" * 4000}).encode()
    resp = await client.post("/echo", data=big, headers=signed(big))
    assert resp.status == 413
    assert (await resp.json())["error"] == "oversized"
    assert refused(metrics, "oversized") == 1
    assert axon.task.calls == 0


async def test_an_oversized_chunked_body_is_refused_with_413(served):
    client, axon, metrics = await served(max_body=1024)
    big = json.dumps({"payload": "x" * 4000}).encode()

    async def chunks():
        for i in range(0, len(big), 500):
            yield big[i : i + 500]

    resp = await client.post("/echo", data=chunks(), headers=signed(big))
    assert resp.status == 413
    assert refused(metrics, "oversized") == 1
    assert axon.task.calls == 0


async def test_a_signed_but_malformed_body_is_refused_with_400_without_echoing_it(served):
    client, axon, metrics = await served()
    for body in (b"{not json", json.dumps({"payload": 1, "secret": "s3cret"}).encode()):
        resp = await client.post("/echo", data=body, headers=signed(body))
        assert resp.status == 400
        text = await resp.text()
        assert "s3cret" not in text
        assert json.loads(text)["error"] == "malformed_body"
    assert refused(metrics, "malformed_body") == 2
    assert axon.task.calls == 0


async def test_a_request_without_auth_headers_is_refused_with_401(served):
    client, _axon, metrics = await served()
    resp = await client.post("/echo", data=BODY)
    assert resp.status == 401
    assert (await resp.json())["error"] == "malformed_auth"
    assert refused(metrics, "malformed_auth") == 1


async def test_an_unregistered_caller_is_refused_with_403_and_counted(served):
    client, axon, metrics = await served()
    resp = await client.post("/echo", data=BODY, headers=signed(BODY, key=STRANGER))
    assert resp.status == 403
    assert (await resp.json())["error"] == "unregistered"
    assert refused(metrics, "unregistered") == 1
    assert axon.task.calls == 0


async def test_a_caller_without_validator_permit_is_refused_with_403(served):
    client, axon, metrics = await served()
    resp = await client.post("/echo", data=BODY, headers=signed(BODY, key=NOPERMIT))
    assert resp.status == 403
    assert refused(metrics, "no_validator_permit") == 1
    assert axon.task.calls == 0


async def test_a_caller_below_the_minimum_stake_is_refused_with_403(served):
    client, axon, metrics = await served(min_stake=100.0)
    resp = await client.post("/echo", data=BODY, headers=signed(BODY, key=SMALL))
    assert resp.status == 403
    assert (await resp.json())["error"] == "low_stake"
    assert refused(metrics, "low_stake") == 1
    assert axon.task.calls == 0


async def test_a_caller_over_its_rate_limit_gets_429(served):
    client, _axon, metrics = await served(rate=0.001, burst=2)
    statuses = []
    for _ in range(4):
        resp = await client.post("/echo", data=BODY, headers=signed(BODY))
        statuses.append(resp.status)
    assert statuses == [200, 200, 429, 429]
    assert refused(metrics, "rate_limited") == 2
    # The limit is per caller: another admitted hotkey is unaffected.
    other = await client.post("/echo", data=BODY, headers=signed(BODY, key=SMALL))
    assert other.status in (200, 403)  # SMALL is below min stake; never 429
    assert (await other.json()).get("error") != "rate_limited"


async def test_every_request_is_refused_with_503_until_the_metagraph_is_synced(served):
    client, axon, metrics = await served(current=lambda: None)
    resp = await client.post("/echo", data=BODY, headers=signed(BODY))
    assert resp.status == 503
    assert refused(metrics, "metagraph_unavailable") == 1
    assert axon.task.calls == 0


async def test_an_unknown_route_is_404_and_counted_under_one_label(served):
    client, _axon, metrics = await served()
    resp = await client.post("/nope/1", data=BODY, headers=signed(BODY, path="/nope/1"))
    assert resp.status == 404
    assert answered(metrics, 404, route="other") == 1
    assert refused(metrics, "unknown_route") == 1
    wrong_method = await client.get("/echo")
    assert wrong_method.status == 405
    assert refused(metrics, "method_not_allowed") == 1


class _Blocking(CountingEcho):
    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def solve(self, request):
        self.calls += 1
        await self.release.wait()
        return await super(CountingEcho, self).solve(request)


async def test_when_the_queue_is_full_further_requests_get_503_not_a_wait(served):
    task = _Blocking()
    client, _axon, metrics = await served(task=task, max_concurrent=1, max_queue=1)
    first = asyncio.create_task(client.post("/echo", data=BODY, headers=signed(BODY)))
    await eventually(lambda: task.calls == 1, what="first request in the handler")
    second = asyncio.create_task(client.post("/echo", data=BODY, headers=signed(BODY)))
    await eventually(lambda: metrics.sample(R.AXON_QUEUE_DEPTH) == 1, what="one queued")
    assert metrics.sample(R.AXON_INFLIGHT_REQUESTS) == 1
    third = await client.post("/echo", data=BODY, headers=signed(BODY))
    assert third.status == 503
    assert (await third.json())["error"] == "queue_full"
    task.release.set()
    assert (await first).status == 200
    assert (await second).status == 200
    assert refused(metrics, "queue_full") == 1


async def test_the_gate_serves_the_highest_stake_waiter_first():
    gate = PriorityGate(max_concurrent=1, max_queue=10, max_wait=5)
    await gate.acquire(0)
    order: list[float] = []

    async def waiter(stake: float):
        await gate.acquire(stake)
        order.append(stake)
        gate.release()

    waiters = [asyncio.create_task(waiter(s)) for s in (1.0, 50.0, 10.0)]
    await eventually(lambda: gate.depth == 3, what="three waiters")
    gate.release()
    await asyncio.gather(*waiters)
    assert order == [50.0, 10.0, 1.0]
    assert gate.inflight == 0 and gate.depth == 0


async def test_the_gate_refuses_overflow_and_drops_waiters_that_waited_too_long():
    gate = PriorityGate(max_concurrent=1, max_queue=1, max_wait=0.05)
    await gate.acquire(1)
    late = asyncio.create_task(gate.acquire(1))
    await eventually(lambda: gate.depth == 1, what="one waiter")
    with pytest.raises(QueueFull):
        await gate.acquire(1)
    with pytest.raises(QueueTimeout):
        await late
    assert gate.depth == 0
    gate.release()
    assert gate.inflight == 0


def test_the_rate_limiter_refills_over_time():
    now = [0.0]
    limiter = RateLimiter(rate=2.0, burst=2, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(3)] == [True, True, False]
    now[0] += 0.5  # one token back
    assert limiter.allow("a") is True
    assert limiter.allow("a") is False
    assert limiter.allow("b") is True
    limiter.forget_except({"b"})
    assert limiter.allow("a") is True  # forgotten callers start with a full bucket
