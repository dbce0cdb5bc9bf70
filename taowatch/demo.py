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

import yaml

from common.metric_names import (
    AGENT_PORT,
    MINER_AXON_PORT,
    MINER_METRICS_PORT,
    SIMNET_PORT,
    VALIDATOR_METRICS_PORT,
    Exporter,
)

NETUID = 1
# (name, task quality). The poor miner answers wrongly part of the time, so the validator's
# scores, its weights and then the chain's incentive visibly separate it from the others.
MINERS = (("miner-good-1", "good"), ("miner-good-2", "good"), ("miner-poor", "poor"))
# Enough stake that the demo validator carries consensus on the miners only it can query.
VALIDATOR_STAKE_TAO = 20_000


@dataclass
class Proc:
    name: str
    cmd: list[str]
    log: Path
    urls: list[str] = field(default_factory=list)
    popen: subprocess.Popen | None = None
    passthrough: bool = False  # stdout to the terminal (notifications), stderr to the log

    def start(self, env: dict[str, str]) -> None:
        with open(self.log, "ab") as out:
            self.popen = subprocess.Popen(
                self.cmd,
                stdout=None if self.passthrough else out,
                stderr=out if self.passthrough else subprocess.STDOUT,
                env=env,
                start_new_session=True,
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
        # Status lines wait for the agent's first successful poll: before it, every value
        # would read "None" or "up=0" and say nothing about the chain.
        self.agent_polled = False

    def say(self, msg: str) -> None:
        print(f"[demo {time.strftime('%H:%M:%S')}] {msg}", flush=True)

    def spawn(
        self,
        name: str,
        args: list[str],
        urls: list[str] | None = None,
        *,
        module: str = "taowatch.cli",
        passthrough: bool = False,
    ) -> Proc:
        proc = Proc(
            name,
            [sys.executable, "-m", module, *args],
            self.workdir / f"{name}.log",
            urls or [],
            passthrough=passthrough,
        )
        proc.start(self.env)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            if proc.alive():
                self.say(f"stopping {proc.name}")
            proc.stop()

    def port(self, default: int) -> int:
        return default + self.args.port_offset

    def check_ports(self) -> None:
        wanted = [self.port(p) for p in (SIMNET_PORT, AGENT_PORT, VALIDATOR_METRICS_PORT)]
        if self.args.stack:
            wanted += [self.port(p) for p in (9090, 9093, 9097)]
        for i in range(len(MINERS)):
            wanted += [self.port(MINER_AXON_PORT + i), self.port(MINER_METRICS_PORT + 10 * i)]
        busy = [p for p in wanted if not port_free(p)]
        if busy:
            raise DemoError(
                f"port(s) {', '.join(map(str, busy))} in use on 127.0.0.1: stop what holds "
                "them (another demo?) and try again"
            )

    def start_simnet(self) -> None:
        from simnet.process import start_simnet

        port = self.port(SIMNET_PORT)
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

    # -- the operator's side: wallets, registration, stake -----------------------------------

    async def onboard(self) -> dict[str, str]:
        """Register the demo's neurons and stake the validator, as an operator would from the
        machine that holds the coldkeys; then delete the coldkeys: servers get hotkeys only."""
        from simnet.onboarding import OnboardingError, onboard

        names = ["validator", *[m for m, _ in MINERS]]
        try:
            done = await onboard(
                self.network,
                self.workdir / "wallets",
                names,
                netuid=NETUID,
                stake_tao={"validator": VALIDATOR_STAKE_TAO},
            )
        except OnboardingError as exc:
            raise DemoError(str(exc)) from None
        for n in done.values():
            self.say(f"registered {n.name} on subnet {NETUID} as uid {n.uid}")
        self.say(f"staked {VALIDATOR_STAKE_TAO:,} TAO on the validator")
        self.say("deleted the coldkeys: the neurons run with hotkeys and coldkeypub.txt only")
        return {name: n.hotkey for name, n in done.items()}

    def write_config(self, name: str, config: dict) -> Path:
        path = self.workdir / f"{name}.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    def start_neurons(self) -> None:
        wallets = str(self.workdir / "wallets")
        for i, (name, quality) in enumerate(MINERS):
            axon = self.port(MINER_AXON_PORT + i)
            metrics = self.port(MINER_METRICS_PORT + 10 * i)
            cfg = {
                "chain": {"network": self.network, "netuid": NETUID},
                "wallet": {"name": name, "hotkey": "default", "path": wallets},
                "metrics": {"host": "127.0.0.1", "port": metrics},
                "axon": {"host": "127.0.0.1", "port": axon, "external_ip": "127.0.0.1"},
                "task": {"name": "matmul", "quality": quality},
                "metagraph": {"sync_interval_seconds": 10},
            }
            self.spawn(
                name,
                ["miner", "--config", str(self.write_config(name, cfg))],
                [f"axon http://127.0.0.1:{axon}", f"http://127.0.0.1:{metrics}/metrics"],
            )
        cfg = {
            "chain": {"network": self.network, "netuid": NETUID},
            "wallet": {"name": "validator", "hotkey": "default", "path": wallets},
            "metrics": {"host": "127.0.0.1", "port": self.port(VALIDATOR_METRICS_PORT)},
            "query": {"step_interval_seconds": 2, "timeout_seconds": 2, "sample_size": 8},
            "metagraph": {"sync_interval_seconds": 10},
        }
        self.spawn(
            "validator",
            ["validator", "--config", str(self.write_config("validator", cfg))],
            [f"http://127.0.0.1:{self.port(VALIDATOR_METRICS_PORT)}/metrics"],
        )

    def probe_config(self) -> dict:
        """The agent's signed probe of the watched axons (our miners), with a probe hotkey of
        its own (owner-only file, no stake needed), so the probe panels have data."""
        from bittensor.keyfiles import Keyfile, Keypair

        key_file = self.workdir / "probe-hotkey"
        prober = Keypair.create_from_uri("//taowatch/demo/prober")
        Keyfile(key_file, "probe").set_keypair(prober, encrypt=False, overwrite=True)
        return {
            "enabled": True,
            "hotkey_file": str(key_file),
            "interval_seconds": 5,
            "timeout_seconds": 2,
        }

    def start_agent(self, hotkeys: dict[str, str]) -> None:
        from simnet.scenario import neuron_coldkey, neuron_keypair

        cfg = {
            "chain": {"network": self.network},
            "listen": {"host": "127.0.0.1", "port": self.port(AGENT_PORT)},
            "watch": [
                # Ours, plus two simulated neurons the scenario has plans for: a stake drop
                # (sim-validator-a, block 400) and an eviction (sim-miner-3, block 600).
                {
                    "netuid": NETUID,
                    "hotkeys": [
                        *hotkeys.values(),
                        neuron_keypair("sim-validator-a").ss58_address,
                        neuron_keypair("sim-miner-3").ss58_address,
                    ],
                },
                # A coldkey watch: the agent discovers this operator's hotkeys on every subnet
                # (the scenario later drops this validator's take and announces a coldkey swap).
                {"coldkey": neuron_coldkey("sim-validator-c").ss58_address},
            ],
            "export_all_neurons": [NETUID],
            "state_file": str(self.workdir / "agent-state.json"),
            "probe": self.probe_config(),
        }
        self.agent_url = f"http://127.0.0.1:{self.port(AGENT_PORT)}"
        self.spawn(
            "agent",
            ["agent", "--config", str(self.write_config("agent", cfg))],
            [f"{self.agent_url}/metrics", f"{self.agent_url}/api/status"],
        )
        self.hotkeys = hotkeys
        self.status_lines.append(self.neuron_summary)
        self.status_lines.append(self.weights_summary)

    def start_stack(self) -> None:
        """Real Prometheus + Alertmanager with the repository's rules, notifying a local
        stand-in for Slack and PagerDuty whose deliveries print on this terminal."""
        import shutil

        if not shutil.which("prometheus") or not (
            shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
        ):
            raise DemoError(
                "--stack needs Prometheus and Alertmanager: "
                "apt-get install prometheus prometheus-alertmanager (or scripts/install --test)"
            )
        targets = [
            f"taowatch-agent=127.0.0.1:{self.port(AGENT_PORT)}",
            f"taowatch-neuron=127.0.0.1:{self.port(VALIDATOR_METRICS_PORT)}",
        ]
        targets += [
            f"taowatch-neuron=127.0.0.1:{self.port(MINER_METRICS_PORT + 10 * i)}"
            for i in range(len(MINERS))
        ]
        prom, am = self.port(9090), self.port(9093)
        self.spawn(
            "stack",
            [
                *(a for t in targets for a in ("--target", t)),
                "--prometheus-port",
                str(prom),
                "--alertmanager-port",
                str(am),
                "--receiver-port",
                str(self.port(9097)),
                "--workdir",
                str(self.workdir / "stack"),
                *(["--full"] if self.args.full_notifications else []),
            ],
            [f"prometheus http://127.0.0.1:{prom}", f"alertmanager http://127.0.0.1:{am}"],
            module="taowatch.stack",
            passthrough=True,
        )

    def neuron_summary(self) -> str:
        """One line from the agent's own exposition: what the chain says about our neurons."""
        from urllib.request import urlopen

        from prometheus_client.parser import text_string_to_metric_families

        try:
            with urlopen(f"{self.agent_url}/metrics", timeout=2) as resp:
                text = resp.read().decode()
        except OSError:
            return "agent not answering yet"
        values: dict[tuple[str, str], float] = {}
        up = None
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == Exporter.EXPORTER_UP:
                    up = sample.value
                    self.agent_polled = self.agent_polled or up == 1
                hotkey = sample.labels.get("hotkey")
                if hotkey and sample.labels.get("netuid") == str(NETUID):
                    values[(sample.name, hotkey)] = sample.value
        parts = [f"agent up={up:g}" if up is not None else "agent polling"]
        for name, hotkey in self.hotkeys.items():
            if name == "validator":
                vt = values.get((Exporter.NEURON_VALIDATOR_TRUST, hotkey))
                if vt is not None:
                    parts.append(f"validator vtrust={vt:.2f}")
            else:
                inc = values.get((Exporter.NEURON_INCENTIVE, hotkey))
                if inc is not None:
                    parts.append(f"{name} incentive={inc:.3f}")
        return " | ".join(parts)

    def weights_summary(self) -> str:
        """The validator's own view of its weights: commits made, reveals the chain made."""
        from urllib.request import urlopen

        url = f"http://127.0.0.1:{self.port(VALIDATOR_METRICS_PORT)}/metrics"
        try:
            with urlopen(url, timeout=2) as resp:
                return weights_line(resp.read().decode())
        except OSError:
            return ""

    async def head(self) -> int | None:
        from simnet.remote import SimAdmin, parse_sim

        sim = parse_sim(self.network)
        if sim is None:
            return None
        try:
            async with SimAdmin(sim.host, sim.port, timeout=2) as admin:
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
        waiting_said = False
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
            # The summaries read HTTP endpoints: off the event loop, which also serves signals.
            extra = [await asyncio.to_thread(line) for line in self.status_lines]
            if self.agent_polled:
                self.say(f"chain head {head}" + "".join(f" | {e}" for e in extra if e))
            elif not waiting_said:
                self.say("waiting for the agent's first poll ...")
                waiting_said = True
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
    p.add_argument(
        "--stack",
        action="store_true",
        help="also run Prometheus and Alertmanager with the repository's rules (Debian "
        "packages prometheus, prometheus-alertmanager) and print alert notifications",
    )
    p.add_argument(
        "--full-notifications",
        action="store_true",
        help="with --stack: print each notification's whole payload under its one line",
    )
    p.add_argument(
        "--port-offset",
        type=int,
        default=0,
        help="add this to every port (simnet 9955, agent 9946, miners 8091+/9947+, "
        "validator 9948) to run beside another demo",
    )
    p.add_argument("--progress-every", type=float, default=5.0, help="seconds between updates")
    return p


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    demo = Demo(args)
    try:
        demo.check_ports()
        demo.start_simnet()
        hotkeys = asyncio.run(demo.onboard())
        demo.start_agent(hotkeys)
        demo.start_neurons()
        if args.stack:
            demo.start_stack()
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


def weights_line(exposition: str) -> str:
    """``validator commits=3 (last #1204) reveals=2 (last #1211) unrevealed=1`` from the
    validator's metrics; a block appears once there is one."""
    from prometheus_client.parser import text_string_to_metric_families

    from common.metric_names import Runtime as R

    got: dict[str, float] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            got[sample.name] = sample.value

    def count(name: str, last: str) -> str:
        n = int(got.get(name + "_total", 0))
        block = got.get(last)
        return f"{n}" if block is None else f"{n} (last #{int(block)})"

    return (
        f"validator commits={count(R.VALIDATOR_WEIGHT_COMMITS, R.VALIDATOR_LAST_COMMIT_BLOCK)}"
        f" reveals={count(R.VALIDATOR_WEIGHT_REVEALS, R.VALIDATOR_LAST_REVEAL_BLOCK)}"
        f" unrevealed={int(got.get(R.VALIDATOR_UNREVEALED_COMMITS, 0))}"
    )
