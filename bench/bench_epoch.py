"""Yuma epoch: torch (simnet.yuma) against the per-element reference, on one thread.

    .venv/bin/python bench/bench_epoch.py

Each branch is measured: original Yuma, Yuma3 with liquid alpha off, and Yuma3 with liquid
alpha on (the same world with the switches flipped).

Worlds look like a busy subnet: 64 validators hold stored permits and most of the stake, the
rest are miners; each validator weights ~25% of the uids (u16, max-upscaled, noisy around a
shared quality so a consensus forms), stored bonds are populated on the validator rows, a few
uids are inactive or recently re-registered. The reference is timed at 256 and 1024 neurons; at
4096 its lists would take gigabytes, so its 4096 figure is an explicitly labelled O(n^2)
extrapolation from the 1024 measurement.
"""

from __future__ import annotations

import dataclasses
import os
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simnet.yuma import EpochInputs, EpochOutputs, run_epoch
from tests.support.yuma_reference import run_epoch_reference

VALIDATORS = 64
DENSITY = 0.25
TORCH_TARGET_4096_S = 1.0
RATIO_TARGET_256 = 50.0


def realistic_world(n: int, seed: int = 0) -> EpochInputs:
    gen = torch.Generator().manual_seed(seed)
    rng = random.Random(seed)
    v = min(VALIDATORS, n)
    block, tempo = 100_000, 360

    stake = torch.zeros(n, dtype=torch.float64)
    stake[:v] = torch.rand(v, generator=gen, dtype=torch.float64) * 1e15 + 1e12
    stake[v:] = torch.rand(n - v, generator=gen, dtype=torch.float64) * 1e9  # miners' dust
    permit = torch.zeros(n, dtype=torch.bool)
    permit[:v] = True

    quality = torch.rand(n, generator=gen, dtype=torch.float64)
    noise = 0.7 + 0.6 * torch.rand(v, n, generator=gen, dtype=torch.float64)
    present = torch.rand(v, n, generator=gen) < DENSITY
    raw = torch.where(present, quality * noise, 0.0)
    weights = torch.zeros(n, n, dtype=torch.float64)
    # Stored weights are max-upscaled to u16 by set_weights.
    weights[:v] = torch.round(raw / raw.amax(dim=1, keepdim=True).clamp(min=1e-12) * 65535)

    bonds = torch.zeros(n, n, dtype=torch.float64)
    bonds[:v] = torch.floor(torch.rand(v, n, generator=gen, dtype=torch.float64) * 65536) * present

    last_update = torch.full((n,), block - 50, dtype=torch.int64)
    registered = torch.zeros(n, dtype=torch.int64)
    for uid in rng.sample(range(v, n), k=max(1, n // 50)):
        registered[uid] = block - 10  # re-registered since the last step
    for uid in rng.sample(range(v), k=2):
        last_update[uid] = block - 20_000  # inactive validator

    return EpochInputs(
        block=block,
        stake=stake,
        weights=weights,
        last_update=last_update,
        block_at_registration=registered,
        validator_permit=permit,
        bonds=bonds,
        activity_cutoff=5000,
        max_validators=v,
        last_step_block=block - tempo,
        tempo=tempo,
        rao_emission=360 * 1_000_000_000,
        owner_uid=0,
    )


def timed(fn: Callable[[EpochInputs], EpochOutputs], inputs: EpochInputs, repeats: int) -> float:
    """Median wall time of ``repeats`` calls, after one warm-up call."""
    fn(inputs)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(inputs)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def max_diff(a: EpochOutputs, b: EpochOutputs) -> tuple[int, int]:
    u16 = max(
        int((getattr(a, k) - getattr(b, k)).abs().max())
        for k in ("consensus", "incentive", "dividends", "validator_trust")
    )
    u16 = max(u16, int((a.bonds - b.bonds).abs().max()))
    rao = max(
        int((getattr(a, k) - getattr(b, k)).abs().max())
        for k in ("emission", "server_emission", "validator_emission")
    )
    return u16, rao


BRANCHES = (
    ("original", {}),
    ("yuma3", {"yuma3": True}),
    ("yuma3+liquid", {"yuma3": True, "liquid_alpha": True}),
)


def main() -> None:
    torch.set_num_threads(1)
    load = os.getloadavg()
    print(f"torch {torch.__version__}, threads={torch.get_num_threads()}")
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 cores, shared)")
    ok = True
    worlds = {n: realistic_world(n) for n in (256, 1024, 4096)}
    for branch, flags in BRANCHES:
        small, mid, big = (dataclasses.replace(worlds[n], **flags) for n in (256, 1024, 4096))
        t_torch_256 = timed(run_epoch, small, repeats=20)
        t_ref_256 = timed(run_epoch_reference, small, repeats=3)
        lsb, rao = max_diff(run_epoch(small), run_epoch_reference(small))
        ratio = t_ref_256 / t_torch_256
        t_torch_1024 = timed(run_epoch, mid, repeats=10)
        t_ref_1024 = timed(run_epoch_reference, mid, repeats=1)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t_torch_4096 = timed(run_epoch, big, repeats=5)
        rss_growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
        ref_4096 = t_ref_1024 * (4096 / 1024) ** 2
        print(f"\n== {branch} ==")
        print(f"{'neurons':>8}  {'impl':<10} {'epoch time':>13}  note")
        for n, impl, t, note in (
            ("256", "torch", f"{t_torch_256 * 1e3:9.2f} ms", "measured"),
            ("256", "reference", f"{t_ref_256 * 1e3:9.2f} ms", "measured"),
            ("1024", "torch", f"{t_torch_1024 * 1e3:9.2f} ms", "measured"),
            ("1024", "reference", f"{t_ref_1024 * 1e3:9.2f} ms", "measured"),
            ("4096", "torch", f"{t_torch_4096 * 1e3:9.2f} ms", "measured"),
            ("4096", "reference", f"{ref_4096:9.1f} s ", "EXTRAPOLATED 1024 x 16 (n^2)"),
        ):
            print(f"{n:>8}  {impl:<10} {t:>13}  {note}")
        print(f"ratio reference/torch at 256: {ratio:.0f}x (target >= {RATIO_TARGET_256:.0f}x)")
        print(f"ratio reference/torch at 1024: {t_ref_1024 / t_torch_1024:.0f}x")
        print(f"torch agrees with reference at 256: max |d| {lsb} u16 LSB, {rao} rao")
        print(f"torch at 4096: {t_torch_4096:.3f} s (target < {TORCH_TARGET_4096_S:.0f} s)")
        print(f"peak RSS growth during the 4096 epochs: {rss_growth_mb:.0f} MiB")
        ok = ok and ratio >= RATIO_TARGET_256 and t_torch_4096 < TORCH_TARGET_4096_S
    for yuma3 in (False, True):
        t_chain = chain_epoch_seconds(4096, yuma3=yuma3)
        print(
            f"whole simnet epoch at 4096, {'yuma3' if yuma3 else 'original'} (stored state -> "
            f"torch -> stored state): {t_chain:.3f} s (target < {TORCH_TARGET_4096_S:.0f} s)"
        )
        ok = ok and t_chain < TORCH_TARGET_4096_S
    load = os.getloadavg()
    print(f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("targets met" if ok else "TARGETS MISSED")


def chain_epoch_seconds(
    n: int, validators: int = 64, repeats: int = 3, *, yuma3: bool = False
) -> float:
    """The epoch as simnet runs it: from stored neurons (u16 weight and bond tuples), through
    Yuma, back into stored neurons and stake. Best of ``repeats``."""
    from simnet.state import Chain
    from simnet.subnets import legacy_rules

    rng = random.Random(1)
    chain = Chain(block_time=12)
    chain.create_subnet(
        1,
        tempo=10**6,
        max_uids=n,
        max_validators=validators,
        weights_rate_limit=0,
        immunity_period=0,
        **legacy_rules(),
        yuma3_on=yuma3,
    )
    hotkeys = [f"hot-{i}" for i in range(n)]
    for i, hk in enumerate(hotkeys):
        chain.register(1, hk, f"cold-{i}", burn=False)
    for i in range(validators):
        chain.set_stake(1, hotkeys[i], f"cold-{i}", 10**12 * (i + 1))
    chain.step(1)
    for i in range(validators):
        uids = sorted(rng.sample(range(validators, n), (n - validators) // 4))
        chain.set_weights(1, hotkeys[i], uids, [rng.randint(1, 65535) for _ in uids])
    sn = chain.subnet(1)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        chain.epochs.run(sn, chain.head)
        best = min(best, time.perf_counter() - start)
    return best


if __name__ == "__main__":
    main()
