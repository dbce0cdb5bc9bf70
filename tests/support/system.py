"""The whole system on one machine, for end-to-end tests: simnet, the agent, a miner and a
validator (each its own ``taowatch ...`` process), real Prometheus and Alertmanager.

    async with running_system(tmp_path, overrides={...}) as system:
        await system.stack.wait_for_query(...)

Wallets are onboarded as an operator would: created, funded, registered with
``bt.BurnedRegister`` (the validator also staked with ``bt.AddStake``), then their coldkeys
deleted, since the runtimes refuse to start next to one. With ``influx=True`` the agent's
InfluxDB sink writes to a loopback stand-in for the v2 write API, so its metrics are real.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from simnet.onboarding import onboard as simnet_onboard
from simnet.process import SimnetProcess, running_simnet
from taowatch.receiver import Receiver
from taowatch.stack import FAST_ALERTMANAGER, Stack, StackSettings, free_port
from tests.support import REPO

NETUID = 1
# Like the demo: enough that our validator carries consensus on the miner only it can query,
# so an epoch after its weights the miner earns incentive.
VALIDATOR_STAKE_TAO = 20_000
DEADLINE = 90.0  # generous: a loaded CI machine, never a performance bound


def job_names() -> tuple[str, str]:
    """(agent job, neuron job) as alerts/thresholds.yaml names them: the rules select by them."""
    knobs = yaml.safe_load((REPO / "alerts" / "thresholds.yaml").read_text())
    return knobs["agent_job"], knobs["neuron_job"]


def spawn(name: str, args: list[str], workdir: Path) -> subprocess.Popen:
    """``python -m taowatch.cli ARGS`` with its output in ``workdir/NAME.log``."""
    log = (workdir / f"{name}.log").open("ab")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "taowatch.cli", *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=REPO,
    )


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in reversed(procs):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def write_config(workdir: Path, name: str, config: dict) -> str:
    path = workdir / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return str(path)


async def onboard_keys(
    network: str, workdir: Path, stakes: dict[str, float]
) -> tuple[dict[str, str], dict[str, str]]:
    """Create, fund and register one wallet per name (stake > 0: AddStake that much); then
    delete the coldkeys. Returns (name -> hotkey ss58, name -> coldkey ss58)."""
    done = await simnet_onboard(
        network,
        workdir / "wallets",
        list(stakes),
        netuid=NETUID,
        stake_tao={name: tao for name, tao in stakes.items() if tao > 0},
    )
    return (
        {name: n.hotkey for name, n in done.items()},
        {name: n.coldkeypub for name, n in done.items()},
    )


async def onboard(network: str, workdir: Path, stakes: dict[str, float]) -> dict[str, str]:
    """:func:`onboard_keys`, hotkeys only."""
    hotkeys, _ = await onboard_keys(network, workdir, stakes)
    return hotkeys


def probe_config(workdir: Path) -> dict[str, Any]:
    """The agent's ``probe:`` section with a probe hotkey of its own (owner-only file), every
    second: fast enough for a test to see a round within a few seconds."""
    from bittensor.keyfiles import Keyfile, Keypair

    key_file = workdir / "probe-hotkey"
    prober = Keypair.create_from_uri("//taowatch/e2e/prober")
    Keyfile(key_file, "probe").set_keypair(prober, encrypt=False, overwrite=True)
    return {
        "enabled": True,
        "hotkey_file": str(key_file),
        "interval_seconds": 1,
        "timeout_seconds": 0.5,
    }


@dataclass
class InfluxStandIn:
    """Accepts InfluxDB v2 line-protocol writes (204) and counts the lines; enough for the
    agent's sink to run as it does against a real server."""

    lines: int = 0
    url: str = ""
    _runner: web.AppRunner | None = None

    async def _write(self, request: web.Request) -> web.Response:
        if not request.headers.get("Authorization", "").startswith("Token "):
            return web.json_response({"code": "unauthorized"}, status=401)
        body = await request.read()
        self.lines += sum(1 for line in body.decode().split("\n") if line)
        return web.Response(status=204)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/v2/write", self._write)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@dataclass
class System:
    sim: SimnetProcess
    workdir: Path
    hotkeys: dict[str, str]  # "miner" / "validator" -> ss58
    ports: dict[str, int]  # agent, miner (metrics), axon, validator (metrics)
    stack: Stack
    receiver: Receiver
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    influx: InfluxStandIn | None = None

    def log_tails(self, lines: int = 15) -> str:
        parts = []
        for name in self.procs:
            path = self.workdir / f"{name}.log"
            text = path.read_text(errors="replace") if path.exists() else "(no log)"
            parts.append(f"--- {name} ---\n" + "\n".join(text.splitlines()[-lines:]))
        return "\n".join(parts)


