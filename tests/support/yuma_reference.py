"""Per-element Yuma epoch: plain Python loops over lists, a cross-check for :mod:`simnet.yuma`.

Not an oracle of the chain: it was written from the same reading as the product, so a rule both
got wrong passes here. subtensor's own tests (``tests/simnet/test_subtensor_*``) are the oracle;
this stays to check the vectorised path element by element on random worlds and as the baseline
of ``bench/bench_epoch.py``.

Same semantics and same simplifications as :func:`simnet.yuma.run_epoch` (see that module's
docstring), written the way subtensor's dense ``epoch`` reads: every step is a loop over full
n x n lists, no torch operation touches the math (tensors are converted to lists on the way in
and back on the way out). The Yuma3 branch is written on sparse rows (dicts of the entries the
runtime holds), so the torch path's entry-present mask is checked against the sparse semantics
it stands for rather than against a second mask. It is deliberately the obvious transcription,
so the vectorised path is checked against it and benchmarked against it
(``bench/bench_epoch.py``).
"""

from __future__ import annotations

import math

import torch

from simnet.yuma import U16_MAX, EpochInputs, EpochOutputs

Matrix = list[list[float]]


def _normalize(x: list[float]) -> list[float]:
    total = 0.0
    for v in x:
        total += v
    if total == 0:
        return list(x)
    return [v / total for v in x]


def _row_normalize(m: Matrix) -> None:
    for row in m:
        total = 0.0
        for v in row:
            total += v
        if total > 0:
            for j in range(len(row)):
                row[j] = row[j] / total


def _col_normalize(m: Matrix, n: int) -> None:
    sums = [0.0] * n
    for row in m:
        for j in range(n):
            sums[j] += row[j]
    for row in m:
        for j in range(n):
            if sums[j] != 0:
                row[j] = row[j] / sums[j]


def _col_max_upscale(m: Matrix, n: int) -> None:
    maxes = [0.0] * n
    for row in m:
        for j in range(n):
            if row[j] > maxes[j]:
                maxes[j] = row[j]
    for row in m:
        for j in range(n):
            if maxes[j] != 0:
                row[j] = row[j] / maxes[j]


def _u16(x: float) -> int:
    return min(U16_MAX, max(0, math.floor(x * U16_MAX)))


def _rao(share: float, rao_emission: int) -> int:
    return max(0, math.floor(share * float(rao_emission)))


def _topk_nonzero(values: list[float], k: int) -> list[bool]:
    n = len(values)
    result = [v != 0 for v in values]
    if n <= k:
        return result
    # Stable ascending sort: on equal stake the lower uid sorts first and is dropped first.
    order = sorted(range(n), key=lambda i: values[i])
    for idx in order[: n - k]:
        result[idx] = False
    return result


def _weighted_median(stakes: list[float], scores: list[float], kappa: float) -> float:
    pairs = sorted(zip(scores, stakes, strict=True), key=lambda p: -p[0])
    cum = 0.0
    for score, s in pairs:
        cum += s
        if cum >= kappa:
            return score
    return 0.0


