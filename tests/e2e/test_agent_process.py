"""The agent as a process (``python -m taowatch.cli agent``) against simnet servers.

"Within one poll" is checked by block, not by time: once the agent reports a source block
after the block at which the chain changed, the change must be in that same answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from simnet.process import running_simnet
from simnet.scenario import neuron_keypair
from tests.support import REPO
from tests.support.exporters import promtool_check
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

MINER = neuron_keypair("sim-miner-2").ss58_address
VALIDATOR = neuron_keypair("sim-validator-b").ss58_address


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def agent_process(config: dict[str, Any], workdir: Path) -> Iterator[str]:
    workdir.mkdir(parents=True, exist_ok=True)
    tmp_path = workdir
    port = free_port()
    config = {**config, "listen": {"host": "127.0.0.1", "port": port}}
    path = tmp_path / "agent.yaml"
    path.write_text(yaml.safe_dump(config))
    log = (tmp_path / "agent.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "taowatch.cli", "agent", "--config", str(path)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = None
        log.close()
        # Graceful shutdown: SIGTERM ends the agent cleanly, not with a traceback.
        text = (tmp_path / "agent.log").read_text()
        assert code == 0, text[-3000:]
        assert "Traceback" not in text, text[-3000:]


def samples(exposition: str) -> dict[tuple[str, frozenset], float]:
    out = {}
    for fam in text_string_to_metric_families(exposition):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def get(values: dict, name: str, **labels: Any) -> float | None:
    return values.get((name, frozenset((k, str(v)) for k, v in labels.items())))


async def fetch(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    try:
        async with http.get(url) as resp:
            return resp.status, await resp.text()
    except aiohttp.ClientError:
        return 0, ""


async def status_after(http, base: str, block: int) -> dict:
    """The first /api/status whose source block is past ``block``."""

    async def probe():
        code, body = await fetch(http, base + "/api/status")
        if code == 200:
            data = json.loads(body)
            if (data["last_poll"]["source_block"] or -1) > block:
                return data
        return None

    return await eventually(probe, what=f"a status past block {block}", timeout=60, every=0.1)


def watched(status: dict, hotkey: str) -> dict:
    return next(w for w in status["watched"] if w["hotkey"] == hotkey)


async def test_the_agent_follows_simnet_through_deregistration_stake_drop_halt_and_restart(
    tmp_path,
):
    with running_simnet(block_time=0.25) as sim:
        config = {
            "chain": {"network": sim.network, "timeout_seconds": 5},
            "poll": {"timeout_seconds": 5},
            "health": {"max_poll_age_seconds": 10, "max_head_age_seconds": 3},
            "watch": [{"netuid": 1, "hotkeys": [MINER, VALIDATOR]}],
            "export_all_neurons": [2],
            "state_file": str(tmp_path / "state.json"),
        }
        async with aiohttp.ClientSession() as http, sim.admin as admin:
            with agent_process(config, tmp_path / "first") as base:
                first = await status_after(http, base, 0)
                assert watched(first, MINER)["registered"] is True
                code, text = await fetch(http, base + "/metrics")
                assert code == 200
                ok, output = await asyncio.to_thread(promtool_check, text.encode())
                assert ok, output
                values = samples(text)
                head = await admin.head()
                source = get(values, "bittensor_exporter_source_block")
                assert 0 < source <= head
                assert get(values, "bittensor_exporter_up") == 1
                assert get(values, "bittensor_chain_block_time_seconds") == 0.25
                assert get(values, "bittensor_subnet_neurons", netuid=2) == 4

                stake_before = watched(first, VALIDATOR)["stake_alpha"]
                await admin.scale_stake(1, VALIDATOR, 0.5)
                changed_at = await admin.head()
                after = await status_after(http, base, changed_at)
                assert watched(after, VALIDATOR)["stake_alpha"] < stake_before * 0.6
                assert any(
                    c["kind"] == "stake_drop" and c["hotkey"] == VALIDATOR
                    for c in after["recent_changes"]
                )

                await admin.deregister(1, MINER)
                changed_at = await admin.head()
                after = await status_after(http, base, changed_at)
                gone = watched(after, MINER)
                assert gone["registered"] is False and gone["deregistrations"] == 1
                _, text = await fetch(http, base + "/metrics")
                values = samples(text)
                assert get(values, "bittensor_neuron_registered", netuid=1, hotkey=MINER) == 0
                assert MINER not in text.split("bittensor_neuron_uid", 1)[1].split("# HELP")[0]

                await admin.halt()
                halted_at = await admin.head()

                async def unhealthy():
                    code, body = await fetch(http, base + "/healthz")
                    return code == 503 and "has not advanced" in body and body

                await eventually(unhealthy, what="/healthz to report the stall", every=0.1)
                _, text = await fetch(http, base + "/metrics")
                values = samples(text)
                assert get(values, "bittensor_chain_head_block") == halted_at
                assert get(values, "bittensor_exporter_up") == 1
                await admin.resume()

                async def healthy():
                    code, _ = await fetch(http, base + "/healthz")
                    return code == 200

                await eventually(healthy, what="/healthz healthy again", every=0.1)

            # A restarted agent keeps the deregistration count and does not count it again.
            with agent_process(config, tmp_path / "second") as base:
                head = await admin.head()
                again = await status_after(http, base, head)
                assert watched(again, MINER)["deregistrations"] == 1
                _, text = await fetch(http, base + "/metrics")
                assert (
                    get(
                        samples(text),
                        "bittensor_neuron_deregistrations_total",
                        netuid=1,
                        hotkey=MINER,
                    )
                    == 1
                )


async def test_the_agent_process_fails_over_between_two_simnet_servers_and_back(tmp_path):
    # One genesis nonce: two servers of one chain, as a primary and its fallback are.
    one_chain = {"block_time": 0.25, "genesis_nonce": "failover-test"}
    with running_simnet(**one_chain) as primary, running_simnet(**one_chain) as backup:
        config = {
            "chain": {
                "network": primary.network,
                "fallback_networks": [backup.network],
                "timeout_seconds": 2,
                "failback_after_polls": 2,
                # Two independent simnet processes are not one chain; allow their heads to
                # drift apart a little without calling either one lagging.
                "max_lag_blocks": 40,
            },
            "poll": {"timeout_seconds": 5},
            "watch": [{"netuid": 1, "hotkeys": [VALIDATOR]}],
        }
        p_label, b_label = primary.network, backup.network

        async with aiohttp.ClientSession() as http, primary.admin as admin:
            with agent_process(config, tmp_path) as base:

                def active_is(label: str):
                    async def probe():
                        code, text = await fetch(http, base + "/metrics")
                        if code != 200:
                            return None
                        v = samples(text)
                        ok = (
                            get(v, "bittensor_exporter_rpc_endpoint_active", endpoint=label) == 1
                            and get(v, "bittensor_exporter_up") == 1
                        )
                        return v if ok else None

                    return probe

                await eventually(
                    active_is(p_label), what="the primary active", timeout=60, every=0.1
                )
                await admin.set_faults(error_rate=1.0)
                values = await eventually(
                    active_is(b_label), what="failover to the backup", timeout=60, every=0.1
                )
                assert get(values, "bittensor_exporter_rpc_endpoint_up", endpoint=p_label) == 0
                assert get(values, "bittensor_exporter_rpc_endpoint_up", endpoint=b_label) == 1
                assert get(values, "bittensor_neuron_registered", netuid=1, hotkey=VALIDATOR) == 1
                await admin.set_faults()
                values = await eventually(
                    active_is(p_label), what="the primary back", timeout=60, every=0.1
                )
                assert get(values, "bittensor_exporter_rpc_endpoint_up", endpoint=p_label) == 1