@asynccontextmanager
async def running_system(
    workdir: Path,
    *,
    overrides: dict[str, Any] | None = None,
    influx: bool = False,
    block_time: float = 0.25,
    stack_options: dict[str, Any] | None = None,
    probe: bool = False,
    scenario: str | Path | None = None,
    extra_watch: list[dict[str, Any]] | None = None,
) -> AsyncIterator[System]:
    """Everything up, scraped, and both runtimes registered as Prometheus sees it.

    The miner serves its axon on loopback (the validator queries it); the validator checks
    every 0.25 s whether it may set weights, so weights land within a few blocks.
    ``stack_options`` are more StackSettings fields (e.g. remote_write). ``probe`` turns on
    the agent's signed probe (a key of its own, every second). ``extra_watch`` are more
    agent ``watch`` entries (the scenario's own neurons, a coldkey), as the demo watches."""
    knobs = {**FAST_ALERTMANAGER, **(overrides or {})}
    agent_job, neuron_job = job_names()
    ports = {name: free_port() for name in ("agent", "miner", "axon", "validator")}
    procs: dict[str, subprocess.Popen] = {}
    stand_in = InfluxStandIn() if influx else None
    with running_simnet(block_time=block_time, scenario=scenario) as sim:
        try:
            hotkeys, coldkeys = await onboard_keys(
                sim.network, workdir, {"miner": 0, "validator": VALIDATOR_STAKE_TAO}
            )
            wallets = str(workdir / "wallets")
            chain = {"network": sim.network, "netuid": NETUID}
            agent_cfg: dict[str, Any] = {
                "chain": {"network": sim.network, "timeout_seconds": 5},
                "listen": {"host": "127.0.0.1", "port": ports["agent"]},
                "watch": [
                    {"netuid": NETUID, "hotkeys": [hotkeys["miner"], hotkeys["validator"]]},
                    # The validator's owner: its coldkey-swap series exist (at 0) from start-up.
                    {"coldkey": coldkeys["validator"], "netuids": [NETUID]},
                    *(extra_watch or []),
                ],
                "export_all_neurons": [NETUID],
                # A threshold far above the burn: the series exists, the alert stays silent.
                "registration_cost_alert_tao": {NETUID: 1_000_000},
                "state_file": str(workdir / "agent-state.json"),
            }
            if stand_in is not None:
                await stand_in.start()
                token = workdir / "influx-token"
                token.write_text("stand-in-token\n")
                token.chmod(0o600)
                agent_cfg["influx"] = {
                    "enabled": True,
                    "url": stand_in.url,
                    "org": "taowatch",
                    "bucket": "chain",
                    "token_file": str(token),
                    "flush_interval_seconds": 1,
                }
            if probe:
                agent_cfg["probe"] = probe_config(workdir)
            miner_cfg = {
                "chain": chain,
                "wallet": {"name": "miner", "hotkey": "default", "path": wallets},
                "metrics": {"host": "127.0.0.1", "port": ports["miner"]},
                "axon": {"host": "127.0.0.1", "port": ports["axon"], "external_ip": "127.0.0.1"},
                "metagraph": {"sync_interval_seconds": 2},
            }
            validator_cfg = {
                "chain": chain,
                "wallet": {"name": "validator", "hotkey": "default", "path": wallets},
                "metrics": {"host": "127.0.0.1", "port": ports["validator"]},
                "query": {"step_interval_seconds": 1, "timeout_seconds": 2},
                "set_weights": {"check_interval_seconds": 0.25},
                "metagraph": {"sync_interval_seconds": 2},
            }
            for name, cfg in (
                ("agent", agent_cfg),
                ("miner", miner_cfg),
                ("validator", validator_cfg),
            ):
                procs[name] = spawn(
                    name, [name, "--config", write_config(workdir, name, cfg)], workdir
                )
            settings = StackSettings(
                targets={
                    agent_job: [f"127.0.0.1:{ports['agent']}"],
                    neuron_job: [
                        f"127.0.0.1:{ports['miner']}",
                        f"127.0.0.1:{ports['validator']}",
                    ],
                },
                overrides=knobs,
                **(stack_options or {}),
            )
            async with Receiver() as receiver, Stack(settings, receiver) as stack:
                system = System(
                    sim, workdir, hotkeys, ports, stack, receiver, procs, influx=stand_in
                )
                try:
                    for hotkey in hotkeys.values():
                        await stack.wait_for_query(
                            "netuid_hotkey:bittensor_neuron_registered:max"
                            f'{{hotkey="{hotkey}"}} == 1',
                            DEADLINE,
                        )
                    await stack.wait_for_query(
                        f'count(up{{job="{neuron_job}"}} == 1) == 2', DEADLINE
                    )
                except Exception:
                    print(system.log_tails())
                    raise
                yield system
        finally:
            stop(list(procs.values()))
            if stand_in is not None:
                await stand_in.stop()
