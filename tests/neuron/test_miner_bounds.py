"""The axon's connection guard: deadlines for each read phase, a header size limit, a cap that
displaces idle sockets before it refuses anyone, and accept errors counted, not logged per
accept. Each test runs the real Axon behind a BoundedSite on loopback."""

from __future__ import annotations

import asyncio
import errno
import json
import resource
from contextlib import asynccontextmanager

import aiohttp
import pytest
import structlog

from common.metric_names import Runtime as R
from neuron.serving import (
    FD_RESERVE,
    AcceptErrorReporter,
    ConnectionGuard,
    ServingLimits,
    fd_budget,
    start_bounded_site,
)
from tests.support.neuron import MINER, make_axon, signed
from tests.support.waiting import eventually

BODY = json.dumps({"payload": "hello"}).encode()
PATIENT = 30.0  # how long a test waits for the server to act; never a bound on how fast


def limits(**overrides) -> ServingLimits:
    base = dict(
        max_connections=50,
        idle_timeout=PATIENT,
        header_timeout=PATIENT,
        body_timeout=PATIENT,
        max_header_bytes=4096,
    )
    return ServingLimits(**{**base, **overrides})


@asynccontextmanager
async def guarded(**overrides):
    axon, metrics = make_axon()
    guard = ConnectionGuard(limits(**overrides), metrics)
    metrics.set_connection_source(lambda: (guard.open, guard.limits.max_connections))
    runner, port = await start_bounded_site(axon.app(), "127.0.0.1", 0, guard)
    try:
        yield port, guard, metrics, axon
    finally:
        await runner.cleanup()


def closed_for(metrics, reason: str) -> float:
    return metrics.sample(R.AXON_CONNECTIONS_CLOSED + "_total", reason=reason) or 0.0


def request_bytes(body: bytes = BODY) -> bytes:
    headers = signed(body)
    lines = ["POST /echo HTTP/1.1", "Host: miner", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_until_closed(reader: asyncio.StreamReader) -> bytes:
    try:
        return await asyncio.wait_for(reader.read(), PATIENT)
    except ConnectionResetError:
        return b""


async def post(port: int) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"http://127.0.0.1:{port}/echo", data=BODY, headers=signed(BODY)) as resp,
    ):
        return resp.status


async def test_a_connection_that_never_sends_a_byte_is_closed_after_the_idle_timeout():
    async with guarded(idle_timeout=0.2) as (port, guard, metrics, _):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await read_until_closed(reader) == b""
        writer.close()
        assert closed_for(metrics, "idle_timeout") == 1
        await eventually(lambda: guard.open == 0, what="the guard forgets the connection")


async def test_headers_that_trickle_in_are_cut_off_at_the_header_timeout():
    async with guarded(header_timeout=0.2) as (port, _, metrics, axon):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /echo HTTP/1.1\r\nHost: miner\r\n")
        assert await read_until_closed(reader) == b""
        writer.close()
        assert closed_for(metrics, "header_timeout") == 1
        assert closed_for(metrics, "idle_timeout") == 0
        assert axon.task.calls == 0


async def test_a_body_that_stalls_is_cut_off_at_the_body_timeout():
    async with guarded(body_timeout=0.2) as (port, _, metrics, axon):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        whole = request_bytes()
        writer.write(whole[:-5])  # the headers and all but five bytes of the body
        assert b" 200 " not in await read_until_closed(reader)
        writer.close()
        assert closed_for(metrics, "body_timeout") == 1
        assert axon.task.calls == 0


async def test_an_oversized_header_block_is_answered_431_and_closed():
    async with guarded(max_header_bytes=1024) as (port, _, metrics, _axon):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /echo HTTP/1.1\r\nX-Filler: " + b"a" * 2000)
        answer = await read_until_closed(reader)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 431 ")
        assert b'"header_too_large"' in answer
        assert closed_for(metrics, "header_too_large") == 1


