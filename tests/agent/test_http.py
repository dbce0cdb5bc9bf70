"""The agent's HTTP surface, with the app wired to an in-process simnet chain.

The poll interval is an hour, so only the start-up poll runs by itself; tests poll by hand
and move a fake clock instead of sleeping.
"""

from __future__ import annotations

import gzip
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from agent.app import EXPOSITION_KEY, POLLER_KEY, create_app
from agent.config import AgentConfig
from agent.startup import read_startup
from simnet.substrate import SimSubstrate
from simnet.testing import in_process_backends, small_world
from tests.support.exporters import CountingSubstrate
from tests.support.waiting import eventually


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def world():
    return small_world(validators=2, miners=2)


def agent_config(hotkey: str, **extra: Any) -> AgentConfig:
    data = {
        "chain": {"network": "sim://127.0.0.1:1"},
        "poll": {"interval_seconds": 3600},
        "health": {"max_poll_age_seconds": 30, "max_head_age_seconds": 60},
        "watch": [{"netuid": 1, "hotkeys": [hotkey]}],
    }
    data.update(extra)
    return AgentConfig.model_validate(data)


async def started(aiohttp_client, world, *, fail: BaseException | None = None, **extra):
    sub = CountingSubstrate(SimSubstrate(world.chain))
    sub.fail = fail
    clock = FakeClock()
    cfg = agent_config(world.miners[0].hotkey.ss58_address, **extra)
    app = create_app(
        cfg,
        read_startup(cfg, backends=in_process_backends(every=sub)),
        clock=clock,
    )
    http = await aiohttp_client(app)
    poller = app[POLLER_KEY]
    await eventually(lambda: poller.status.polls >= 1, what="the first poll")
    return http, app, sub, clock


def sample(exposition: str, name: str) -> float | None:
    for family in text_string_to_metric_families(exposition):
        for s in family.samples:
            if s.name == name:
                return s.value
    return None


