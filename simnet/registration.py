"""Registration, eviction and immunity.

Burned registration only: the coldkey pays ``burn_rao`` (recycled; it does not move the
pool), after which the burn is bumped (:mod:`simnet.burn`). A free uid is used first;
pruning happens only on a registration into a full subnet, by subtensor's
``get_neuron_to_prune`` (``subnets/registration.rs``): the owner's immune hotkeys
(``get_immune_owner_tuples``: the owner coldkey's registered hotkeys, earliest registration
then lowest uid first, up to ``ImmuneOwnerUidsLimit``, with ``SubnetOwnerHotkey`` put in front
and the list cut back to the limit) are never candidates; the lowest-emission
non-immune neuron goes (ties: older registration, then lower uid) when more than
``min_non_immune_uids`` (default 10) non-immune neurons exist, otherwise the lowest by the
same order among the immune ones, and with no immune candidate the registration fails
(``NoNeuronIdAvailable``). A neuron is immune for ``immunity_period`` blocks after
registering. Re-registration is ``replace_neuron`` + ``clear_neuron``: the uid's own
weights and bond row go, weights pointing at it are zeroed (kept as explicit zeros), other
validators' bonds on its column are left alone, the permit is cleared and ``last_update``
is the registration block. ``NeuronRegistered(netuid, uid, hotkey)`` is emitted;
deregistration has no event, as on chain. The owner coldkey's hotkeys are the neurons
registered with that coldkey (simnet's hotkeys keep their first owner, as ``OwnedHotkeys``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from simnet import burn as burn_price
from simnet.records import ChainFailure, Neuron, Subnet

if TYPE_CHECKING:
    from simnet.accounts import Balances
    from simnet.ledger import Ledger
    from simnet.subnets import Subnets


def immune_owner_hotkeys(sn: Subnet) -> tuple[str, ...]:
    """``get_immune_owner_tuples``: the owner's hotkeys no registration may prune."""
    limit = sn.immune_owner_uids_limit
    owned = sorted(
        (n for n in sn.neurons if n.coldkey == sn.owner_coldkey),
        key=lambda n: (n.registered_at, n.uid),
    )
    chosen = [n.hotkey for n in owned[:limit]]
    if sn.owner_hotkey in sn.uids and sn.owner_hotkey not in chosen:
        chosen = [sn.owner_hotkey, *chosen][:limit]
    return tuple(chosen)


def neuron_to_prune(sn: Subnet, block: int) -> int | None:
    """``get_neuron_to_prune``: lowest emission, then older registration, then lower uid,
    among the non-immune when more than ``MinNonImmuneUids`` of them remain, else among the
    immune; the owner's immune hotkeys never."""
    owner_immune = set(immune_owner_hotkeys(sn))
    free, immune = [], []
    for nrn in sn.neurons:
        if nrn.hotkey in owner_immune:
            continue
        if block - nrn.registered_at < sn.immunity_period:
            immune.append(nrn)
        else:
            free.append(nrn)
    pool = free if len(free) > sn.min_non_immune_uids else immune
    if not pool:
        return None
    return min(pool, key=lambda n: (n.emission, n.registered_at, n.uid)).uid


class Registrar:
    def __init__(self, subnets: Subnets, ledger: Ledger, balances: Balances):
        self._subnets = subnets
        self._ledger = ledger
        self._balances = balances

    @staticmethod
    def immune(sn: Subnet, nrn: Neuron, block: int) -> bool:
        return (
            nrn.hotkey in immune_owner_hotkeys(sn) or block - nrn.registered_at < sn.immunity_period
        )

    def neuron_to_evict(self, netuid: int) -> int | None:
        """The uid a registration on a full subnet would replace (``get_neuron_to_prune``),
        or None when no neuron may go."""
        return neuron_to_prune(self._subnets.get(netuid), self._ledger.building_block)

    def register(
        self,
        netuid: int,
        hotkey: str,
        coldkey: str,
        *,
        burn: bool = True,
        evict: str | None = None,
        per_block_limit: bool = False,
    ) -> int:
        """Burned registration. Signed calls pass ``per_block_limit``; direct
        (operator) calls skip the per-block registration limit.

        ``evict`` (scenarios only) makes this registration evict that hotkey, as if it were
        first in the eviction order at this moment; the chain itself always follows the rule.
        """
        sn = self._subnets.get(netuid)
        block = self._ledger.building_block
        if hotkey in sn.uids:
            raise ChainFailure(
                "HotKeyAlreadyRegisteredInSubNet", f"{hotkey} is already uid {sn.uids[hotkey]}"
            )
        owner = self._balances.owner_of(hotkey)
        if owner is not None and owner != coldkey:
            raise ChainFailure(
                "NonAssociatedColdKey", f"hotkey {hotkey} is owned by another coldkey ({owner})"
            )
        if per_block_limit and sn.registrations_this_block >= sn.max_registrations_per_block:
            raise ChainFailure(
                "TooManyRegistrationsThisBlock",
                f"subnet {netuid} accepts {sn.max_registrations_per_block} registration(s) "
                "per block",
            )
        cost = sn.burn_rao if burn else 0
        if self._balances.balance(coldkey) < cost:
            raise ChainFailure(
                "NotEnoughBalanceToStake",
                f"registration burns {cost} rao; {coldkey} has {self._balances.balance(coldkey)}",
            )
        if evict is not None:
            if evict not in sn.uids:
                raise ChainFailure(
                    "HotKeyNotRegisteredInSubNet", f"{evict} is not registered on {netuid}"
                )
            uid = sn.uids[evict]
        elif sn.n < sn.max_uids:
            uid = sn.n
        else:
            evict = self.neuron_to_evict(netuid)
            if evict is None:
                raise ChainFailure(
                    "NoNeuronIdAvailable",
                    f"subnet {netuid} is full and no neuron may be pruned (the owner's is "
                    f"immune; at most {sn.min_non_immune_uids} non-immune and no immune ones)",
                )
            uid = evict
        if cost:
            self._balances.debit(coldkey, cost)
        self._balances.set_owner(hotkey, coldkey)
        fresh = Neuron(
            uid=uid, hotkey=hotkey, coldkey=coldkey, registered_at=block, last_update=block
        )
        if uid == sn.n:
            sn.neurons.append(fresh)
        else:
            old = sn.neurons[uid]
            del sn.uids[old.hotkey]
            sn.neurons[uid] = fresh
            self._clear_weights_on(sn, uid)
        sn.uids[hotkey] = uid
        sn.registrations_this_block += 1
        burn_price.bump(sn)
        self._ledger.subnet_changed(sn.netuid)
        self._ledger.emit("SubtensorModule", "NeuronRegistered", [sn.netuid, uid, hotkey])
        return uid

    @staticmethod
    def _clear_weights_on(sn: Subnet, uid: int) -> None:
        """``clear_neuron``'s "set weights FOR the neuron_uid to 0": the entries stay, as
        explicit zeros; bonds other validators hold on the column are not touched (the new
        neuron's own row starts empty, and the epoch masks recently registered columns)."""
        for i, nrn in enumerate(sn.neurons):
            if i != uid and any(j == uid and w for j, w in nrn.weights):
                zeroed = tuple((j, 0 if j == uid else w) for j, w in nrn.weights)
                sn.neurons[i] = replace(nrn, weights=zeroed)
