"""Agent RSS while watching 8 subnets, against a simnet server in another process.

A scenario with 8 subnets of 64 simulated neurons runs at 0.25 s blocks (so the agent polls
4 times a second); the agent watches 4 hotkeys per subnet (32), then, in a second run, also
exports every neuron of all 8 subnets. RSS is read from /proc/PID/status (VmRSS, VmHWM)
after the agent has polled for ``--seconds`` while being scraped once a second.

Baseline in the same run: a bare ``python -c "import bittensor"`` process (the SDK alone).

Usage: .venv/bin/python bench/bench_agent_rss.py [--seconds 30]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._support import rss_mb, start_agent  # noqa: E402
from simnet.process import running_simnet  # noqa: E402
from simnet.scenario import neuron_keypair  # noqa: E402
from taowatch.stack import free_port  # noqa: E402

SUBNETS, UIDS = 8, 64


def scenario(path: Path) -> None:
    subnets = []
    for netuid in range(1, SUBNETS + 1):
        neurons = [
            {"name": f"v{netuid}-{i}", "role": "validator", "stake_tao": 1000 + i, "every": 20}
            for i in range(4)
        ] + [
            {"name": f"m{netuid}-{i}", "role": "miner", "quality": i / UIDS}
            for i in range(UIDS - 4)
        ]
        subnets.append(
            {
                "netuid": netuid,
                "tempo": 50,
                "max_uids": UIDS,
                "weights_rate_limit": 10,
                "neurons": neurons,
            }
        )
    path.write_text(yaml.safe_dump({"name": "rss", "block_time": 12, "subnets": subnets}))


def run_agent(
    network: str, export_all: bool, seconds: float, workdir: Path
) -> tuple[float, float, int]:
    port = free_port()
    config = {
        "chain": {"network": network},
        "listen": {"port": port},
        "watch": [
            {"netuid": n, "hotkeys": [neuron_keypair(f"m{n}-{i}").ss58_address for i in range(4)]}
            for n in range(1, SUBNETS + 1)
        ],
        "export_all_neurons": list(range(1, SUBNETS + 1)) if export_all else [],
        "log": {"level": "warning"},
    }
    proc = start_agent(config, workdir / f"agent-{int(export_all)}.yaml")
    try:
        deadline = time.monotonic() + seconds
        polls = 0
        while time.monotonic() < deadline:
            time.sleep(1)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                    for line in r.read().decode().splitlines():
                        if line.startswith("bittensor_exporter_polls_total "):
                            polls = int(float(line.split()[1]))
            except OSError:
                pass
        rss, hwm = rss_mb(proc.pid)
        return rss, hwm, polls
    finally:
        proc.terminate()
        proc.wait(20)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=30)
    args = p.parse_args()
    base = subprocess.Popen(
        [sys.executable, "-c", "import bittensor, time; time.sleep(3)"],
    )
    time.sleep(2.5)
    sdk_rss, _ = rss_mb(base.pid)
    base.wait()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        scenario(workdir / "rss.yaml")
        with running_simnet(scenario=workdir / "rss.yaml", block_time=0.25) as sim:
            print(f"baseline: python + import bittensor: {sdk_rss:.0f} MB RSS")
            for export_all in (False, True):
                rss, hwm, polls = run_agent(sim.network, export_all, args.seconds, workdir)
                what = "32 hotkeys + all neurons" if export_all else "32 hotkeys"
                print(
                    f"agent, {SUBNETS} subnets x {UIDS} uids, {what}: RSS {rss:.0f} MB "
                    f"(peak {hwm:.0f} MB) after {polls} polls in {args.seconds:g}s "
                    f"(target <= 120 MB)"
                )


if __name__ == "__main__":
    main()
