"""The InfluxDB sink against a local server implementing the v2 write API.

The fake server parses line protocol strictly (measurement, escaped tags, typed fields,
integer timestamp), checks the token, org, bucket and precision, and can be told to fail.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from agent.config import InfluxConfig
from agent.influx import InfluxSink
from exporters.chain import ChainPoller, WatchPlan
from exporters.deregistration import AgentState
from exporters.endpoints import EndpointPool
from simnet.state import RAO_PER_TAO
from simnet.substrate import SimSubstrate
from simnet.testing import in_process_backends, small_world

TOKEN = "s3cret-token"

_KEY = r"(?:[^,= \\]|\\[,= ])+"
_FIELD_VALUE = r'(?:-?\d+i|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|t|f|true|false|"(?:[^"\\]|\\.)*")'
LINE = re.compile(
    rf"^(?P<m>(?:[^, \\]|\\[, ])+)"
    rf"(?P<tags>(?:,{_KEY}={_KEY})*) "
    rf"(?P<fields>{_KEY}={_FIELD_VALUE}(?:,{_KEY}={_FIELD_VALUE})*)"
    rf" (?P<ts>\d+)$"
)


def parse_line(line: str) -> dict[str, Any]:
    m = LINE.match(line)
    if m is None:
        raise ValueError(f"not line protocol: {line!r}")
    tags = dict(t.split("=", 1) for t in re.findall(rf"{_KEY}={_KEY}", m["tags"]))
    fields: dict[str, Any] = {}
    for k, v in re.findall(rf"({_KEY})=({_FIELD_VALUE})", m["fields"]):
        if v.endswith("i"):
            fields[k] = int(v[:-1])
        elif v in {"t", "true"}:
            fields[k] = True
        elif v in {"f", "false"}:
            fields[k] = False
        elif v.startswith('"'):
            fields[k] = v[1:-1]
        else:
            fields[k] = float(v)
    return {"measurement": m["m"], "tags": tags, "fields": fields, "ts": int(m["ts"])}


@dataclass
class FakeInflux:
    points: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0
    fail_status: int = 503
    requests: int = 0
    encodings: list[str] = field(default_factory=list)

    async def write(self, request: web.Request) -> web.Response:
        self.requests += 1
        if request.headers.get("Authorization") != f"Token {TOKEN}":
            return web.json_response({"code": "unauthorized"}, status=401)
        q = request.query
        if (q.get("org"), q.get("bucket"), q.get("precision")) != ("acme", "chain", "s"):
            return web.json_response({"code": "invalid", "message": str(dict(q))}, status=400)
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.json_response({"code": "unavailable"}, status=self.fail_status)
        self.encodings.append(request.headers.get("Content-Encoding", "identity"))
        body = await request.read()  # aiohttp already inflates a gzip request body
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        try:
            parsed = [parse_line(line) for line in body.decode().split("\n") if line]
        except ValueError as exc:
            return web.json_response({"code": "invalid", "message": str(exc)}, status=400)
        self.points += parsed
        return web.Response(status=204)


@pytest.fixture
async def influx(aiohttp_server):
    fake = FakeInflux()
    app = web.Application()
    app.router.add_post("/api/v2/write", fake.write)
    server = await aiohttp_server(app)
    return fake, f"http://127.0.0.1:{server.port}"


def sink_config(url: str, **kw: Any) -> InfluxConfig:
    base = {
        "enabled": True,
        "url": url,
        "org": "acme",
        "bucket": "chain",
        "token_file": "/dev/null",
        "flush_interval_seconds": 3600,
        "retry_backoff_seconds": 0,
    }
    base.update(kw)
    return InfluxConfig.model_validate(base)


async def polled(world, sink: InfluxSink) -> ChainPoller:
    pool = EndpointPool.over(["sim://x:1"], in_process_backends(every=SimSubstrate(world.chain)))
    hotkeys = tuple((1, w.hotkey.ss58_address) for w in (*world.validators, *world.miners))
    poller = ChainPoller(WatchPlan(hotkeys=hotkeys), pool, AgentState(None))
    poller.add_listener(sink.on_snapshot)
    assert await poller.poll()
    return poller


async def test_the_sink_writes_one_point_per_neuron_per_epoch_and_one_per_poll(influx):
    fake, url = influx
    world = small_world(validators=1, miners=2, tempo=10)
    sink = InfluxSink(sink_config(url), TOKEN)
    await sink.start()
    try:
        poller = await polled(world, sink)
        world.chain.step()  # same epoch: only the poll summary
        assert await poller.poll()
        assert await sink.flush()
        neurons = [p for p in fake.points if p["measurement"] == "bittensor_neuron"]
        polls = [p for p in fake.points if p["measurement"] == "taowatch_poll"]
        assert len(neurons) == 3 and len(polls) == 2
        sn = world.chain.subnet(1)
        for p in neurons:
            hk = p["tags"]["hotkey"]
            assert p["tags"]["uid"] == str(sn.uids[hk]) and p["tags"]["netuid"] == "1"
            assert p["fields"]["stake_alpha"] == pytest.approx(
                world.chain.stake_alpha(1, hk) / RAO_PER_TAO
            )
            assert p["fields"]["registration_block"] == sn.neurons[sn.uids[hk]].registered_at
            assert isinstance(p["fields"]["active"], bool)
        assert [p["fields"]["source_block"] for p in polls] == [
            world.chain.head - 1,
            world.chain.head,
        ]
        # The next epoch brings one more point per neuron.
        while world.chain.subnet(1).last_epoch_block <= poller.snapshot.block:
            world.chain.step()
        assert await poller.poll()
        assert await sink.flush()
        assert len([p for p in fake.points if p["measurement"] == "bittensor_neuron"]) == 6
        assert sink.points_written == len(fake.points)
        assert set(fake.encodings) == {"gzip"}
    finally:
        await sink.stop()


async def test_a_failing_server_is_retried_and_counted_without_losing_points(influx):
    fake, url = influx
    world = small_world(validators=1, miners=1)
    sink = InfluxSink(sink_config(url, max_retries=2), TOKEN)
    await sink.start()
    try:
        fake.fail_next = 2  # two 503s, then success on the last retry
        poller = await polled(world, sink)
        assert await sink.flush()
        assert sink.write_errors == 2
        assert sink.points_written == len(fake.points) == 3
        fake.fail_next = 10  # down for longer than the retries: points stay buffered
        world.chain.step()
        assert await poller.poll()
        assert not await sink.flush()
        assert sink.buffered == 1 and sink.points_dropped == 0
        fake.fail_next = 0
        assert await sink.flush()
        assert sink.buffered == 0
        assert [p["fields"]["source_block"] for p in fake.points[-1:]] == [world.chain.head]
    finally:
        await sink.stop()


async def test_a_full_buffer_drops_the_oldest_points_and_a_rejected_batch_is_not_retried(influx):
    fake, url = influx
    sink = InfluxSink(sink_config(url, max_buffer_points=3), TOKEN)
    await sink.start()
    try:
        lines = [f"m,k=v x={i}i {1_700_000_000 + i}" for i in range(5)]
        sink.enqueue(lines)  # enqueue never waits on the server
        assert sink.buffered == 3 and sink.points_dropped == 2
        fake.fail_next, fake.fail_status = 1, 400
        assert await sink.flush()
        assert fake.requests == 1 and sink.points_dropped == 5 and fake.points == []
        sink.enqueue(lines[-1:])
        assert await sink.flush()
        assert [p["fields"]["x"] for p in fake.points] == [4]
    finally:
        await sink.stop()


async def test_a_wrong_token_is_a_write_error_metric(influx):
    fake, url = influx
    sink = InfluxSink(sink_config(url), "wrong")
    await sink.start()
    try:
        sink.enqueue(["m x=1i 1700000000"])
        await sink.flush()
        samples = {m.name: m.samples[0].value for m in sink.collect()}
        assert samples["bittensor_exporter_influx_write_errors"] == 1
        assert samples["bittensor_exporter_influx_points_dropped"] == 1
        assert fake.points == []
    finally:
        await sink.stop()
