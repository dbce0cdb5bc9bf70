"""Soak: simnet + agent + real Prometheus + Alertmanager + the loopback receiver, through
rounds of mixed faults, for ``--minutes N`` (default 30). Bounded and self-stopping.

Each round: clean, 30% RPC errors, 30% drops, 2 s latency, a halt, kill -9 of the agent (and
a restart), clean. The last phase restarts simnet on the same port (a rewound endpoint). It
prints notifications by alert name against the expected set, false deregistration pages
(none is ever expected: no hotkey is really deregistered), the agent's peak RSS and the
bytes of its log.

    .venv/bin/python bench/soak_faults.py --minutes 5
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

from simnet.onboarding import onboard
from simnet.process import start_simnet
from taowatch.receiver import SLACK, Receiver
from taowatch.stack import FAST_ALERTMANAGER, Stack, StackSettings, free_port

REPO = Path(__file__).resolve().parents[1]
# Alerts a fault is allowed to raise; anything else is reported as unexpected.
EXPECTED = {
    "BittensorExporterPollErrorRatio",
    "BittensorRpcEndpointErrorRatio",
    "BittensorRpcEndpointsAllDown",
    "BittensorRpcEndpointDown",
    "BittensorChainStalled",
    "BittensorExporterDown",
    "BittensorExporterDataStale",
    "BittensorRpcEndpointRewound",
    "BittensorRpcEndpointChainChanged",
}
PHASES = [
    ("clean", {}),
    ("errors30", {"error_rate": 0.3}),
    ("drops30", {"drop_rate": 0.3}),
    ("latency2s", {"latency": 2.0}),
    ("halt", None),
    ("kill9", None),
    ("clean", {}),
]


def alert_names() -> set[str]:
    return {
        rule["alert"]
        for path in (REPO / "alerts" / "rules").glob("*.yaml")
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Agent:
    def __init__(self, workdir: Path, config: Path):
        self.workdir, self.config, self.proc = workdir, config, None
        self.log = workdir / "agent.log"

    def start(self) -> None:
        out = self.log.open("ab")
        cmd = [sys.executable, "-m", "taowatch.cli", "agent", "--config", str(self.config)]
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill9()


async def soak(minutes: float, phase_seconds: float) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="soak-faults-"))
    port = free_port()
    sim = start_simnet(block_time=0.25, port=port)
    agent = None
    peak_rss = 0
    try:
        done = await onboard(sim.network, workdir / "wallets", ["miner", "validator"], netuid=1)
        hotkeys = [n.hotkey for n in done.values()]
        agent_port = free_port()
        cfg = {
            "chain": {"network": sim.network, "timeout_seconds": 3},
            "listen": {"host": "127.0.0.1", "port": agent_port},
            "watch": [{"netuid": 1, "hotkeys": hotkeys}],
            "state_file": str(workdir / "agent-state.json"),
        }
        config = workdir / "agent.yaml"
        config.write_text(yaml.safe_dump(cfg))
        agent = Agent(workdir, config)
        agent.start()
        knobs = {
            **FAST_ALERTMANAGER,
            "deregistration_lookback": "10m",
            "poll_error_window": "20s",
            "poll_error_for": "10s",
            "chain_mismatch_lookback": "2m",
            "chain_stall_seconds": 10,
            "chain_stall_for": "5s",
        }
        settings = StackSettings(
            targets={"taowatch-agent": [f"127.0.0.1:{agent_port}"]}, overrides=knobs
        )
        async with Receiver() as receiver, Stack(settings, receiver) as stack:
            await stack.wait_for_query("bittensor_exporter_up == 1", 60)
            deadline = time.monotonic() + minutes * 60
            rounds, seen_phases = 0, Counter()
            while True:
                for name, faults in PHASES:
                    if time.monotonic() + phase_seconds > deadline:
                        break
                    seen_phases[name] += 1
                    async with sim.admin as admin:
                        if name == "halt":
                            await admin.halt()
                        elif name == "kill9":
                            agent.kill9()
                            await asyncio.sleep(2)
                            agent.start()
                        else:
                            await admin.set_faults(**faults)
                    end = time.monotonic() + phase_seconds
                    while time.monotonic() < end:
                        peak_rss = max(peak_rss, rss_kib(agent.proc.pid))
                        await asyncio.sleep(1)
                    async with sim.admin as admin:
                        await admin.set_faults()
                        await admin.resume()
                else:
                    rounds += 1
                    continue
                break
            # Last: the same URL, a restarted chain (a fresh genesis: another chain).
            sim.stop()
            sim = start_simnet(block_time=0.25, port=port)
            seen_phases["simnet_restart"] += 1
            end = time.monotonic() + max(20.0, phase_seconds)
            while time.monotonic() < end:
                peak_rss = max(peak_rss, rss_kib(agent.proc.pid))
                await asyncio.sleep(1)
            firing = [n for n in receiver.notifications if n.service == SLACK]
            by_alert: Counter[str] = Counter()
            for name in alert_names():
                by_alert[name] = sum(1 for n in firing if n.status == "firing" and n.mentions(name))
            by_alert = Counter({k: v for k, v in by_alert.items() if v})
            false_pages = by_alert.pop("BittensorNeuronDeregistered", 0)
            print(f"minutes: {minutes}  full rounds: {rounds}  phases: {dict(seen_phases)}")
            print("firing notifications by alert (expected set marked *):")
            for name, n in sorted(by_alert.items()):
                print(f"  {'*' if name in EXPECTED else '!'} {name}: {n}")
            must = {"BittensorExporterPollErrorRatio", "BittensorRpcEndpointChainChanged"}
            never = sorted(must - set(by_alert))
            print(f"expected but never fired: {never}")
            print(f"false deregistration pages: {false_pages}")
            print(f"agent RSS max: {peak_rss / 1024:.1f} MiB")
            print(f"agent log bytes: {agent.log.stat().st_size}")
            unexpected = sorted(set(by_alert) - EXPECTED)
            print(f"unexpected alerts: {unexpected}")
            return 1 if false_pages or unexpected or never else 0
    finally:
        if agent is not None:
            agent.stop()
        sim.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--phase-seconds", type=float, default=45.0)
    args = ap.parse_args()
    return asyncio.run(soak(args.minutes, args.phase_seconds))


if __name__ == "__main__":
    sys.exit(main())
