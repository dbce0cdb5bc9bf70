"""Mechanisms (sub-subnets): a subnet's count and emission split, and the epoch per mechanism.

As subtensor's ``subnets/mechanism.rs``: a subnet runs ``MechanismCountCurrent`` mechanisms
(1 by default). Each has its own weights, bonds, ``last_update`` and incentive, stored under
the mechanism storage index ``mechid * 4096 + netuid`` (mechanism 0's index is the netuid, so
single-mechanism subnets read exactly as before). ``MechanismEmissionSplit`` holds u16 shares
summing to 65535; unset (or of the wrong length) means an even split. At the epoch
(``epoch_with_mechanisms``) the pending emission is split by it (rounding dust to mechanism
0), Yuma runs once per mechanism on that mechanism's weights and bonds with the subnet's
stake, and the per-uid terms are folded into the subnet record the way the chain does:

* server and validator emission are summed (that is what is paid),
* dividends, consensus, validator trust and emission are weighted by each mechanism's share
  of the emission (``weighted_acc_*``: truncated to an integer after each mechanism),
* active and the validator permit are ORed,
* incentive and bonds stay per mechanism: the subnet-level ``Incentive``/``Bonds`` are
  mechanism 0's, as the chain persists them only under the mechanism index.

Mechanism 0 lives on :class:`~simnet.records.Neuron` itself; mechanisms 1.. live in
``Neuron.mechanisms`` (a tuple of :class:`MechanismTerms`, index ``mechid - 1``), so a new
registration on a uid starts every mechanism afresh, as the chain clears a replaced uid.

Setters (``AdminUtils.sudo_set_mechanism_count`` / ``sudo_set_mechanism_emission_split``,
signed by the subnet owner's coldkey) check what ``do_set_mechanism_count`` and
``do_set_emission_split`` check, with their error names. Lowering the count drops the
removed mechanisms' weights, bonds, incentive and queued timelocked commits; any change of
the count resets the split to even. A null-consensus subnet keeps one mechanism
(``NullConsensusRequiresSingleMechanism``: newer than the SDK 11.3 error catalog, so the SDK
decodes it as an unknown module error). ``max_uids x count`` stays within 256, checked by the
max-uids setter too, and a metadata commitment's bonds reset clears every mechanism's bonds.

Simplified against subtensor: ``MaxMechanismCount`` is fixed at 8 (the root's setter is not
modelled); the owner rate limit and the admin freeze window are not checked; a uid's
``last_update`` in a mechanism it never set weights on is its registration block; the
voting-power EMA and ``stake_weight`` terms are not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, NamedTuple

from simnet.records import U16_MAX, ChainFailure, Neuron, Subnet
from simnet.subnet_epoch import EpochOutcome, run_subnet_epoch
from simnet.subnets import check_max_uids

if TYPE_CHECKING:
    from simnet.ledger import Ledger
    from simnet.subnets import Subnets

GLOBAL_MAX_SUBNET_COUNT = 4096  # storage_index = mechid * 4096 + netuid
MAX_MECHANISM_COUNT = 8  # MaxMechanismCount (the root may change it on chain)


@dataclass(frozen=True)
class MechanismTerms:
    """One uid's state in one mechanism (what the chain keys by the mechanism index)."""

    weights: tuple[tuple[int, int], ...] = ()
    bonds: tuple[tuple[int, int], ...] = ()
    last_update: int = 0
    incentive: int = 0


def storage_index(netuid: int, mechid: int) -> int:
    return mechid * GLOBAL_MAX_SUBNET_COUNT + netuid


def split_index(index: Any) -> tuple[int, int]:
    """Mechanism storage index -> (netuid, mechid)."""
    index = int(index)
    return index % GLOBAL_MAX_SUBNET_COUNT, index // GLOBAL_MAX_SUBNET_COUNT


