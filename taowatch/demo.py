"""``taowatch demo``: simnet in fast mode plus every taowatch component, on this machine.

Each component runs as its own process, exactly as it would on a server, with configs and
wallets generated under a run directory. The demo prints what runs where, shows progress, and
stops everything cleanly on Ctrl-C or after ``--duration`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from taowatch.metric_names import SIMNET_PORT


@dataclass
class Proc:
    name: str
    cmd: list[str]
    log: Path
    urls: list[str] = field(default_factory=list)
    popen: subprocess.Popen | None = None

    def start(self, env: dict[str, str]) -> None:
        with open(self.log, "ab") as out:
            self.popen = subprocess.Popen(
                self.cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()

    def tail(self, n: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


class Demo:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.workdir = Path(args.workdir or tempfile.mkdtemp(prefix="taowatch-demo-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.procs: list[Proc] = []
        self.env = dict(
            os.environ,
            PYTHONUNBUFFERED="1",
            BTCLI_TOKEN_SYMBOLS_CACHE=str(self.workdir / "token_symbols.json"),
        )
        self.network = ""
        self.status_lines: list[Callable[[], str]] = []

    def say(self, msg: str) -> None:
        print(f"[demo {time.strftime('%H:%M:%S')}] {msg}", flush=True)

    def spawn(self, name: str, args: list[str], urls: list[str] | None = None) -> Proc:
        proc = Proc(
            name,
            [sys.executable, "-m", "taowatch.cli", *args],
            self.workdir / f"{name}.log",
            urls or [],
        )
        proc.start(self.env)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            if proc.alive():
                self.say(f"stopping {proc.name}")
            proc.stop()

    def start_simnet(self) -> None:
        from simnet.process import start_simnet

        port = self.args.simnet_port
        if not port_free(port):
            raise DemoError(f"port {port} is in use: stop what holds it or pass --simnet-port")
        self.say(f"starting simnet (fast blocks, scenario {self.args.scenario}) ...")
        sim = start_simnet(
            scenario=self.args.scenario,
            block_time=0.25,
            port=port,
            log_path=self.workdir / "simnet.log",
        )
        self.network = sim.network
        proc = Proc("simnet", sim.process.args, sim.log_path, [self.network])
        proc.popen = sim.process
        self.procs.append(proc)

    async def head(self) -> int | None:
        from simnet.remote import SimAdmin

        host, port = self.network.removeprefix("sim://").rsplit(":", 1)
        try:
            async with SimAdmin(host, int(port), timeout=2) as admin:
                return await admin.head()
        except Exception:
            return None

    def print_table(self) -> None:
        width = max(len(p.name) for p in self.procs)
        print("\nRunning:")
        for p in self.procs:
            print(f"  {p.name:<{width}}  {', '.join(p.urls) or '-':<40}  log: {p.log}")
        print(f"\nRun directory: {self.workdir}\nCtrl-C stops everything.\n", flush=True)

    async def watch(self) -> int:
        deadline = time.monotonic() + self.args.duration if self.args.duration else None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        while not stop.is_set():
            dead = [p for p in self.procs if not p.alive()]
            if dead:
                for p in dead:
                    self.say(f"{p.name} exited unexpectedly; last lines of {p.log}:\n{p.tail()}")
                return 1
            head = await self.head()
            extra = [line() for line in self.status_lines]
            self.say(f"chain head {head}" + "".join(f" | {e}" for e in extra if e))
            if deadline and time.monotonic() >= deadline:
                self.say(f"--duration {self.args.duration:g}s reached")
                return 0
            timeout = self.args.progress_every
            if deadline:
                timeout = max(0.1, min(timeout, deadline - time.monotonic()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout)
        self.say("interrupted")
        return 0


class DemoError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="taowatch demo", description=__doc__)
    p.add_argument("--duration", type=float, default=0, help="stop after this many seconds")
    p.add_argument("--scenario", default="default", help="simnet scenario (default: bundled)")
    p.add_argument("--workdir", help="where configs, wallets and logs go (default: a temp dir)")
    p.add_argument("--simnet-port", type=int, default=SIMNET_PORT)
    p.add_argument("--progress-every", type=float, default=5.0, help="seconds between updates")
    return p


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    demo = Demo(args)
    try:
        demo.start_simnet()
        demo.print_table()
        return asyncio.run(demo.watch())
    except DemoError as exc:
        print(f"taowatch demo: {exc}", file=sys.stderr)
        return 1
    except RuntimeError as exc:  # a component failed to start: its log tail is in the message
        print(f"taowatch demo: {exc}", file=sys.stderr)
        return 1
    finally:
        demo.stop_all()
