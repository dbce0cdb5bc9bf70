"""The agent's signed reachability probe: its config, what it exports for a live miner, a dead
port, a miner that refuses and one that never answers, its concurrency bound, and a probe key
that never reaches the logs."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import socket
from pathlib import Path

import pytest
import structlog
from aiohttp import web
from aiohttp.test_utils import TestServer
from bittensor.keyfiles import Keyfile, Keypair
from prometheus_client import CollectorRegistry, generate_latest

from agent.app import POLLER_KEY, PROBER_KEY, create_app
from agent.config import AgentConfig, ProbeConfig
from agent.main import main
from agent.probe import Prober, Target, load_probe_key, targets_of
from agent.startup import read_startup
from common.config import ConfigError, validate
from common.metric_names import Probe as P
from simnet.substrate import SimSubstrate
from simnet.testing import in_process_backends, small_world
from tests.support.neuron import MINER, VALIDATOR, make_axon
from tests.support.waiting import eventually

PROBER = Keypair.create_from_uri("//taowatch/test/prober")


def probe_config(**fields) -> ProbeConfig:
    return ProbeConfig.model_validate({"enabled": True, "hotkey_file": "/unused", **fields})


def write_key(path: Path, key: Keypair = PROBER, mode: int = 0o600) -> Path:
    Keyfile(path, "probe").set_keypair(key, encrypt=False, overwrite=True)
    path.chmod(mode)
    return path


def config_errors(probe: dict) -> str:
    data = {"watch": [{"netuid": 1, "hotkeys": [MINER.ss58_address]}], "probe": probe}
    with pytest.raises(ConfigError) as err:
        validate(AgentConfig, data, "agent.yaml")
    return str(err.value)


@pytest.fixture
async def live_axon():
    """The bundled miner's axon (hotkey MINER) on a real loopback port."""
    servers = []

    async def serve(**kwargs) -> str:
        axon, _ = make_axon(**kwargs)
        server = TestServer(axon.app(), host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return f"127.0.0.1:{server.port}"

    yield serve
    for server in servers:
        await server.close()


def dead_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def scrape(prober: Prober) -> str:
    registry = CollectorRegistry()
    registry.register(prober)
    return generate_latest(registry).decode()


# -- config --------------------------------------------------------------------------------


def test_the_probe_is_off_by_default():
    cfg = AgentConfig.model_validate({"watch": [{"netuid": 1, "hotkeys": [MINER.ss58_address]}]})
    assert cfg.probe.enabled is False


def test_an_enabled_probe_without_a_hotkey_file_names_the_field():
    message = config_errors({"enabled": True})
    assert "agent.yaml: probe:" in message
    assert "hotkey_file is not set" in message


def test_a_probe_timeout_not_below_its_interval_names_both_fields():
    message = config_errors(
        {"enabled": True, "hotkey_file": "k", "interval_seconds": 5, "timeout_seconds": 5}
    )
    assert "timeout_seconds (5) must be below interval_seconds (5)" in message


def test_a_zero_concurrency_bound_names_the_field():
    assert "probe.max_concurrent:" in config_errors({"max_concurrent": 0})


def test_a_misspelled_probe_field_is_named():
    assert "probe.interval: unknown field" in config_errors({"interval": 30})


def test_a_group_readable_probe_key_is_refused_with_the_chmod_that_fixes_it(tmp_path, capsys):
    key = write_key(tmp_path / "probe-hotkey", mode=0o640)
    config = tmp_path / "agent.yaml"
    config.write_text(
        f"watch: [{{netuid: 1, hotkeys: [{MINER.ss58_address}]}}]\n"
        "probe: {enabled: true, hotkey_file: probe-hotkey}\n"
    )
    assert main(["--check-config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "probe.hotkey_file" in err
    assert f"chmod 600 {key}" in err


def test_a_probe_key_file_that_is_not_a_key_is_refused_without_quoting_it(tmp_path):
    path = tmp_path / "probe-hotkey"
    path.write_text("hunter2-not-a-key")
    path.chmod(0o600)
    with pytest.raises(ValueError) as err:
        load_probe_key(path)
    assert "probe.hotkey_file" in str(err.value)
    assert "hunter2" not in str(err.value)


# -- what a round exports ------------------------------------------------------------------


async def test_a_live_miner_is_up_with_status_200_and_a_latency(live_axon):
    axon = await live_axon()
    prober = Prober(probe_config(), PROBER, lambda: [Target(1, MINER.ss58_address, 3, axon)])
    snap = await prober.run_once()
    (result,) = snap.results
    assert (result.up, result.status, result.outcome) == (True, 200, "ok")
    assert 0 < result.latency < 5
    text = scrape(prober)
    labels = f'axon="{axon}",hotkey="{MINER.ss58_address}",netuid="1",uid="3"'
    assert f"{P.UP}{{{labels}}} 1.0" in text
    assert f"{P.STATUS_CODE}{{{labels}}} 200.0" in text
    assert f"{P.CONSECUTIVE_FAILURES}{{{labels}}} 0.0" in text


async def test_a_dead_port_is_down_with_no_status_and_counts_rounds_in_a_row():
    target = Target(1, MINER.ss58_address, 3, dead_port())
    prober = Prober(probe_config(), PROBER, lambda: [target])
    await prober.run_once()
    snap = await prober.run_once()
    (result,) = snap.results
    assert (result.up, result.status, result.outcome) == (False, 0, "unreachable")
    assert result.consecutive_failures == 2
    assert f'{P.PROBES}_total{{outcome="unreachable"}} 2.0' in scrape(prober)


async def test_a_miner_that_refuses_the_probe_is_down_with_the_status_it_answered(live_axon):
    axon = await live_axon()
    # The chain lists VALIDATOR's hotkey at an address served by MINER: a signature bound
    # to the listed hotkey is refused there, which is what a hijacked or stale axon looks like.
    prober = Prober(probe_config(), PROBER, lambda: [Target(1, VALIDATOR.ss58_address, 0, axon)])
    (result,) = (await prober.run_once()).results
    assert (result.up, result.status, result.outcome) == (False, 403, "refused")


async def test_a_miner_that_never_answers_times_out_within_the_bound():
    async def hold(reader, writer):
        await asyncio.sleep(30)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        prober = Prober(
            probe_config(timeout_seconds=0.2, interval_seconds=1),
            PROBER,
            lambda: [Target(1, MINER.ss58_address, 3, f"127.0.0.1:{port}")],
        )
        (result,) = (await prober.run_once()).results
    finally:
        server.close()
    assert (result.up, result.status, result.outcome) == (False, 0, "timeout")


async def test_no_more_axons_are_probed_at_once_than_the_bound():
    in_flight = peak = 0

    async def slow(request: web.Request) -> web.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        return web.json_response({"probe": "ok"})

    app = web.Application()
    app.router.add_get("/probe", slow)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        axon = f"127.0.0.1:{server.port}"
        keys = [Keypair.create_from_uri(f"//probe/target/{i}").ss58_address for i in range(12)]
        targets = [Target(1, hk, i, axon) for i, hk in enumerate(keys)]
        prober = Prober(probe_config(max_concurrent=3), PROBER, lambda: targets)
        snap = await prober.run_once()
    finally:
        await server.close()
    assert all(r.up for r in snap.results) and len(snap.results) == 12
    assert peak == 3
    assert prober.max_in_flight == 3


# -- in the agent --------------------------------------------------------------------------


async def test_the_agent_probes_each_watched_axon_the_chain_lists_and_never_logs_the_key(
    tmp_path, live_axon, caplog
):
    world = small_world(validators=1, miners=2)
    miner, silent = world.miners
    axon = await live_axon(own=miner.hotkey)
    host, port = axon.split(":")
    world.chain.serve_axon(
        1, miner.hotkey.ss58_address, int(ipaddress.IPv4Address(host)), int(port)
    )
    world.chain.step(1)
    key_file = write_key(tmp_path / "probe-hotkey")
    config = AgentConfig.model_validate(
        {
            "chain": {"network": "sim://127.0.0.1:1"},
            "poll": {"interval_seconds": 3600},
            "watch": [
                {"netuid": 1, "hotkeys": [miner.hotkey.ss58_address, silent.hotkey.ss58_address]}
            ],
            "probe": {
                "enabled": True,
                "hotkey_file": str(key_file),
                "interval_seconds": 0.2,
                "timeout_seconds": 0.1,
            },
        }
    )
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as logs:
        app = create_app(
            config,
            read_startup(config, backends=in_process_backends(every=SimSubstrate(world.chain))),
            process_metrics=False,
        )
        runner = web.AppRunner(app)
        await runner.setup()
        try:
            prober = app[PROBER_KEY]
            await eventually(lambda: app[POLLER_KEY].status.polls >= 1, what="the first poll")
            await eventually(lambda: prober.snapshot.results, what="a probe round with targets")
            results = prober.snapshot.results
        finally:
            await runner.cleanup()
    # Only the miner that serves an axon is a target; it answered the signed probe.
    assert [(r.target.hotkey, r.up, r.status) for r in results] == [
        (miner.hotkey.ss58_address, True, 200)
    ]
    assert targets_of(app[POLLER_KEY].snapshot)[0].axon == axon
    logged = repr(logs) + caplog.text
    assert "agent started" in logged
    secrets = [v for v in json.loads(key_file.read_text()).values() if isinstance(v, str)]
    assert secrets
    for needle in (PROBER.ss58_address, *secrets):
        assert needle not in logged
