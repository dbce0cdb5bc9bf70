"""The epoch: subnet state -> simnet.yuma dense tensors -> per-uid integers -> stake.

A subnet runs its epoch in block ``b`` when ``(b + netuid + 1) % (tempo + 1) == 0``
(subtensor's schedule, so epochs are ``tempo + 1`` blocks apart). Yuma itself is
:func:`simnet.yuma.run_epoch`. Each block adds ``emission_per_block_rao`` alpha to the
subnet's pending emission; the epoch hands it out: a miner's incentive share goes to its
owner's stake position, a validator's dividend share to the hotkey's stakers pro rata.

Per subnet: ``yuma3_on`` selects the Yuma3 bonds branch (liquid alpha read only there), the
activity cutoff is ``activity_cutoff_factor`` per-mille of tempo (the deprecated absolute
``activity_cutoff`` is not read), and stored explicit-zero weights travel to Yuma as entries
(they matter to the Yuma3 liquid-alpha EMA). A ``null_consensus_enabled`` subnet runs no Yuma:
at its epoch block every uid gets an equal share of the pending emission as incentive, with no
consensus, trust, dividends or bond changes (simplified: the chain's exact split is not
modelled). ``reset_bonds_on`` implements ``do_reset_bonds``: on a ``bonds_reset_enabled``
subnet, a hotkey that commits new metadata loses every bond held on its uid.

torch is imported when an epoch runs, not when this module is imported, so the chain's
other rooms (and whatever imports them) load without it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from simnet.records import U16_MAX, Neuron, Subnet

if TYPE_CHECKING:
    from simnet.economy import Economy
    from simnet.ledger import Ledger


def epoch_due(netuid: int, tempo: int, block: int) -> bool:
    return tempo > 0 and (block + netuid + 1) % (tempo + 1) == 0


class Epochs:
    def __init__(self, ledger: Ledger, economy: Economy | None = None):
        self._ledger = ledger
        # Stake weight (alpha + tao_weight * root TAO) and the root/alpha dividend split.
        self._economy = economy

    def run(self, sn: Subnet, block: int) -> None:
        """Run the epoch and hand out the alpha accrued since the last one."""
        economy = self._economy
        if sn.null_consensus_enabled:
            outcome = null_consensus_outcome(sn)
        else:
            stake = economy.stake_weights(sn) if economy is not None else None
            outcome = (
                run_subnet_epoch(sn, block, stake=stake)
                if sn.mechanism_count == 1
                else _mechanism_epochs(sn, block, stake)
            )
        alpha_divs: dict[str, int] = {}
        tao_divs: dict[str, int] = {}
        per_mechanism = outcome.mechanisms
        for uid, nrn in enumerate(sn.neurons):
            sn.neurons[uid] = replace(
                nrn,
                active=outcome.active[uid],
                validator_permit=outcome.validator_permit[uid],
                consensus=outcome.consensus[uid],
                incentive=outcome.incentive[uid],
                dividends=outcome.dividends[uid],
                validator_trust=outcome.validator_trust[uid],
                emission=outcome.emission[uid],
                bonds=outcome.bonds[uid],
                mechanisms=nrn.mechanisms if per_mechanism is None else per_mechanism[uid],
            )
        paid = 0
        for uid, nrn in enumerate(sn.neurons):
            server, validator = outcome.server_emission[uid], outcome.validator_emission[uid]
            if server:
                key = (nrn.hotkey, nrn.coldkey)
                sn.stake[key] = sn.stake.get(key, 0) + server
                paid += server
            if validator and economy is not None:
                validator, to_root = economy.split(sn, nrn.hotkey, validator)
                alpha_divs[nrn.hotkey], tao_divs[nrn.hotkey] = validator, to_root
                paid += to_root  # accrued for root stakers (simnet.economy), off the pool
            if validator:
                stakers = sn.stakers(nrn.hotkey)
                total = sum(amount for _, amount in stakers)
                if total <= 0:
                    stakers, total = [(nrn.coldkey, 1)], 1
                given = 0
                for ck, amount in stakers:
                    share = validator * amount // total
                    sn.stake[(nrn.hotkey, ck)] = sn.stake.get((nrn.hotkey, ck), 0) + share
                    given += share
                rest = validator - given  # rounding dust goes to the owner's position
                if rest:
                    key = (nrn.hotkey, nrn.coldkey)
                    sn.stake[key] = sn.stake.get(key, 0) + rest
                paid += validator
        sn.alpha_out += paid
        sn.alpha_dividends, sn.tao_dividends = alpha_divs, tao_divs
        sn.pending_emission = 0
        sn.last_epoch_block = block
        sn.epoch_index += 1
        self._ledger.subnet_changed(sn.netuid)


def _mechanism_epochs(sn: Subnet, block: int, stake: dict[str, float] | None) -> EpochOutcome:
    from simnet.mechanisms import run_mechanism_epochs  # it builds on run_subnet_epoch below

    return run_mechanism_epochs(sn, block, stake=stake)


def reset_bonds_on(sn: Subnet, hotkey: str) -> bool:
    """``do_reset_bonds``: drop the bond column of ``hotkey``'s uid from every row, when the
    subnet has ``bonds_reset_enabled``. True when it applied."""
    uid = sn.uids.get(hotkey)
    if not sn.bonds_reset_enabled or uid is None:
        return False
    for i, nrn in enumerate(sn.neurons):
        kept = tuple(p for p in nrn.bonds if p[0] != uid)
        # Every mechanism's bonds (simnet.mechanisms), as the runtime clears each index.
        mechs = tuple(
            replace(t, bonds=tuple(p for p in t.bonds if p[0] != uid)) for t in nrn.mechanisms
        )
        if len(kept) != len(nrn.bonds) or mechs != nrn.mechanisms:
            sn.neurons[i] = replace(nrn, bonds=kept, mechanisms=mechs)
    return True


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


def null_consensus_outcome(sn: Subnet) -> EpochOutcome:
    """Every uid paid the same incentive share; nothing else moves (no weights are read)."""
    n = sn.n
    share = sn.pending_emission // n if n else 0
    incentive = U16_MAX // n if n else 0
    return EpochOutcome(
        active=[x.active for x in sn.neurons],
        validator_permit=[x.validator_permit for x in sn.neurons],
        consensus=[0] * n,
        incentive=[incentive] * n,
        dividends=[0] * n,
        validator_trust=[0] * n,
        emission=[share] * n,
        server_emission=[share] * n,
        validator_emission=[0] * n,
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