async def test_kept_alive_and_pipelined_requests_are_all_served():
    async with guarded(header_timeout=5.0, body_timeout=5.0) as (port, _, _m, axon):
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{port}/echo"
            for _ in range(3):
                async with session.post(url, data=BODY, headers=signed(BODY)) as resp:
                    assert resp.status == 200
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request_bytes() + request_bytes())
        seen = b""
        while seen.count(b"HTTP/1.1 200 ") < 2:
            chunk = await asyncio.wait_for(reader.read(65536), PATIENT)
            assert chunk, f"connection closed after {seen!r}"
            seen += chunk
        writer.close()
        assert axon.task.calls == 5


async def test_a_chunked_body_is_still_served_on_a_guarded_connection():
    async def chunks():
        yield BODY[:5]
        yield BODY[5:]

    async with guarded() as (port, _, _metrics, axon):
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"http://127.0.0.1:{port}/echo", data=chunks(), headers=signed(BODY)) as r,
        ):
            assert r.status == 200
        assert axon.task.calls == 1


async def test_at_the_cap_a_new_caller_displaces_the_oldest_idle_connection():
    async with guarded(max_connections=3) as (port, guard, metrics, axon):
        idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
        await eventually(lambda: guard.open == 3, what="three idle connections")
        assert await post(port) == 200
        assert closed_for(metrics, "displaced") == 1
        assert await read_until_closed(idle[0][0]) == b""  # the oldest one went
        for _, writer in idle:
            writer.close()
        assert axon.task.calls == 1


async def test_at_the_cap_with_every_connection_busy_a_newcomer_gets_a_clear_503():
    async with guarded(max_connections=2) as (port, guard, metrics, _):
        busy = []
        for _ in range(2):  # each mid-body: a real request in progress, not displaceable
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request_bytes()[:-5])
            busy.append(writer)
        await eventually(lambda: guard.open == 2 and not guard._waiting, what="two busy")
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        answer = await read_until_closed(reader)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 503 ")
        assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"] == "too_many_connections"
        assert closed_for(metrics, "over_capacity") == 1
        assert closed_for(metrics, "displaced") == 0
        for writer in busy:
            writer.close()


async def test_open_connections_and_the_cap_are_exported():
    async with guarded(max_connections=7) as (port, guard, metrics, _):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        await eventually(lambda: guard.open == 1, what="one connection")
        assert metrics.sample(R.AXON_OPEN_CONNECTIONS) == 1
        assert metrics.sample(R.AXON_MAX_CONNECTIONS) == 7
        writer.close()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def accept_failure() -> dict:
    exc = OSError(errno.EMFILE, "Too many open files")
    return {"message": "socket.accept() out of system resource", "exception": exc}


async def test_accept_errors_are_counted_each_but_logged_once_per_interval():
    _, metrics = make_axon()
    clock = Clock()
    others = []
    reporter = AcceptErrorReporter(metrics, 10.0, structlog.get_logger("test"), clock=clock)
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: others.append(context))
    reporter.install(loop)
    try:
        with structlog.testing.capture_logs() as logs:
            for i in range(10_000):
                clock.now = i * 0.002  # 20 s of a flood
                loop.call_exception_handler(accept_failure())
            loop.call_exception_handler({"message": "something else", "exception": ValueError()})
    finally:
        reporter.uninstall(loop)
        loop.set_exception_handler(None)
    assert metrics.sample(R.AXON_ACCEPT_ERRORS + "_total", error="EMFILE") == 10_000
    # At 0 s the first failure, at 10 s the 5,000 since; the rest wait for the 20 s report.
    assert [entry["failures_since_last_report"] for entry in logs] == [1, 5000]
    assert [c["message"] for c in others] == ["something else"]


def test_the_connection_cap_is_lowered_to_fit_the_descriptor_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        pytest.fail("this test needs a finite hard RLIMIT_NOFILE")
    cap, limit = fd_budget(hard * 10)
    assert limit == hard  # the soft limit was raised as far as the operator allows
    assert cap == hard - max(FD_RESERVE, hard // 4)  # room for sockets in flight
    cap, _ = fd_budget(10)
    assert cap == 10
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_an_axon_section_has_safe_connection_bounds_by_default():
    from neuron.config import AxonSection

    ax = AxonSection()
    assert ax.max_connections >= 1024
    assert ax.header_timeout_seconds <= 30 and ax.body_timeout_seconds <= 30
    assert ax.idle_timeout_seconds <= 60
    assert MINER.ss58_address  # the support keys load
