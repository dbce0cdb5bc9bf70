"""What the default world of today costs per block, against the demo's 0.25 s blocks.

World: the bundled ``default.yaml`` (root, ranked emission over 72 subnets, subnet 1 on Yuma3
with commit-reveal, 70 generated 4-neuron subnets, the scripted events). Baseline, measured in
the same run: the same file without its ``scale:`` block (root, subnets 1 and 2, the same
events), i.e. the demo world before the generated subnets.

In process: ``Chain.step()`` timed for ``--blocks`` blocks after a warm-up (the first epoch
imports torch), each world on a fresh chain, genesis frozen out of the GC as ``simnet serve``
does (the full collections that remain are the max column). ``--served``: ``taowatch simnet
serve`` with each world at 0.25 s blocks for ``--seconds``; the head it reaches against the
blocks the wall clock asked for says whether simnet keeps up.

    .venv/bin/python bench/bench_world.py [--blocks 1200] [--served --seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import structlog  # noqa: E402
import yaml  # noqa: E402

from simnet.scenario import Scenario, World, load_scenario  # noqa: E402
from simnet.state import Chain  # noqa: E402

BLOCK_TIME = 0.25


def block_times(scenario: Scenario, blocks: int, warmup: int = 30) -> list[float]:
    chain = Chain(block_time=BLOCK_TIME, seed=scenario.seed)
    World(chain, scenario).build()
    gc.freeze()  # as `simnet serve` does after genesis
    chain.step(warmup)
    out = []
    for _ in range(blocks):
        t0 = time.perf_counter()
        chain.step()
        out.append(time.perf_counter() - t0)
    return out


def summary(label: str, times: list[float], subnets: int) -> str:
    ordered = sorted(times)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    mean = statistics.mean(times) * 1000
    return (
        f"| {label} | {subnets} | {mean:.2f} ms | {p(0.5):.2f} ms | {p(0.99):.2f} ms | "
        f"{ordered[-1] * 1000:.1f} ms | {mean / (BLOCK_TIME * 1000):.1%} |"
    )


async def served(scenario: Path | None, seconds: float) -> tuple[int, int]:
    from common.chain import make_client
    from simnet.process import running_simnet

    with running_simnet(scenario=scenario, block_time=BLOCK_TIME) as sim:
        async with make_client(sim.network) as client:
            start_head = await client.block()
            t0 = time.monotonic()
            await asyncio.sleep(seconds)
            head = await client.block()
            elapsed = time.monotonic() - t0
    return head - start_head, round(elapsed / BLOCK_TIME)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=1200)
    parser.add_argument("--served", action="store_true")
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))
    today = load_scenario("default")
    light = Scenario.model_validate({**today.model_dump(), "scale": None})
    base = block_times(light, args.blocks)
    full = block_times(today, args.blocks)
    print("| world | subnets | mean | p50 | p99 | max | of a 0.25 s block |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(summary("default without `scale:` (baseline)", base, len(light.all_subnets)))
    print(summary("default (today)", full, len(today.all_subnets)))
    print(f"ratio of means: {statistics.mean(full) / statistics.mean(base):.1f}x")
    if args.served:
        light_file = Path(tempfile.mkdtemp(prefix="bench-world-")) / "light.yaml"
        light_file.write_text(yaml.safe_dump(light.model_dump(exclude_defaults=True)))
        for label, path in (("without `scale:`", light_file), ("default (today)", None)):
            made, asked = asyncio.run(served(path, args.seconds))
            print(
                f"served, {label}, 0.25 s blocks for {args.seconds:g} s: "
                f"{made} blocks of {asked} asked"
            )


if __name__ == "__main__":
    main()
