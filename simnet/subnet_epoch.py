"""One epoch over one subnet as stored: subnet state -> simnet.yuma dense tensors -> per-uid
integers, as an :class:`EpochOutcome` that :mod:`simnet.epoch` pays out.

Yuma itself is :func:`simnet.yuma.run_epoch`. Per subnet: ``yuma3_on`` selects the Yuma3 bonds
branch (liquid alpha read only there), the activity cutoff is ``activity_cutoff_factor``
per-mille of tempo (the deprecated absolute ``activity_cutoff`` is not read), and stored
explicit-zero weights travel to Yuma as entries (they matter to the Yuma3 liquid-alpha EMA). A
``null_consensus_enabled`` subnet (``SubnetEpochConsensus = Null``) runs no Yuma: the epoch
still runs and :mod:`simnet.null_consensus` pays it (the largest stake's weight row sets miner
incentive, dividends follow stake, bonds stay as stored).

It sits below both :mod:`simnet.epoch` and :mod:`simnet.mechanisms` (one Yuma per mechanism),
which each run it. torch is imported when an epoch runs, not when this module is imported, so
the chain's other rooms (and whatever imports them) load without it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simnet.records import Neuron, Subnet


@dataclass(frozen=True)
class EpochOutcome:
    active: list[bool]
    validator_permit: list[bool]
    consensus: list[int]
    incentive: list[int]
    dividends: list[int]
    validator_trust: list[int]
    emission: list[int]
    server_emission: list[int]
    validator_emission: list[int]
    bonds: list[tuple[tuple[int, int], ...]]
    # Per uid, mechanisms 1.. (simnet.mechanisms); None on a single-mechanism subnet.
    mechanisms: list[tuple] | None = None


def null_consensus_outcome(
    sn: Subnet, block: int, *, stake: dict[str, float] | None = None
) -> EpochOutcome:
    """A Null epoch over the pending emission (:func:`simnet.null_consensus.null_epoch`)."""
    from simnet.null_consensus import null_epoch

    n = sn.n
    terms = null_epoch(sn, sn.alpha_by_hotkey() if stake is None else stake, sn.pending_emission)
    return EpochOutcome(
        active=[block <= x.last_update + sn.activity_cutoff_blocks for x in sn.neurons],
        validator_permit=terms["permit"],
        consensus=[0] * n,
        incentive=terms["incentive"],
        dividends=terms["dividends"],
        validator_trust=[0] * n,
        emission=[a + b for a, b in zip(terms["server"], terms["validator"], strict=True)],
        server_emission=terms["server"],
        validator_emission=terms["validator"],
        bonds=[x.bonds for x in sn.neurons],
    )


def run_subnet_epoch(
    sn: Subnet, block: int, *, stake: dict[str, float] | None = None
) -> EpochOutcome:
    """Run Yuma over one subnet as stored; emission is the alpha accrued since the last epoch.
    ``stake`` is each hotkey's stake weight (alpha alone when None)."""
    import torch

    from simnet.yuma import EpochInputs, run_epoch

    n = sn.n
    if n == 0:
        return EpochOutcome([], [], [], [], [], [], [], [], [], [])
    alpha = sn.alpha_by_hotkey() if stake is None else stake

    def dense(rows_of: Callable[[Neuron], tuple]) -> tuple[Any, Any]:
        # One scatter per matrix: element-wise tensor assignment costs ~1 µs a write, which
        # at thousands of neurons would cost more than the epoch itself.
        rows, cols, vals = [], [], []
        for i, nrn in enumerate(sn.neurons):
            for j, v in rows_of(nrn):
                if j < n:
                    rows.append(i)
                    cols.append(j)
                    vals.append(float(v))
        out = torch.zeros((n, n), dtype=torch.float64)
        entries = None
        if rows:
            at = (torch.tensor(rows), torch.tensor(cols))
            out[at] = torch.tensor(vals, dtype=torch.float64)
            if sn.yuma3_on and sn.liquid_alpha_on:
                entries = torch.zeros((n, n), dtype=torch.bool)
                entries[at] = True
        return out, entries

    weights, weight_entries = dense(lambda nrn: nrn.weights)
    bonds, _ = dense(lambda nrn: nrn.bonds)
    owner_uid = sn.uids.get(sn.owner_hotkey)
    out = run_epoch(
        EpochInputs(
            block=block,
            stake=torch.tensor(
                [float(alpha.get(x.hotkey, 0)) for x in sn.neurons], dtype=torch.float64
            ),
            weights=weights,
            last_update=torch.tensor([x.last_update for x in sn.neurons], dtype=torch.int64),
            block_at_registration=torch.tensor(
                [x.registered_at for x in sn.neurons], dtype=torch.int64
            ),
            validator_permit=torch.tensor(
                [x.validator_permit for x in sn.neurons], dtype=torch.bool
            ),
            bonds=bonds,
            activity_cutoff=sn.activity_cutoff_blocks,
            max_validators=sn.max_validators,
            last_step_block=sn.last_epoch_block,
            tempo=sn.tempo,
            rao_emission=sn.pending_emission,
            owner_uid=owner_uid,
            kappa_u16=sn.kappa,
            bonds_moving_average=sn.bonds_moving_average,
            bonds_penalty_u16=sn.bonds_penalty,
            yuma3=sn.yuma3_on,
            liquid_alpha=sn.liquid_alpha_on,
            alpha_low_u16=sn.alpha_low,
            alpha_high_u16=sn.alpha_high,
            alpha_sigmoid_steepness=sn.alpha_sigmoid_steepness,
            weight_entries=weight_entries,
        )
    )

    def ints(t: Any) -> list[int]:
        return [int(v) for v in t.tolist()]

    # Bonds live on validator rows only: convert just the entries that survive the u16 store
    # (v >= 1), never the whole n x n matrix.
    bond_rows: list[tuple] = [()] * n
    kept = out.bonds >= 1
    for i in kept.any(dim=1).nonzero().flatten().tolist():
        cols = kept[i].nonzero().flatten()
        vals = out.bonds[i, cols].to(torch.int64)
        bond_rows[i] = tuple(zip(cols.tolist(), vals.tolist(), strict=True))
    return EpochOutcome(
        active=[bool(v) for v in out.active.tolist()],
        validator_permit=[bool(v) for v in out.validator_permit.tolist()],
        consensus=ints(out.consensus),
        incentive=ints(out.incentive),
        dividends=ints(out.dividends),
        validator_trust=ints(out.validator_trust),
        emission=ints(out.emission),
        server_emission=ints(out.server_emission),
        validator_emission=ints(out.validator_emission),
        bonds=bond_rows,
    )
