"""A small stand-in for subtensor's mock chain, so its epoch tests can run on simnet's Yuma.

It does what the Rust tests' helpers do before each ``SubtensorModule::epoch(netuid, 1e9)``:
every uid registers at ``registered_at`` (block 1 under ``new_test_ext(1)``; some tests set
block 0 first), ``set_weights`` max-upscales a row to u16 (the largest entry becomes 65535,
explicit zeros stay stored entries) and stamps ``LastUpdate`` with the current block, and
``next_block_no_epoch`` moves one block before a manual epoch (``epoch(advance=False)`` runs
one where the test calls ``epoch`` without it; ``run_to`` is ``run_to_block_no_epoch``).
``epoch()`` does not write ``LastMechansimStepBlock``, so the bond-column mask uses
``block - tempo``. Permits and u16 bonds are carried from one epoch to the next as the
chain stores them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from simnet.yuma import U16_MAX, EpochInputs, EpochOutputs, run_epoch

F64 = torch.float64
REGISTRATION_BLOCK = 1


@dataclass
class MockSubnet:
    """One subnet of the mock runtime, stepped by manual epochs."""

    stakes: Sequence[float]
    max_validators: int
    tempo: int = 1
    kappa_u16: int = 32767
    bonds_moving_average: int = 900_000
    bonds_penalty_u16: int = 65535
    yuma3: bool = False
    liquid_alpha: bool = False
    alpha_low_u16: int = 45875
    alpha_high_u16: int = 58982
    alpha_sigmoid_steepness: int = 1000
    activity_cutoff: int = 5000
    rao_emission: int = 1_000_000_000
    registered_at: int = REGISTRATION_BLOCK
    weights: torch.Tensor = field(init=False)
    entries: torch.Tensor = field(init=False)
    bonds: torch.Tensor = field(init=False)
    permit: torch.Tensor = field(init=False)
    last_update: torch.Tensor = field(init=False)
    last: EpochOutputs | None = field(init=False, default=None)
    block: int = field(init=False)

    def __post_init__(self) -> None:
        n = len(self.stakes)
        self.block = self.registered_at
        self.weights = torch.zeros(n, n, dtype=F64)
        self.entries = torch.zeros(n, n, dtype=torch.bool)
        self.bonds = torch.zeros(n, n, dtype=F64)
        self.permit = torch.zeros(n, dtype=torch.bool)
        self.last_update = torch.full((n,), self.registered_at, dtype=torch.int64)

    @property
    def n(self) -> int:
        return len(self.stakes)

    def set_weights(self, uid: int, dests: Sequence[int], values: Sequence[int]) -> None:
        """``set_weights`` as ``do_set_weights`` stores it: max-upscaled, zeros kept."""
        top = max(values)
        self.weights[uid].zero_()
        self.entries[uid].zero_()
        for j, v in zip(dests, values, strict=True):
            self.weights[uid, j] = round(v * U16_MAX / top) if top else 0
            self.entries[uid, j] = True
        self.last_update[uid] = self.block

    def run_to(self, block: int) -> None:
        self.block = block

    def epoch(self, *, advance: bool = True) -> EpochOutputs:
        """``next_block_no_epoch`` then ``SubtensorModule::epoch(netuid, 1_000_000_000)``."""
        if advance:
            self.block += 1
        out = run_epoch(
            EpochInputs(
                block=self.block,
                stake=torch.tensor(list(self.stakes), dtype=F64),
                weights=self.weights.clone(),
                last_update=self.last_update.clone(),
                block_at_registration=torch.full((self.n,), self.registered_at, dtype=torch.int64),
                validator_permit=self.permit,
                bonds=self.bonds,
                activity_cutoff=self.activity_cutoff,
                max_validators=self.max_validators,
                last_step_block=0,
                tempo=self.tempo,
                rao_emission=self.rao_emission,
                kappa_u16=self.kappa_u16,
                bonds_moving_average=self.bonds_moving_average,
                bonds_penalty_u16=self.bonds_penalty_u16,
                yuma3=self.yuma3,
                liquid_alpha=self.liquid_alpha,
                alpha_low_u16=self.alpha_low_u16,
                alpha_high_u16=self.alpha_high_u16,
                alpha_sigmoid_steepness=self.alpha_sigmoid_steepness,
                weight_entries=self.entries.clone() if self.yuma3 and self.liquid_alpha else None,
            )
        )
        self.bonds, self.permit, self.last = out.bonds, out.validator_permit, out
        return out

    def dividends(self) -> list[float]:
        """``get_dividends`` as proportions (u16 / 65535)."""
        assert self.last is not None
        return [v / U16_MAX for v in self.last.dividends.tolist()]

    def dividend_u16(self, uid: int) -> int:
        assert self.last is not None
        return int(self.last.dividends[uid].item())

    def emission_rao(self, uid: int) -> int:
        assert self.last is not None
        return int(self.last.emission[uid].item())

    def bond_u16(self, i: int, j: int) -> int:
        return int(self.bonds[i, j].item())

    def bond(self, i: int, j: int) -> float:
        """``get_bonds_fixed_proportion``: the stored u16 bond as a proportion."""
        return float(self.bonds[i, j].item()) / U16_MAX