def run_epoch_reference(inputs: EpochInputs) -> EpochOutputs:
    """One Yuma epoch (original bonds), element by element."""
    n = inputs.n
    block = inputs.block
    stake_raw = [float(v) for v in inputs.stake.tolist()]
    weights_u16: Matrix = [[float(v) for v in row] for row in inputs.weights.tolist()]
    bonds_u16: Matrix = [[float(v) for v in row] for row in inputs.bonds.tolist()]
    last_update = [int(v) for v in inputs.last_update.tolist()]
    registered = [int(v) for v in inputs.block_at_registration.tolist()]
    owner = inputs.owner_uid
    kappa = inputs.kappa_u16 / U16_MAX
    beta = inputs.bonds_penalty_u16 / U16_MAX
    alpha = 1.0 - inputs.bonds_moving_average / 1_000_000

    active = [last_update[i] + inputs.activity_cutoff >= block for i in range(n)]

    stake = _normalize(stake_raw)

    permit = [bool(v) for v in inputs.validator_permit.tolist()]
    new_permit = _topk_nonzero(stake, inputs.max_validators)
    if owner is not None:
        permit[owner] = True
        new_permit[owner] = True

    stake_act = _normalize([stake[i] if active[i] and permit[i] else 0.0 for i in range(n)])

    stored_entries = (
        inputs.weight_entries.tolist()
        if inputs.weight_entries is not None
        else [[v != 0 for v in row] for row in weights_u16]
    )
    weights: Matrix = [[0.0] * n for _ in range(n)]
    present: list[list[bool]] = [[False] * n for _ in range(n)]
    for i in range(n):
        if not permit[i]:
            continue
        for j in range(n):
            if i == j and i != owner:
                continue
            if last_update[i] <= registered[j]:
                continue
            weights[i][j] = weights_u16[i][j]
            present[i][j] = bool(stored_entries[i][j])
    _row_normalize(weights)

    voters = [i for i in range(n) if stake_act[i] > 0]
    voter_stake = _normalize([stake_act[i] for i in voters])
    consensus = [
        _weighted_median(voter_stake, [weights[i][j] for i in voters], kappa) for j in range(n)
    ]

    clipped: Matrix = [[min(weights[i][j], consensus[j]) for j in range(n)] for i in range(n)]
    validator_trust = [sum(row) for row in clipped]
    ranks = [0.0] * n
    for i in range(n):
        for j in range(n):
            ranks[j] += stake_act[i] * clipped[i][j]
    incentive = _normalize(ranks)

    if beta == 0.0:
        weights_for_bonds = weights
    elif beta == 1.0:
        weights_for_bonds = clipped
    else:
        weights_for_bonds = [
            [weights[i][j] + beta * (clipped[i][j] - weights[i][j]) for j in range(n)]
            for i in range(n)
        ]

    last_tempo = inputs.last_tempo
    if inputs.yuma3:
        sparse_w = [{j: weights[i][j] for j in range(n) if present[i][j]} for i in range(n)]
        dividends, new_bonds = _yuma3_sparse(
            inputs, sparse_w, consensus, incentive, stake_act, permit, new_permit, bonds_u16, alpha
        )
    else:
        old: Matrix = [
            [0.0 if last_tempo <= registered[j] else bonds_u16[i][j] for j in range(n)]
            for i in range(n)
        ]
        _col_normalize(old, n)
        delta: Matrix = [
            [weights_for_bonds[i][j] * stake_act[i] for j in range(n)] for i in range(n)
        ]
        _col_normalize(delta, n)
        ema: Matrix = [
            [alpha * delta[i][j] + (1.0 - alpha) * old[i][j] for j in range(n)] for i in range(n)
        ]
        _col_normalize(ema, n)
        dividends = [0.0] * n
        for i in range(n):
            for j in range(n):
                dividends[i] += ema[i][j] * incentive[j]
        dividends = _normalize(dividends)
        _col_max_upscale(ema, n)
        new_bonds: Matrix = []
        for i in range(n):
            if new_permit[i]:
                new_bonds.append([float(_u16(v)) for v in ema[i]])
            elif permit[i]:
                new_bonds.append([0.0] * n)
            else:
                new_bonds.append(list(bonds_u16[i]))
    return _outputs(
        inputs,
        active,
        new_permit,
        consensus,
        incentive,
        dividends,
        validator_trust,
        stake,
        stake_act,
        new_bonds,
    )


def _outputs(
    inputs: EpochInputs,
    active: list[bool],
    new_permit: list[bool],
    consensus: list[float],
    incentive: list[float],
    dividends: list[float],
    validator_trust: list[float],
    stake: list[float],
    stake_act: list[float],
    new_bonds: Matrix,
) -> EpochOutputs:
    n = inputs.n
    combined = [incentive[i] + dividends[i] for i in range(n)]
    emission_sum = 0.0
    for v in combined:
        emission_sum += v
    if emission_sum != 0:
        server_share = [v / emission_sum for v in incentive]
        validator_share = [v / emission_sum for v in dividends]
        combined_share = _normalize(combined)
    else:
        server_share = list(incentive)
        fallback = stake if sum(stake_act) == 0 else stake_act
        validator_share = list(fallback)
        combined_share = list(fallback)

    def ints(values: list[int]) -> torch.Tensor:
        return torch.tensor(values, dtype=torch.int64)

    rao = inputs.rao_emission
    return EpochOutputs(
        active=torch.tensor(active, dtype=torch.bool),
        validator_permit=torch.tensor(new_permit, dtype=torch.bool),
        consensus=ints([_u16(v) for v in consensus]),
        incentive=ints([_u16(v) for v in incentive]),
        dividends=ints([_u16(v) for v in dividends]),
        validator_trust=ints([_u16(v) for v in validator_trust]),
        emission=ints([_rao(v, rao) for v in combined_share]),
        server_emission=ints([_rao(v, rao) for v in server_share]),
        validator_emission=ints([_rao(v, rao) for v in validator_share]),
        bonds=torch.tensor(new_bonds, dtype=torch.float64).reshape(n, n),
    )


