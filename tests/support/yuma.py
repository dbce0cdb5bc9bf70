"""Small Yuma epoch worlds and the torch-against-reference check the Yuma tests share."""

from __future__ import annotations

import random

import torch

from simnet.yuma import EpochInputs, EpochOutputs, run_epoch
from tests.support.yuma_reference import run_epoch_reference

F64 = torch.float64
RAO = 1_000_000_000
BLOCK = 1000


def world(
    stake: list[float],
    weights: dict[tuple[int, int], int],
    permits: list[int],
    *,
    bonds: dict[tuple[int, int], int] | None = None,
    last_update: list[int] | None = None,
    registered: list[int] | None = None,
    entries: bool = False,
    **overrides: object,
) -> EpochInputs:
    """A small world at block 1000: everyone updated at 990, registered at 0, tempo 360.

    With ``entries`` the keys of ``weights`` are also the stored entries (``weight_entries``),
    zeros included, as the on-chain sparse epoch sees them; without it no mask is passed.
    """
    n = len(stake)
    w = torch.zeros(n, n, dtype=F64)
    for (i, j), v in weights.items():
        w[i, j] = v
    b = torch.zeros(n, n, dtype=F64)
    for (i, j), v in (bonds or {}).items():
        b[i, j] = v
    permit = torch.zeros(n, dtype=torch.bool)
    permit[permits] = True
    fields: dict[str, object] = dict(
        block=BLOCK,
        stake=torch.tensor(stake, dtype=F64),
        weights=w,
        last_update=torch.tensor(last_update or [990] * n, dtype=torch.int64),
        block_at_registration=torch.tensor(registered or [0] * n, dtype=torch.int64),
        validator_permit=permit,
        bonds=b,
        activity_cutoff=5000,
        max_validators=64,
        last_step_block=640,
        tempo=360,
        rao_emission=RAO,
    )
    if entries:
        stored = torch.zeros(n, n, dtype=torch.bool)
        for i, j in weights:
            stored[i, j] = True
        fields["weight_entries"] = stored
    fields.update(overrides)
    return EpochInputs(**fields)  # type: ignore[arg-type]


def both(inputs: EpochInputs) -> EpochOutputs:
    """Run torch and reference; assert they agree; return the torch outputs."""
    out = run_epoch(inputs)
    assert_agree(out, run_epoch_reference(inputs), inputs.n)
    return out


def assert_agree(a: EpochOutputs, b: EpochOutputs, n: int) -> None:
    """u16 outputs agree to 1 LSB and rao to 2 rao (float rounding either side of a floor)."""
    assert torch.equal(a.active, b.active)
    assert torch.equal(a.validator_permit, b.validator_permit)
    for name in ("consensus", "incentive", "dividends", "validator_trust"):
        diff = (getattr(a, name) - getattr(b, name)).abs().max().item() if n else 0
        assert diff <= 1, f"{name} differs by {diff} LSB"
    for name in ("emission", "server_emission", "validator_emission"):
        diff = (getattr(a, name) - getattr(b, name)).abs().max().item() if n else 0
        assert diff <= 2, f"{name} differs by {diff} rao"
    if n:
        diff = (a.bonds - b.bonds).abs().max().item()
        assert diff <= 1, f"bonds differ by {diff} LSB"


def random_votes(
    rng: random.Random,
    n: int,
    density: float,
    *,
    top_stake: float,
    explicit_zeros: bool = False,
) -> tuple[list[float], list[int], dict[tuple[int, int], int]]:
    """Stake, permits and sparse u16 weights for a random world.

    Most validators score miners near a shared quality so a consensus forms; some are rogue.
    Non-permitted uids may hold stored weights too: the epoch must ignore them. With
    ``explicit_zeros`` a tenth of the stored weights are zeros (entries that keep a bond alive
    under liquid alpha).
    """
    stake = [rng.choice([0.0, rng.uniform(1, 1e6), rng.uniform(1e9, top_stake)]) for _ in range(n)]
    permits = [i for i in range(n) if stake[i] > 0 and rng.random() < 0.7]
    quality = [rng.choice([0.0, rng.random(), rng.random()]) for _ in range(n)]
    weights: dict[tuple[int, int], int] = {}
    for i in range(n):
        honest = rng.random() < 0.8
        for j in range(n):
            if rng.random() < density:
                score = quality[j] * rng.uniform(0.7, 1.3) if honest else rng.random()
                zero = explicit_zeros and rng.random() < 0.1
                weights[i, j] = 0 if zero else min(65535, int(score * 65535))
    return stake, permits, weights
