"""The agent's /metrics for a fixed-seed demo world, sorted, for a before/after diff of a
refactor (``python -m tests.support.demo_exposition OUT``).

The default scenario (seed 7) runs in process; the agent, wired by ``create_app`` as the demo
wires it (same watch list, ``export_all_neurons``), polls at fixed blocks around the
scenario's events so every event kind has an old and a new read; subnet 2 runs two
mechanisms. Poll durations (which vary between identical runs) are left out; process metrics
are off; the agent's clock is fake.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import yaml
from aiohttp.test_utils import TestClient, TestServer

from agent.app import POLLER_KEY, create_app
from agent.config import AgentConfig
from agent.startup import read_startup
from simnet.scenario import Scenario, World, neuron_coldkey, neuron_keypair, scenario_path
from simnet.state import Chain
from simnet.substrate import SimSubstrate
from simnet.testing import in_process_backends
from tests.support.waiting import eventually

POLL_BLOCKS = (390, 610, 845, 900, 960, 1000)
"""Blocks the agent polls at: before and after the stake drop (400), the eviction (600) and
the governance events from 850."""

VARYING = ("duration",)


def agent_config(state_file: Path) -> AgentConfig:
    return AgentConfig.model_validate(
        {
            "chain": {"network": "sim://127.0.0.1:1"},
            "poll": {"interval_seconds": 3600},
            "watch": [
                {
                    "netuid": 1,
                    "hotkeys": [
                        neuron_keypair("sim-validator-a").ss58_address,
                        neuron_keypair("sim-miner-3").ss58_address,
                    ],
                },
                {"coldkey": neuron_coldkey("sim-validator-c").ss58_address},
            ],
            "export_all_neurons": [1],
            "state_file": str(state_file),
        }
    )


class _Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def exposition(state_file: Path) -> str:
    data = yaml.safe_load(scenario_path("default").read_text())
    # Two mechanisms on subnet 2, so the mechanism series are in the diff too.
    data["subnets"][1].update(mechanisms=2, mechanism_split=[0.7, 0.3])
    scenario = Scenario.model_validate(data)
    chain = Chain(block_time=scenario.block_time, seed=scenario.seed)
    world = World(chain, scenario).build()
    chain.step(POLL_BLOCKS[0] - chain.head)
    clock = _Clock()
    cfg = agent_config(state_file)
    app = create_app(
        cfg,
        read_startup(cfg, backends=in_process_backends(every=SimSubstrate(world.chain))),
        clock=clock,
        process_metrics=False,
    )
    async with TestClient(TestServer(app)) as http:
        poller = app[POLLER_KEY]
        await eventually(lambda: poller.status.polls >= 1, what="the start-up poll")
        for block in POLL_BLOCKS[1:]:
            chain.step(block - chain.head)
            clock.now += 12.0
            assert await poller.poll()
        text = await (await http.get("/metrics")).text()
    return text


def stable_lines(text: str) -> list[str]:
    keep = []
    for line in text.splitlines():
        name = line.split(" ", 3)[2] if line.startswith("# ") else line.split("{")[0].split(" ")[0]
        if any(v in name for v in VARYING):
            continue
        keep.append(line)
    return sorted(keep)


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    # A fresh state file: a previous run's anchor (block 1000) would read as a rewind.
    out.with_suffix(".state.json").unlink(missing_ok=True)
    text = asyncio.run(exposition(out.with_suffix(".state.json")))
    out.write_text("\n".join(stable_lines(text)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
