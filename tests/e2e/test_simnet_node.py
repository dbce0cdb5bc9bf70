"""``taowatch simnet serve``'s node, driven by code none of us wrote: the SDK's own
``RpcSubstrate`` from another process, and the SDK's command line (``btcli``).

The served chain answers on two ports: ``sim://`` (simnet's own wire) and ``ws://`` (a
Substrate node: JSON-RPC, SCALE, V15 metadata). Both must tell the same chain.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import bittensor as bt
import pytest

from common.chain import make_client
from simnet.process import running_simnet
from simnet.records import RAO_PER_TAO
from simnet.scenario import neuron_coldkey


@pytest.fixture(scope="module")
def sim():
    with running_simnet(manual=True) as handle:
        yield handle


@pytest.fixture
def tool_env(tmp_path) -> dict[str, str]:
    # btcli keeps config, caches and wallets under HOME; the test's are its own.
    return dict(
        os.environ,
        HOME=str(tmp_path),
        BITTENSOR_RUNTIME_CACHE_DIR=str(tmp_path / "runtime-cache"),
        BTCLI_TOKEN_SYMBOLS_CACHE=str(tmp_path / "symbols.json"),
        COLUMNS="200",
    )


def btcli(sim, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("btcli")
    cmd = [str(exe), "-n", sim.ws_network, "--fallback-endpoints", "none"]
    cmd += ["--archive-endpoints", "none", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)


async def test_the_sdks_rpc_substrate_reads_the_chain_sim_serves(sim, tool_env, monkeypatch):
    monkeypatch.setenv("BITTENSOR_RUNTIME_CACHE_DIR", tool_env["BITTENSOR_RUNTIME_CACHE_DIR"])
    async with make_client(sim.ws_network) as over_ws, make_client(sim.network) as over_sim:
        block = await over_sim.block()
        assert await over_ws.block() == block
        ws_view, sim_view = await over_ws.at(block), await over_sim.at(block)
        assert await ws_view.neurons.all(1) == await sim_view.neurons.all(1)
        assert await ws_view.subnets.metagraph(1, commitments=False) == (
            await sim_view.subnets.metagraph(1, commitments=False)
        )
        assert await ws_view.subnets.all() == await sim_view.subnets.all()
        dynamic = bt.runtime_api.SubnetInfoRuntimeApi.get_all_dynamic_info
        assert await ws_view.runtime(dynamic, []) == await sim_view.runtime(dynamic, [])


async def test_btcli_lists_simnets_subnets(sim, tool_env):
    listed = btcli(sim, tool_env, "--json", "subnets", "list")
    assert listed.returncode == 0, listed.stderr
    rows = {row["netuid"]: row for row in json.loads(listed.stdout)}
    async with make_client(sim.network) as client:
        subnets = {s.netuid: s for s in await client.subnets.all()}
    assert set(rows) == set(subnets) and len(rows) > 2
    for netuid, subnet in subnets.items():
        assert rows[netuid]["neurons"] == subnet.neuron_count
        assert rows[netuid]["tempo"] == subnet.tempo


async def test_btcli_shows_a_wallets_balance_and_stake(sim, tool_env, tmp_path):
    coldkey = neuron_coldkey("sim-validator-a")
    wallets = str(tmp_path / "wallets")
    made = btcli(
        sim,
        tool_env,
        *("--wallet-path", wallets, "-w", "vala", "wallet", "regen-coldkeypub"),
        *("--ss58", coldkey.ss58_address, "--public-key", coldkey.public_key.hex()),
    )
    assert made.returncode == 0, made.stderr
    shown = btcli(
        sim, tool_env, "--json", "--wallet-path", wallets, "-w", "vala", "wallet", "balance"
    )
    assert shown.returncode == 0, shown.stderr
    balance = json.loads(shown.stdout)
    async with make_client(sim.network) as client:
        account = await client.query(bt.storage.System.Account, [coldkey.ss58_address])
        positions = await client.runtime(
            bt.runtime_api.StakeInfoRuntimeApi.get_stake_info_for_coldkey, [coldkey.ss58_address]
        )
    assert balance["coldkey"] == coldkey.ss58_address
    assert balance["free_tao"] == account["data"]["free"] / RAO_PER_TAO
    assert balance["stake_positions"] == len(positions) > 0
    assert balance["stake_value_tao"] > 0


async def test_the_agent_polls_through_the_node_and_wire_faults_page_no_deregistration(tmp_path):
    import aiohttp

    from tests.e2e.test_agent_process import MINER, agent_process, status_after, watched

    with running_simnet(block_time=0.25) as sim:
        config = {
            "chain": {"network": sim.ws_network, "timeout_seconds": 5},
            "poll": {"timeout_seconds": 5},
            "watch": [{"netuid": 1, "hotkeys": [MINER]}],
            "state_file": str(tmp_path / "state.json"),
        }
        env_dir = tmp_path / "agent"
        async with aiohttp.ClientSession() as http, sim.admin as admin:
            with agent_process(config, env_dir) as base:
                first = await status_after(http, base, 0)
                assert watched(first, MINER)["registered"] is True
                # A rate-limit phase (30 % of frames answered -32029/-32032), then a phase of
                # sockets dropped mid-request, then 1008 policy closes: polls fail or retry, none
                # reads a deregistration.
                for phase in ({"error_rate": 0.3}, {"drop_rate": 0.2}, {"policy_close_rate": 0.2}):
                    await admin.set_faults(**phase)
                    await asyncio.sleep(4)
                    await admin.set_faults()
                    after = await status_after(http, base, await admin.head())
                    assert watched(after, MINER)["registered"] is True
                    assert watched(after, MINER)["deregistrations"] == 0, phase
                # A real deregistration is still seen, once.
                await admin.deregister(1, MINER)
                gone = await status_after(http, base, await admin.head())
                assert watched(gone, MINER)["deregistrations"] == 1


def test_a_busy_node_port_or_a_malformed_upgrade_is_refused_naming_the_flag(tmp_path):
    import socket

    taowatch = [sys.executable, "-m", "taowatch.cli", "simnet", "serve", "--port", "0"]
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        busy = held.getsockname()[1]
        run = subprocess.run(
            [*taowatch, "--manual", "--ws-port", str(busy)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert f"127.0.0.1:{busy} for the node" in run.stderr and "--ws-port" in run.stderr
    assert "Traceback" not in run.stderr
    bad = subprocess.run(
        [*taowatch, "--manual", "--upgrade-at", "soon"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "expected BLOCK:SPEC" in bad.stderr
