"""Run a simnet server in its own process: for tests, benchmarks and the demo."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from simnet.remote import SimAdmin


@dataclass
class SimnetProcess:
    host: str
    port: int
    process: subprocess.Popen
    log_path: Path
    ws_port: int | None = None

    @property
    def ws_network(self) -> str:
        """The node's endpoint for the SDK's own ``RpcSubstrate`` (``bt.Client(ws_network)``)."""
        if self.ws_port is None:
            raise RuntimeError("this simnet was started without its node (ws_port=-1)")
        return f"ws://{self.host}:{self.ws_port}"

    @property
    def network(self) -> str:
        return f"sim://{self.host}:{self.port}"

    @property
    def admin(self) -> SimAdmin:
        # A fresh admin per use: its HTTP session belongs to the caller's event loop.
        return SimAdmin(self.host, self.port)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_simnet(
    *,
    scenario: str | Path | None = None,
    block_time: float | None = 0.25,
    manual: bool = False,
    port: int = 0,
    host: str = "127.0.0.1",
    log_path: str | Path | None = None,
    startup_timeout: float = 60.0,
    genesis_nonce: str | None = None,
    ws_port: int = 0,
) -> SimnetProcess:
    workdir = Path(tempfile.mkdtemp(prefix="simnet-"))
    ready = workdir / "ready.json"
    log_file = Path(log_path) if log_path else workdir / "simnet.log"
    cmd = [
        sys.executable,
        "-m",
        "taowatch.cli",
        "simnet",
        "serve",
        "--host",
        host,
        "--port",
        str(port),
        "--ready-file",
        str(ready),
        "--scenario",
        str(scenario or "default"),
        "--ws-port",
        str(ws_port),
    ]
    if genesis_nonce is not None:
        cmd += ["--genesis-nonce", genesis_nonce]
    if manual:
        cmd.append("--manual")
    elif block_time is not None:
        cmd += ["--block-time", str(block_time)]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with open(log_file, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    handle = SimnetProcess(host, port, proc, log_file)
    deadline = time.monotonic() + startup_timeout
    while not ready.exists():
        if proc.poll() is not None:
            raise RuntimeError(f"simnet exited with {proc.returncode}:\n{handle.log_tail()}")
        if time.monotonic() > deadline:
            handle.stop()
            raise RuntimeError(
                f"simnet did not start in {startup_timeout:.0f}s:\n{handle.log_tail()}"
            )
        time.sleep(0.05)
    ready_info = json.loads(ready.read_text())
    handle.port = int(ready_info["port"])
    handle.ws_port = ready_info.get("ws_port")
    return handle


@contextlib.contextmanager
def running_simnet(**kwargs) -> Iterator[SimnetProcess]:
    """``with running_simnet() as sim: make_client(sim.network) ...`` — always stopped after."""
    handle = start_simnet(**kwargs)
    try:
        yield handle
    finally:
        handle.stop()
