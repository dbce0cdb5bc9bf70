"""A real miner process under a connection attack, for the bounded-load test and the soak
bench (bench/soak_miner_attack.py). Loopback only.

* :func:`running_miner`: simnet, the miner registered on it, and ``taowatch miner`` started
  with a given RLIMIT_NOFILE, its output in ``workdir/miner.log``;
* :class:`Attack`: idle, slow-header and slow-body connections that reconnect when the miner
  closes them, until stopped;
* :func:`fresh_requests`: a validator's signed requests, each over a new connection.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import yaml
from bittensor.keyfiles import Keyfile, Keypair

from neuron.auth import sign_request
from simnet.process import running_simnet
from simnet.scenario import neuron_keypair
from taowatch.stack import free_port
from tests.support.scenarios import VALIDATOR_NAME, one_validator_scenario

NETUID = 1
ALICE = Keypair.create_from_uri("//Alice")
MINER = Keypair.create_from_uri("//taowatch/attack/miner")
VALIDATOR = neuron_keypair(VALIDATOR_NAME)  # staked, with a permit, at genesis
BODY = json.dumps({"payload": "x" * 32}).encode()

SCENARIO = one_validator_scenario("miner-attack", NETUID)


def raise_own_fd_limit(needed: int) -> None:
    """The attacker's sockets live in this process: lift its soft limit (up to hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))


@dataclass
class RunningMiner:
    port: int
    metrics_port: int
    log: Path
    process: subprocess.Popen

    def log_bytes(self) -> int:
        return self.log.stat().st_size

    def rss_bytes(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("VmRSS:"))
        return int(line.split()[1]) * 1024


def _spawn_miner(config: Path, log: Path, nofile: int) -> subprocess.Popen:
    def limit_fds() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "taowatch.cli", "miner", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
            preexec_fn=limit_fds,
        )


@asynccontextmanager
async def running_miner(
    workdir: Path, *, nofile: int, axon: dict | None = None
) -> AsyncIterator[RunningMiner]:
    """A registered echo miner whose soft and hard RLIMIT_NOFILE are ``nofile``."""
    scenario = workdir / "scenario.yaml"
    scenario.write_text(yaml.safe_dump(SCENARIO))
    wallets = workdir / "wallets"
    Keyfile(wallets / "miner" / "hotkeys" / "default").set_keypair(
        MINER, encrypt=False, overwrite=True
    )
    Keyfile(wallets / "miner" / "coldkeypub.txt").set_keypair(
        Keypair(ss58_address=ALICE.ss58_address), encrypt=False, overwrite=True
    )
    with running_simnet(scenario=scenario, block_time=0.5) as sim:
        async with sim.admin as admin:
            await admin.register(NETUID, MINER.ss58_address, ALICE.ss58_address)
        port, metrics_port = free_port(), free_port()
        config = {
            "chain": {"network": sim.network, "netuid": NETUID},
            "wallet": {"name": "miner", "path": str(wallets)},
            "metrics": {"port": metrics_port},
            "metagraph": {"sync_interval_seconds": 2.0, "retry_seconds": 0.5},
            "axon": {"port": port, "serve_on_chain": False, **(axon or {})},
            "task": {"name": "echo"},
        }
        path = workdir / "miner.yaml"
        path.write_text(yaml.safe_dump(config))
        log = workdir / "miner.log"

        proc = _spawn_miner(path, log, nofile)
        try:
            yield RunningMiner(port, metrics_port, log, proc)
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def signed_request(port: int, *, session: aiohttp.ClientSession) -> int:
    """One validator request; its HTTP status, or 0 if it got no answer at all."""
    headers = sign_request(
        VALIDATOR, method="POST", path="/echo", body=BODY, receiver=MINER.ss58_address
    )
    headers["Content-Type"] = "application/json"
    try:
        async with session.post(
            f"http://127.0.0.1:{port}/echo",
            data=BODY,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=5),
        ) as resp:
            await resp.read()
            return resp.status
    except (aiohttp.ClientError, OSError, TimeoutError):
        return 0


async def fresh_requests(port: int, count: int, *, gap: float = 0.1) -> list[int]:
    """``count`` signed requests, each over a connection of its own, as a validator that just
    started (or whose kept-alive connection just dropped) would send them."""
    statuses = []
    for _ in range(count):
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session:
            statuses.append(await signed_request(port, session=session))
        await asyncio.sleep(gap)
    return statuses


@dataclass
class Attack:
    """Connections that hold the miner's sockets without ever completing a request."""

    port: int
    idle: int = 2000
    slow_header: int = 200
    slow_body: int = 200
    trickle_seconds: float = 0.5
    # The attacker keeps its connection count up, reopening a dropped connection this long
    # after the drop (a tight reconnect loop would measure the loopback, not the miner).
    reconnect_delay: float = 1.0
    connects: int = 0
    closed_by_server: int = 0
    _tasks: list[asyncio.Task] = field(default_factory=list)
    _rng: random.Random = field(default_factory=lambda: random.Random(7))

    async def _hold(self, kind: str, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.2)
                continue
            self.connects += 1
            try:
                if kind == "body":
                    writer.write(
                        b"POST /echo HTTP/1.1\r\nHost: miner\r\nContent-Length: 100000\r\n\r\n"
                    )
                elif kind == "header":
                    writer.write(b"POST /echo HTTP/1.1\r\n")
                while not stop.is_set():
                    if kind != "idle":
                        writer.write(b"a")
                    try:
                        chunk = await asyncio.wait_for(reader.read(4096), self.trickle_seconds)
                    except TimeoutError:
                        continue
                    if not chunk:
                        self.closed_by_server += 1
                        break
            except OSError:
                self.closed_by_server += 1
            finally:
                writer.close()
            # Jittered, so the reconnects do not arrive as one synchronised wave.
            await asyncio.sleep(self.reconnect_delay * (0.5 + self._rng.random()))

    def start(self, stop: asyncio.Event) -> None:
        kinds = ["idle"] * self.idle + ["header"] * self.slow_header + ["body"] * self.slow_body
        self._tasks = [asyncio.create_task(self._hold(kind, stop)) for kind in kinds]

    async def wait(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)