async def test_metrics_are_content_negotiated_and_gzipped_on_request(aiohttp_client, world):
    http, *_ = await started(aiohttp_client, world)
    plain = await http.get("/metrics")
    assert plain.status == 200
    assert plain.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = await plain.text()
    assert "bittensor_neuron_registered{" in text
    assert "bittensor_exporter_up 1.0" in text

    om = await http.get(
        "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert om.headers["Content-Type"].startswith("application/openmetrics-text")
    assert (await om.text()).rstrip().endswith("# EOF")

    zipped = await http.get("/metrics", headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert b"bittensor_chain_head_block" in gzip.decompress(await zipped.read())


async def test_every_scrape_serves_the_latest_poll_result(aiohttp_client, world):
    http, app, _, _ = await started(aiohttp_client, world)
    exposition = app[EXPOSITION_KEY]
    first = await (await http.get("/metrics")).text()
    assert f"bittensor_chain_head_block {float(world.chain.head)}" in first
    world.chain.step()
    await app[POLLER_KEY].poll()
    second = await (await http.get("/metrics")).text()
    assert f"bittensor_chain_head_block {float(world.chain.head)}" in second
    assert exposition.renders == 2
    # The process collector goes through prometheus-client beside the fast chain formatter.
    assert sample(second, "process_resident_memory_bytes") > 0
    assert sample(second, "bittensor_exporter_polls_total") == 2


async def test_healthz_fails_with_the_reason_until_a_poll_succeeds(aiohttp_client, world):
    http, app, sub, _ = await started(
        aiohttp_client, world, fail=ConnectionError("connection refused")
    )
    resp = await http.get("/healthz")
    assert resp.status == 503
    body = await resp.text()
    assert "no successful poll yet" in body and "connection refused" in body
    sub.fail = None
    await app[POLLER_KEY].poll()
    resp = await http.get("/healthz")
    assert resp.status == 200, await resp.text()


async def test_a_halted_chain_freezes_the_head_timestamp_and_fails_healthz(aiohttp_client, world):
    http, app, _, clock = await started(aiohttp_client, world)
    poller = app[POLLER_KEY]
    advanced_at = poller.snapshot.chain.head_advanced_at
    assert (await http.get("/healthz")).status == 200
    # The chain stops producing blocks while polls keep succeeding.
    for _ in range(4):
        clock.now += 20
        assert await poller.poll()
    metrics = await (await http.get("/metrics")).text()
    assert sample(metrics, "bittensor_chain_head_timestamp_seconds") == advanced_at
    resp = await http.get("/healthz")
    assert resp.status == 503
    assert "has not advanced for 80.0s" in await resp.text()
    world.chain.step()
    assert await poller.poll()
    assert (await http.get("/healthz")).status == 200
    assert poller.snapshot.chain.head_advanced_at == clock.now


async def test_status_json_tells_what_is_watched_the_last_poll_and_recent_changes(
    aiohttp_client, world
):
    http, app, _, _ = await started(aiohttp_client, world)
    hk = world.miners[0].hotkey.ss58_address
    world.chain.scale_stake(1, hk, 0.1)
    world.chain.step()
    await app[POLLER_KEY].poll()
    status = await (await http.get("/api/status")).json()
    assert status["healthy"] is True
    assert status["watch"]["hotkeys"] == [{"netuid": 1, "hotkey": hk}]
    [watched] = status["watched"]
    assert watched["registered"] is True and watched["uid"] == world.chain.subnet(1).uids[hk]
    assert status["last_poll"]["source_block"] == world.chain.head
    assert status["last_error"] is None
    assert [c["kind"] for c in status["recent_changes"]] == ["stake_drop"]
    assert status["endpoints"][0]["active"] is True


async def test_the_landing_page_links_every_endpoint(aiohttp_client, world):
    http, *_ = await started(aiohttp_client, world)
    page = await (await http.get("/")).text()
    for path in ("/metrics", "/healthz", "/api/status"):
        assert f'href="{path}"' in page


async def test_the_finalized_head_comes_from_a_subscription_living_as_long_as_the_app(
    aiohttp_client, world
):
    http, app, sub, _ = await started(aiohttp_client, world)
    poller = app[POLLER_KEY]
    watcher = poller.pool.endpoints[0].finality
    await eventually(lambda: watcher.subscribed, what="the finality subscription")
    world.chain.step()
    await eventually(
        lambda: watcher.latest == world.chain.finalized, what="finality to reach the chain's"
    )
    sub.calls.clear()
    assert await poller.poll()
    metrics = await (await http.get("/metrics")).text()
    assert sample(metrics, "bittensor_chain_finalized_block") == world.chain.finalized
    assert sub.calls["finalized_block_number"] == 0
    status = await (await http.get("/api/status")).json()
    assert status["finality"]["source"] == "subscription"
    [stream] = status["finality"]["subscriptions"]
    assert stream["subscribed"] is True and stream["finalized"] == world.chain.finalized
    assert stream["endpoint"] == "sim://127.0.0.1:1"
    # Shutting the app down cancels the watcher and ends its subscription.
    await http.close()
    assert not watcher.running
    assert sub.open_streams == 0


async def test_after_each_poll_the_snapshot_is_rendered_the_way_the_last_scrape_wanted(
    aiohttp_client, world
):
    http, app, _, _ = await started(
        aiohttp_client, world, poll={"interval_seconds": 0.05}, export_all_neurons=[1]
    )
    exposition, poller = app[EXPOSITION_KEY], app[POLLER_KEY]
    renders = exposition.snapshot_renders
    assert renders.renders == 0  # nobody has scraped: nothing rendered
    first = await http.get("/metrics", headers={"Accept-Encoding": "gzip"})
    assert "bittensor_neuron_uid{" in await first.text()
    assert renders.renders == 1
    polls = poller.status.polls
    world.chain.step()
    # The polls that follow render their snapshots with no scrape asking for them.
    await eventually(
        lambda: renders.renders >= 3 and poller.status.polls > polls + 1,
        what="polls rendering their snapshots",
    )
    # A scrape gets the prepared part with a tail of its own: the poll count is current.
    zipped = await http.get("/metrics", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert sample(await zipped.text(), "bittensor_exporter_polls_total") >= polls + 2


async def test_status_json_lists_a_chain_event_with_its_old_and_new_value(aiohttp_client, world):
    http, app, _, _ = await started(aiohttp_client, world)
    old = world.chain.subnet(1).immunity_period
    world.chain.set_hyperparameter(1, "immunity_period", old + 3)
    world.chain.step()
    await app[POLLER_KEY].poll()
    status = await (await http.get("/api/status")).json()
    [event] = [c for c in status["recent_changes"] if c["kind"] == "hyperparameter_changed"]
    assert (event["netuid"], event["detail"]) == (1, f"immunity_period {old} -> {old + 3}")
    metrics = (await (await http.get("/metrics")).read()).decode()
    assert 'bittensor_subnet_hyperparameter_previous_value{name="immunity_period",netuid="1"}' in (
        metrics
    )