def terms(nrn: Neuron, mechid: int) -> MechanismTerms:
    if mechid == 0:
        return MechanismTerms(nrn.weights, nrn.bonds, nrn.last_update, nrn.incentive)
    if mechid - 1 < len(nrn.mechanisms):
        return nrn.mechanisms[mechid - 1]
    return MechanismTerms(last_update=nrn.registered_at)


def with_terms(nrn: Neuron, mechid: int, t: MechanismTerms) -> Neuron:
    if mechid == 0:
        return replace(
            nrn,
            weights=t.weights,
            bonds=t.bonds,
            last_update=t.last_update,
            incentive=t.incentive,
        )
    rows = list(nrn.mechanisms)
    while len(rows) < mechid:
        rows.append(MechanismTerms(last_update=nrn.registered_at))
    rows[mechid - 1] = t
    return replace(nrn, mechanisms=tuple(rows))


def ensure_exists(sn: Subnet, mechid: int) -> None:
    """``ensure_mechanism_exists``."""
    if not 0 <= mechid < sn.mechanism_count:
        raise ChainFailure(
            "MechanismDoesNotExist",
            f"subnet {sn.netuid} runs {sn.mechanism_count} mechanism(s); mechid {mechid} is not "
            "below MechanismCountCurrent",
        )


