"""README's "Watch your own neurons", run command by command against a served simnet.

An operator's coldkey has one hotkey on subnet 1 (every neuron immune there, the operator's
the newest: behind two older peers in the eviction order) and one on subnet 2, a subnet with
no other neuron and a 2-block immunity: once immunity is over, that hotkey is the only
non-immune neuron, at pruning position 0 (the one the chain's ``get_neuron_to_prune`` picks
next, as ``exporters.snapshot.pruning_order`` follows it), past ``pruning_position_max``.
The README's commands run as written, with ``taowatch`` meaning this checkout's
``python -m taowatch.cli``, ``--network`` added to the two commands that default to finney,
and the long-running agent given a free ``--listen`` port.
"""

from __future__ import annotations

import json
import re
import shlex
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import bittensor as bt
import pytest
import yaml

from common.chain import make_client
from simnet.process import running_simnet
from simnet.remote import SimAdmin, parse_sim
from tests.support import REPO
from tests.support.waiting import eventually_sync

pytestmark = pytest.mark.e2e

SCENARIO = {
    "name": "own-neurons",
    "block_time": 12,
    "seed": 3,
    "accounts": [{"uri": "//Alice", "tao": 100000}],
    "subnets": [
        {
            "netuid": 1,
            "tempo": 10,
            "max_uids": 8,
            "max_validators": 2,
            "immunity_period": 100000,
            "burn_tao": 1,
            "neurons": [
                {
                    "name": "peer-validator",
                    "role": "validator",
                    "stake_tao": 500,
                    "weights": "idle",
                },
                # Registered at genesis and earning nothing either: evicted before the operator.
                {"name": "peer-miner-1", "role": "miner", "quality": 0.5},
                {"name": "peer-miner-2", "role": "miner", "quality": 0.5},
            ],
        },
        {"netuid": 2, "tempo": 10, "max_uids": 8, "immunity_period": 2, "burn_tao": 1},
    ],
}


def readme_commands() -> list[str]:
    """The code block of README's "Watch your own neurons" section, one command a line."""
    text = (REPO / "README.md").read_text()
    section = text.split("## Watch your own neurons", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```\n(.*?)```", section, re.S)
    assert block is not None, "the README section has no command block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def register_operator(network: str, wallets: Path) -> tuple[str, dict[int, str]]:
    """One coldkey, hotkey h1 registered on subnet 1 and h2 on subnet 2."""
    import asyncio

    async def go() -> tuple[str, dict[int, str]]:
        sim = parse_sim(network)
        first = bt.Wallet(name="operator", hotkey="h1", path=str(wallets))
        first.create_new_coldkey(use_password=False, suppress=True, overwrite=True)
        first.create_new_hotkey(use_password=False, suppress=True, overwrite=True)
        second = bt.Wallet(name="operator", hotkey="h2", path=str(wallets))
        second.create_new_hotkey(use_password=False, suppress=True, overwrite=True)
        coldkey = first.coldkeypub.ss58_address
        async with SimAdmin(sim.host, sim.port) as admin, make_client(network) as client:
            await admin.fund(coldkey, 100)
            hotkeys = {}
            for netuid, wallet in ((1, first), (2, second)):
                result = await client.execute(bt.BurnedRegister(netuid=netuid), wallet)
                assert result.success, result.message
                hotkeys[netuid] = wallet.hotkey.ss58_address
        return coldkey, hotkeys

    return asyncio.run(go())


def run(command: str, cwd: Path, network: str, coldkey: str) -> subprocess.CompletedProcess:
    argv = shlex.split(command.replace("YOUR_COLDKEY_SS58", coldkey))
    assert argv[0] == "taowatch"
    if argv[1] in ("init", "check"):
        argv += ["--network", network]
    return subprocess.run(
        [sys.executable, "-m", "taowatch.cli", *argv[1:]],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_readme_init_check_and_agent_watch_a_coldkey_on_two_subnets(tmp_path):
    init, check, check_config, agent = readme_commands()
    assert init.startswith("taowatch init") and check.startswith("taowatch check")
    assert check_config == "taowatch agent --check-config agent.yaml"
    assert agent == "taowatch agent --config agent.yaml"
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(yaml.safe_dump(SCENARIO))
    with running_simnet(block_time=0.25, scenario=scenario) as sim:
        coldkey, hotkeys = register_operator(sim.network, tmp_path / "wallets")

        written = run(init, tmp_path, sim.network, coldkey)
        assert written.returncode == 0, written.stderr
        config = yaml.safe_load((tmp_path / "agent.yaml").read_text())
        assert config["chain"]["network"] == sim.network
        assert {e["netuid"]: e["hotkeys"] for e in config["watch"]} == {
            1: [hotkeys[1]],
            2: [hotkeys[2]],
        }
        assert "agent.yaml: ok" in written.stdout

        again = run(init, tmp_path, sim.network, coldkey)
        assert again.returncode == 2 and "--force" in again.stderr

        checked = run(check, tmp_path, sim.network, coldkey)
        assert checked.returncode == 0, checked.stderr
        table = checked.stdout
        assert f"neuron {hotkeys[1]}" in table and f"neuron {hotkeys[2]}" in table
        pruning = [line for line in table.splitlines() if "pruning position" in line]
        assert len(pruning) == 2
        subnet_2 = next(line for line in pruning if "BittensorNeuronDeregistrationRisk" in line)
        assert subnet_2.lstrip().startswith("! pruning position  0")
        assert "past pruning_position_max=0" in subnet_2
        # On subnet 1 two older neurons are evicted first: nothing to mark.
        assert sum("BittensorNeuronDeregistrationRisk" in line for line in pruning) == 1

        as_json = subprocess.run(
            [
                sys.executable,
                "-m",
                "taowatch.cli",
                "check",
                "--coldkey",
                coldkey,
                "--network",
                sim.network,
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert as_json.returncode == 0, as_json.stderr
        neurons = {n["netuid"]: n for n in json.loads(as_json.stdout)["neurons"]}
        assert [f["mark"] for f in neurons[2]["flags"]] == ["pruning_position"]
        assert neurons[2]["pruning_position"] == 0 and neurons[1]["pruning_position"] == 2

        valid = run(check_config, tmp_path, sim.network, coldkey)
        assert valid.returncode == 0 and "agent.yaml: ok" in valid.stdout, valid.stderr

        port = free_port()
        argv = [*shlex.split(agent)[1:], "--listen", f"127.0.0.1:{port}"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "taowatch.cli", *argv],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / "agent.log").open("wb"),
        )
        try:

            def registered() -> list[str]:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                    body = r.read().decode()
                return [
                    hk
                    for n, hk in hotkeys.items()
                    if f'bittensor_neuron_registered{{hotkey="{hk}",netuid="{n}"}} 1.0' in body
                ]

            seen = eventually_sync(
                lambda: len(registered()) == 2 and registered(),
                what="the agent exporting both hotkeys as registered",
                timeout=60,
                every=0.5,
                tolerating=(OSError,),
            )
            assert sorted(seen) == sorted(hotkeys.values())
        finally:
            proc.terminate()
            proc.wait(15)
        assert (tmp_path / "taowatch-agent-state.json").exists()
        # check wrote no state file of its own: the only one is the agent's.
        assert [p.name for p in tmp_path.glob("*.json")] == ["taowatch-agent-state.json"]
