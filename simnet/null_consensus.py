"""One ``SubnetEpochConsensus = Null`` epoch, as subtensor's ``epoch_mechanism`` runs it.

The rules, as subtensor's ``tests/null_consensus.rs`` pins them (ported in
``tests/simnet/test_subtensor_null_consensus_cases.py``):

* The **winner** is the uid with the largest stake weight, compared on the raw stake before
  any normalisation; a tie goes to the lower uid. It holds the only validator permit.
* The budget splits ``budget - budget // 2`` to miners and ``budget // 2`` to validators.
* **Miners** are paid by the winner's stored weight row, normalised; an entry pointing at a uid
  registered after the winner's last weight update is dropped (the outdated mask). When the
  row is empty after that, every uid (validators too) gets an equal part of the miners' half.
  The other validators' rows are never read, and activity does not matter.
* **Validators** share their half by stake, over every uid with stake; with no stake at all the
  whole budget goes to miners, equally.
* Bonds are left as stored; consensus and validator trust are 0.
* Every split is an exact apportionment (``apportion_units``): floors, then the leftover units
  to the largest remainders (ties to the lower uid), so the parts sum to the budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from simnet.records import U16_MAX, Subnet


def apportion_units(shares: Sequence[float], budget: int) -> list[int]:
    """Split ``budget`` units in proportion to ``shares``, exactly (sum == budget).

    Rational arithmetic, so a u64::MAX budget over 16,000 shares still sums exactly.
    """
    exact_shares = [Fraction(s) for s in shares]
    total = sum(exact_shares, Fraction(0))
    if budget <= 0 or total <= 0:
        return [0] * len(shares)
    exact = [budget * s / total for s in exact_shares]
    paid = [int(x) for x in exact]  # floor: every part is non-negative
    order = sorted(range(len(shares)), key=lambda i: (-(exact[i] - paid[i]), i))
    for i in order[: budget - sum(paid)]:
        paid[i] += 1
    return paid


def winner(stake: Sequence[float]) -> int | None:
    best = None
    for uid, s in enumerate(stake):
        if s > 0 and (best is None or s > stake[best]):
            best = uid
    return best


def miner_row(sn: Subnet, uid: int) -> list[float]:
    """The winner's stored row with outdated entries dropped (dense over uids)."""
    nrn = sn.neurons[uid]
    row = [0.0] * sn.n
    for j, w in nrn.weights:
        if j < sn.n and nrn.last_update > sn.neurons[j].registered_at:
            row[j] = float(w)
    return row


def null_epoch(sn: Subnet, stake: Mapping[str, float], budget: int) -> dict[str, list]:
    """Per-uid terms of one Null epoch over ``budget`` alpha rao."""
    n = sn.n
    stakes = [float(stake.get(x.hotkey, 0.0)) for x in sn.neurons]
    top = winner(stakes)
    if top is None:
        server = apportion_units([1.0] * n, budget)
        validator = [0] * n
    else:
        row = miner_row(sn, top)
        if sum(row) <= 0:
            row = [1.0] * n
        server = apportion_units(row, budget - budget // 2)
        validator = apportion_units(stakes, budget // 2)
    return {
        "permit": [uid == top for uid in range(n)],
        "server": server,
        "validator": validator,
        "incentive": _u16_shares(server),
        "dividends": _u16_shares(validator),
    }


def _u16_shares(parts: Sequence[int]) -> list[int]:
    total = sum(parts)
    return [p * U16_MAX // total if total else 0 for p in parts]