def split_emission(sn: Subnet, alpha: int) -> list[int]:
    """``split_emissions``: each share floored; the dust goes to mechanism 0."""
    count = sn.mechanism_count
    split = sn.mechanism_split
    if split is not None and len(split) == count:
        parts = [alpha * s // U16_MAX for s in split]
    else:
        parts = [alpha // count] * count
    parts[0] += alpha - sum(parts)
    return parts


def u16_split(fractions: list[float]) -> list[int]:
    """Fractions summing to 1 -> u16 shares summing to 65535 (the rounding goes to the
    largest share), as an owner's tool would prepare ``maybe_split``."""
    total = sum(fractions)
    shares = [int(f / total * U16_MAX) for f in fractions]
    shares[shares.index(max(shares))] += U16_MAX - sum(shares)
    return shares


class Mechanisms:
    def __init__(self, subnets: Subnets, ledger: Ledger):
        self._subnets = subnets
        self._ledger = ledger

    def _owned(self, signer: str | None, netuid: int) -> Subnet:
        sn = self._subnets.get(netuid)
        if signer is not None and signer != sn.owner_coldkey:
            raise ChainFailure("BadOrigin", f"only subnet {netuid}'s owner coldkey may do this")
        return sn

    def set_count(self, netuid: int, count: int, *, signer: str | None = None) -> None:
        """``do_set_mechanism_count``; ``signer`` None is the operator's setup path."""
        sn = self._owned(signer, netuid)
        count = int(count)
        if sn.null_consensus_enabled:
            if count != 1:
                raise ChainFailure(
                    "NullConsensusRequiresSingleMechanism",
                    f"subnet {netuid} runs null consensus, which has one mechanism",
                )
            return
        if count <= 0 or count > MAX_MECHANISM_COUNT:
            raise ChainFailure(
                "InvalidValue", f"mechanism count {count} is not 1..{MAX_MECHANISM_COUNT}"
            )
        check_max_uids(sn.max_uids, count)
        old = sn.mechanism_count
        if count == old:
            return
        if count < old:
            for uid, nrn in enumerate(sn.neurons):
                if len(nrn.mechanisms) > count - 1:
                    sn.neurons[uid] = replace(nrn, mechanisms=nrn.mechanisms[: count - 1])
            for epoch, commits in list(sn.timelocked_commits.items()):
                kept = tuple(c for c in commits if c.mechid < count)
                if kept:
                    sn.timelocked_commits[epoch] = kept
                else:
                    del sn.timelocked_commits[epoch]
        sn.mechanism_count = count
        sn.mechanism_split = None
        self._ledger.subnet_changed(netuid)

    def set_split(self, netuid: int, split: list[int] | None, *, signer: str | None = None) -> None:
        """``do_set_emission_split``: None clears it (even split)."""
        sn = self._owned(signer, netuid)
        if split is not None:
            split = [int(s) for s in split]
            if not split or len(split) != sn.mechanism_count:
                raise ChainFailure(
                    "InvalidValue",
                    f"the split has {len(split)} shares; subnet {netuid} runs "
                    f"{sn.mechanism_count} mechanism(s)",
                )
            if any(s < 0 or s > U16_MAX for s in split) or sum(split) != U16_MAX:
                raise ChainFailure("InvalidValue", f"the split's u16 shares sum to {sum(split)}")
        sn.mechanism_split = None if split is None else tuple(split)
        self._ledger.subnet_changed(netuid)


# ----------------------------------------------------------------------------- the epoch


def _weighted(columns: list[list[int]], weights: list[float]) -> list[int]:
    """``weighted_acc_u16``/``_alpha`` folded over the mechanisms: truncated after each."""
    acc = [0] * len(columns[0])
    for column, w in zip(columns, weights, strict=True):
        acc = [int(a + v * w) for a, v in zip(acc, column, strict=True)]
    return acc


class _Seen(NamedTuple):
    """What the epoch adapter reads of a neuron, with one mechanism's terms: built per uid
    per epoch, so a tuple rather than a ``dataclasses.replace`` of the whole record."""

    hotkey: str
    registered_at: int
    validator_permit: bool
    weights: tuple
    bonds: tuple
    last_update: int


def _view(sn: Subnet, mechid: int, emission: int) -> Subnet:
    """The subnet as mechanism ``mechid``'s Yuma sees it (its weights, bonds, last_update)."""
    if mechid == 0:
        return replace(sn, pending_emission=emission)
    neurons = []
    for nrn in sn.neurons:
        t = terms(nrn, mechid)
        neurons.append(
            _Seen(
                nrn.hotkey,
                nrn.registered_at,
                nrn.validator_permit,
                t.weights,
                t.bonds,
                t.last_update,
            )
        )
    return replace(sn, neurons=neurons, pending_emission=emission)


def run_mechanism_epochs(
    sn: Subnet, block: int, *, stake: dict[str, float] | None = None
) -> EpochOutcome:
    """``epoch_with_mechanisms``: one Yuma per mechanism, folded into the subnet's terms."""
    total = sn.pending_emission
    parts = split_emission(sn, total)
    outs = [
        run_subnet_epoch(_view(sn, mechid, part), block, stake=stake)
        for mechid, part in enumerate(parts)
    ]
    if sn.n == 0:
        return outs[0]
    shares = [p / total if total else float(m == 0) for m, p in enumerate(parts)]

    def summed(field: str) -> list[int]:
        return [sum(col) for col in zip(*(getattr(o, field) for o in outs), strict=True)]

    def ored(field: str) -> list[bool]:
        return [any(col) for col in zip(*(getattr(o, field) for o in outs), strict=True)]

    def weighted(field: str, cap: int | None = U16_MAX) -> list[int]:
        out = _weighted([getattr(o, field) for o in outs], shares)
        return out if cap is None else [min(v, cap) for v in out]

    per_uid = []
    for uid, nrn in enumerate(sn.neurons):
        rows = []
        for m in range(1, len(outs)):
            t = terms(nrn, m)
            rows.append(
                MechanismTerms(t.weights, outs[m].bonds[uid], t.last_update, outs[m].incentive[uid])
            )
        per_uid.append(tuple(rows))
    first = outs[0]
    return EpochOutcome(
        active=ored("active"),
        validator_permit=ored("validator_permit"),
        consensus=weighted("consensus"),
        incentive=first.incentive,
        dividends=weighted("dividends"),
        validator_trust=weighted("validator_trust"),
        emission=weighted("emission", cap=None),
        server_emission=summed("server_emission"),
        validator_emission=summed("validator_emission"),
        bonds=first.bonds,
        mechanisms=per_uid,
    )