SparseRow = dict[int, float]


def _liquid_alpha(consensus: float, weight: float, bond: float, inputs: EpochInputs) -> float:
    low, high = inputs.alpha_low_u16 / U16_MAX, inputs.alpha_high_u16 / U16_MAX
    if weight >= bond:
        diff = min(1.0, max(0.0, weight - consensus))
    else:
        diff = min(1.0, max(0.0, bond - weight))
    x = (-inputs.alpha_sigmoid_steepness / 100.0) * (diff - 0.5)
    sigmoid = 1.0 / (1.0 + math.exp(min(20.0, max(-20.0, x))))
    return min(high, max(low, low + sigmoid * (high - low)))


def _yuma3_sparse(
    inputs: EpochInputs,
    weights: list[SparseRow],
    consensus: list[float],
    incentive: list[float],
    stake_act: list[float],
    permit: list[bool],
    new_permit: list[bool],
    bonds_u16: Matrix,
    alpha: float,
) -> tuple[list[float], Matrix]:
    """The Yuma3 branch on sparse rows (dicts of present entries), as the runtime holds them."""
    n = inputs.n
    beta = inputs.bonds_penalty_u16 / U16_MAX
    registered = [int(v) for v in inputs.block_at_registration.tolist()]
    clipped: list[SparseRow] = []
    for row in weights:
        out: SparseRow = {}
        for j, v in row.items():
            if consensus[j] < v:
                if consensus[j] > 0:
                    out[j] = consensus[j]
            else:
                out[j] = v
        clipped.append(out)
    if beta == 0.0:
        for_bonds = weights
    elif beta == 1.0:
        for_bonds = clipped
    else:
        for_bonds = []
        for i in range(n):
            out = {}
            for j in range(n):
                v1, v2 = weights[i].get(j, 0.0), clipped[i].get(j, 0.0)
                value = v1 + beta * (v2 - v1)
                if value > 0:
                    out[j] = value
            for_bonds.append(out)
    last_tempo = inputs.last_tempo
    old: list[SparseRow] = [
        {
            j: bonds_u16[i][j] / U16_MAX
            for j in range(n)
            if bonds_u16[i][j] != 0 and not last_tempo <= registered[j]
        }
        for i in range(n)
    ]
    ema: list[SparseRow] = []
    if inputs.liquid_alpha and any(c != 0 for c in consensus):
        for i in range(n):
            out = {}
            for j, w in for_bonds[i].items():
                b = old[i].get(j, 0.0)
                a = _liquid_alpha(consensus[j], w, b, inputs)
                value = min(1.0, (1.0 - a) * b + max(0.0, a * w))
                if value > 0:
                    out[j] = value
            ema.append(out)
    else:
        for i in range(n):
            out = {}
            for j in range(n):
                value = alpha * for_bonds[i].get(j, 0.0) + (1.0 - alpha) * old[i].get(j, 0.0)
                if value > 0:
                    out[j] = value
            ema.append(out)
    col_sum = [0.0] * n
    for row in ema:
        for j, v in row.items():
            col_sum[j] += v
    dividends = [0.0] * n
    for i in range(n):
        total = 0.0
        for j, v in ema[i].items():
            if col_sum[j] != 0:
                total += v / col_sum[j] * incentive[j]
        dividends[i] = total * stake_act[i]
    dividends = _normalize(dividends)
    new_bonds: Matrix = []
    for i in range(n):
        if new_permit[i]:
            new_bonds.append([float(_u16(ema[i].get(j, 0.0))) for j in range(n)])
        elif permit[i]:
            new_bonds.append([0.0] * n)
        else:
            new_bonds.append(list(bonds_u16[i]))
    return dividends, new_bonds
