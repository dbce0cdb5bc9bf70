"""Registration, eviction and immunity.

Burned registration only: the coldkey pays ``burn_rao`` (recycled; it does not move the
pool). A free uid is used first; on a full subnet the non-immune neuron with the lowest
emission is replaced (ties: older registration, then lower uid). A neuron is immune for
``immunity_period`` blocks after registering; the subnet owner's hotkey is always immune.
Re-registration clears weights and bonds pointing at the uid, the permit, and sets
``last_update`` to the registration block. ``NeuronRegistered(netuid, uid, hotkey)`` is
emitted; deregistration has no event, as on chain.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from simnet.records import ChainFailure, Neuron, Subnet

if TYPE_CHECKING:
    from simnet.accounts import Balances
    from simnet.ledger import Ledger
    from simnet.subnets import Subnets


class Registrar:
    def __init__(self, subnets: Subnets, ledger: Ledger, balances: Balances):
        self._subnets = subnets
        self._ledger = ledger
        self._balances = balances

    @staticmethod
    def immune(sn: Subnet, nrn: Neuron, block: int) -> bool:
        return nrn.hotkey == sn.owner_hotkey or block - nrn.registered_at < sn.immunity_period

    def neuron_to_evict(self, netuid: int) -> int | None:
        """The uid a registration on a full subnet would replace, or None if all are immune."""
        sn = self._subnets.get(netuid)
        block = self._ledger.building_block
        candidates = [n for n in sn.neurons if not self.immune(sn, n, block)]
        if not candidates:
            return None
        return min(candidates, key=lambda n: (n.emission, n.registered_at, n.uid)).uid

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
                    "NoNeuronIdAvailable", f"subnet {netuid} is full and every neuron is immune"
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
            # subtensor's clear_neuron: nothing may keep pointing at the reused uid.
            for i, nrn in enumerate(sn.neurons):
                if i == uid:
                    continue
                w = tuple(p for p in nrn.weights if p[0] != uid)
                b = tuple(p for p in nrn.bonds if p[0] != uid)
                if len(w) != len(nrn.weights) or len(b) != len(nrn.bonds):
                    sn.neurons[i] = replace(nrn, weights=w, bonds=b)
        sn.uids[hotkey] = uid
        sn.registrations_this_block += 1
        self._ledger.subnet_changed(sn.netuid)
        self._ledger.emit("SubtensorModule", "NeuronRegistered", [sn.netuid, uid, hotkey])
        return uid
