"""The epoch of a subnet with several mechanisms against the same subnet with one, one thread.

    .venv/bin/python bench/bench_mechanisms.py

A 128-uid subnet (the most a two-mechanism subnet may hold: max_uids x count <= 256) with 16
staked validators weighting every miner, in every mechanism. Timed: the whole simnet epoch
as ``Epochs`` runs it (``run_subnet_epoch`` for one mechanism, ``run_mechanism_epochs`` for
several), on the same stored state; neither call changes the state, so each is repeated.
The baseline is the single-mechanism epoch measured in the same run, alternated with the
other so load changes hit both; the target is that each mechanism costs about one epoch
(ratio at most 1.25 x the count).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from simnet.mechanisms import run_mechanism_epochs, u16_split
from simnet.state import RAO_PER_TAO, Chain
from simnet.subnet_epoch import run_subnet_epoch
from simnet.subnets import legacy_rules

UIDS, VALIDATORS, REPEATS = 128, 16, 200


def world(count: int) -> Chain:
    rng = random.Random(0)
    chain = Chain(block_time=1)
    chain.fund("owner-cold", 10**6 * RAO_PER_TAO)
    chain.create_subnet(
        1, tempo=360, max_uids=UIDS, owner_coldkey="owner-cold", owner_hotkey="owner-hot",
        weights_rate_limit=0, **legacy_rules(),
    )  # fmt: skip
    for i in range(UIDS):
        chain.fund(f"cold{i}", 10 * RAO_PER_TAO)
        chain.register(1, f"hot{i}", f"cold{i}")
    for i in range(VALIDATORS):
        chain.set_stake(1, f"hot{i}", f"cold{i}", (1_000 + i) * RAO_PER_TAO)
    chain.step()
    chain.set_mechanism_count(1, count)
    if count > 1:
        chain.set_mechanism_split(1, u16_split([0.7] + [0.3 / (count - 1)] * (count - 1)))
    chain.step(400)  # two epochs: permits, then they count
    miners = list(range(VALIDATORS, UIDS))
    for mechid in range(count):
        for i in range(VALIDATORS):
            row = [rng.randint(1, 65535) for _ in miners]
            chain.set_weights(1, f"hot{i}", miners, row, mechid=mechid)
    chain.step()
    return chain


def timed_pair(base, other) -> tuple[float, float]:
    """Both alternated, so a change of machine load hits them alike; medians."""
    a, b = [], []
    for _ in range(REPEATS):
        for fn, into in ((base, a), (other, b)):
            started = time.perf_counter()
            fn()
            into.append(time.perf_counter() - started)
    return statistics.median(a), statistics.median(b)


def main() -> None:
    torch.set_num_threads(1)
    one = replace(world(1).subnet(1), pending_emission=10**12)
    two = replace(world(2).subnet(1), pending_emission=10**12)
    base, t = timed_pair(
        lambda: run_subnet_epoch(one, 10_000), lambda: run_mechanism_epochs(two, 10_000)
    )
    print(f"{'mechanisms':>10} {'epoch':>10} {'ratio':>7}")
    print(f"{1:>10} {base * 1e3:>8.2f}ms {1.0:>6.2f}x")
    print(f"{2:>10} {t * 1e3:>8.2f}ms {t / base:>6.2f}x")


if __name__ == "__main__":
    main()
