"""The bundled neurons in their own processes against a served simnet: ``taowatch
miner|validator --config`` started from a config dict, and the good miner, poor miner and
validator the e2e tests run on one subnet."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from bittensor.keyfiles import Keypair

from simnet.process import SimnetProcess, running_simnet
from simnet.scenario import neuron_coldkey, neuron_keypair
from taowatch.stack import free_port
from tests.support.neuron import write_wallet
from tests.support.scenarios import VALIDATOR_NAME

Start = Callable[[str, str, dict], subprocess.Popen]

ALICE = Keypair.create_from_uri("//Alice")


class NeuronProcesses:
    """Starts neurons with their config and log in ``directory``; ``stop`` ends them all."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._started: list[tuple[str, subprocess.Popen, Path]] = []

    def start(self, role: str, name: str, config: dict) -> subprocess.Popen:
        path = self._directory / f"{name}.yaml"
        path.write_text(yaml.safe_dump(config))
        log = self._directory / f"{name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "taowatch.cli", role, "--config", str(path)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=dict(os.environ, PYTHONUNBUFFERED="1"),
            )
        self._started.append((name, proc, log))
        return proc

    def stop(self) -> None:
        for name, proc, log in self._started:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if os.environ.get("TAOWATCH_TEST_SHOW_LOGS"):
                print(f"--- {name} ---\n{log.read_text()[-4000:]}")


@dataclass(frozen=True)
class MinersAndValidator:
    """The served simnet, both miners' uids, each neuron's ``(axon, metrics)`` ports and the
    validator's process."""

    sim: SimnetProcess
    good_uid: int
    poor_uid: int
    ports: dict[str, tuple[int, int]]
    validator: subprocess.Popen


@contextlib.asynccontextmanager
async def miners_and_validator(
    tmp_path: Path,
    start: Start,
    *,
    scenario: dict,
    netuid: int,
    good: Keypair,
    poor: Keypair,
) -> AsyncIterator[MinersAndValidator]:
    """A simnet served from ``scenario`` with the good and the poor miner registered (both
    owned by Alice) and started beside the scenario's validator, all syncing fast."""
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario))
    wallets = tmp_path / "wallets"
    write_wallet(
        wallets, "validator", neuron_keypair(VALIDATOR_NAME), neuron_coldkey(VALIDATOR_NAME)
    )
    write_wallet(wallets, "good", good, ALICE)
    write_wallet(wallets, "poor", poor, ALICE)

    with running_simnet(scenario=path, block_time=0.25) as sim:
        async with sim.admin as admin:
            good_uid = await admin.register(netuid, good.ss58_address, ALICE.ss58_address)
            poor_uid = await admin.register(netuid, poor.ss58_address, ALICE.ss58_address)
        ports = {name: (free_port(), free_port()) for name in ("good", "poor", "validator")}

        def common(name: str) -> dict:
            return {
                "chain": {"network": sim.network, "netuid": netuid},
                "wallet": {"name": name, "path": str(wallets)},
                "metrics": {"port": ports[name][1]},
                "metagraph": {"sync_interval_seconds": 1.0, "retry_seconds": 0.5},
            }

        for name in ("good", "poor"):
            start(
                "miner",
                name,
                {
                    **common(name),
                    "axon": {"port": ports[name][0]},
                    "task": {"quality": name, "poor_wrong_fraction": 0.6},
                },
            )
        validator = start(
            "validator",
            "validator",
            {
                **common("validator"),
                "query": {"step_interval_seconds": 0.3, "timeout_seconds": 2, "size": 32},
                "set_weights": {"check_interval_seconds": 0.25},
            },
        )
        yield MinersAndValidator(sim, good_uid, poor_uid, ports, validator)
