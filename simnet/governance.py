"""Ownership and governance: coldkey swap scheduling, delegate take, childkeys.

* **Coldkey swap.** ``announce_coldkey_swap(hash)`` stores ``(block + 36_000, hash)`` in
  ``ColdkeySwapAnnouncements``; after the delay ``swap_coldkey_announced(new)`` (whose
  BlakeTwo256 hash must match) moves the balance, every stake position, hotkey ownership and
  subnet ownership to the new coldkey. ``dispute_coldkey_swap`` freezes the swap
  (``ColdkeySwapDisputes``) until root's ``reset_coldkey_swap`` clears it (the operator's
  :meth:`Governance.reset_coldkey_swap`); the announcer may clear it after the reannouncement
  delay. Events: ``ColdkeySwapAnnounced``, ``ColdkeySwapped``, ``ColdkeySwapDisputed``,
  ``ColdkeySwapCleared``, ``ColdkeySwapReset``.
* **Delegate take** (``Delegates``, u16 parts, default and maximum 11_796 = 18%):
  ``increase_take`` / ``decrease_take`` by the hotkey's owner; ``TakeIncreased`` /
  ``TakeDecreased``.
* **Childkeys.** ``set_children`` by the parent's owner parks the proposal in
  ``PendingChildKeys`` with a cooldown block (``SetChildrenScheduled``); at that block it
  becomes ``ChildKeys`` / ``ParentKeys`` (``SetChildren``).

Simplified: a pending announcement does not lock the coldkey's other calls and a dispute does
not freeze them; no swap cost is charged; take changes are not rate limited and take is not
deducted from dividends; children do not inherit stake weight; no childkey take.
"""

from __future__ import annotations

from dataclasses import replace
from hashlib import blake2b
from typing import TYPE_CHECKING

from bittensor.sp_core import ss58_decode

from simnet.records import ChainFailure

if TYPE_CHECKING:
    from simnet.account_book import AccountBook
    from simnet.accounts import Balances
    from simnet.ledger import Ledger
    from simnet.subnets import Subnets

SWAP_ANNOUNCEMENT_DELAY = 36_000
SWAP_REANNOUNCEMENT_DELAY = 7_200
CHILDKEY_COOLDOWN = 7_200
DEFAULT_TAKE = 11_796
MIN_TAKE, MAX_TAKE = 0, 11_796
MAX_CHILDREN = 5
U64_MAX = 2**64 - 1


def coldkey_hash(ss58: str) -> str:
    """BlakeTwo256 of the account's public key, 0x-hex, as the announcement commits to."""
    return "0x" + blake2b(bytes(ss58_decode(ss58)), digest_size=32).hexdigest()


class Governance:
    def __init__(
        self,
        subnets: Subnets,
        ledger: Ledger,
        balances: Balances,
        book: AccountBook,
        *,
        swap_delay: int = SWAP_ANNOUNCEMENT_DELAY,
        reannouncement_delay: int = SWAP_REANNOUNCEMENT_DELAY,
        childkey_cooldown: int = CHILDKEY_COOLDOWN,
    ):
        self._subnets = subnets
        self._ledger = ledger
        self._balances = balances
        self._book = book
        self.swap_delay = int(swap_delay)
        self.reannouncement_delay = int(reannouncement_delay)
        self.childkey_cooldown = int(childkey_cooldown)

    def _changed(self) -> None:
        self._ledger.accounts_changed()

    # ---------------------------------------------------------------- coldkey swap

    def announce_coldkey_swap(self, coldkey: str, new_coldkey_hash: str) -> int:
        book, now = self._book, self._ledger.building_block
        if coldkey in book.swap_disputes:
            raise ChainFailure("ColdkeySwapDisputed", f"the swap of {coldkey} is under dispute")
        held = book.swap_announcements.get(coldkey)
        if held is not None and now < held[0] + self.reannouncement_delay:
            raise ChainFailure(
                "ColdkeySwapReannouncedTooEarly",
                f"{coldkey} may announce again from block {held[0] + self.reannouncement_delay}",
            )
        execute = now + self.swap_delay
        book.swap_announcements[coldkey] = (execute, str(new_coldkey_hash).lower())
        self._changed()
        self._ledger.emit(
            "SubtensorModule",
            "ColdkeySwapAnnounced",
            {"who": coldkey, "new_coldkey_hash": new_coldkey_hash, "execution_block": execute},
        )
        return execute

    def _announcement(self, coldkey: str) -> tuple[int, str]:
        held = self._book.swap_announcements.get(coldkey)
        if held is None:
            raise ChainFailure(
                "ColdkeySwapAnnouncementNotFound", f"{coldkey} has announced no swap"
            )
        return held

    def swap_coldkey_announced(self, coldkey: str, new_coldkey: str) -> None:
        execute, committed = self._announcement(coldkey)
        if coldkey in self._book.swap_disputes:
            raise ChainFailure("ColdkeySwapDisputed", f"the swap of {coldkey} is under dispute")
        if self._ledger.building_block < execute:
            raise ChainFailure("ColdkeySwapTooEarly", f"the swap executes from block {execute}")
        if coldkey_hash(new_coldkey) != committed:
            raise ChainFailure(
                "AnnouncedColdkeyHashDoesNotMatch",
                f"{new_coldkey} does not hash to the announced {committed}",
            )
        self._move_everything(coldkey, new_coldkey)
        del self._book.swap_announcements[coldkey]
        self._book.successors[coldkey] = new_coldkey
        self._changed()
        self._ledger.emit(
            "SubtensorModule",
            "ColdkeySwapped",
            {"old_coldkey": coldkey, "new_coldkey": new_coldkey},
        )

    def _move_everything(self, old: str, new: str) -> None:
        book = self._book
        book.balances[new] = book.balances.get(new, 0) + book.balances.pop(old, 0)
        for hotkey in book.owned.pop(old, []):
            book.owner[hotkey] = new
            book.owned.setdefault(new, []).append(hotkey)
        for sn in self._subnets:
            moved = False
            for hk, ck in [k for k in sn.stake if k[1] == old]:
                sn.stake[(hk, new)] = sn.stake.get((hk, new), 0) + sn.stake.pop((hk, ck))
                moved = True
            if sn.owner_coldkey == old:
                sn.owner_coldkey, moved = new, True
            for uid, nrn in enumerate(sn.neurons):
                if nrn.coldkey == old:
                    sn.neurons[uid], moved = replace(nrn, coldkey=new), True
            if moved:
                self._ledger.subnet_changed(sn.netuid)

    def dispute_coldkey_swap(self, coldkey: str) -> None:
        self._announcement(coldkey)
        if coldkey in self._book.swap_disputes:
            raise ChainFailure("ColdkeySwapAlreadyDisputed", f"{coldkey} is already disputed")
        self._book.swap_disputes[coldkey] = self._ledger.building_block
        self._changed()
        self._ledger.emit("SubtensorModule", "ColdkeySwapDisputed", {"coldkey": coldkey})

    def clear_coldkey_swap_announcement(self, coldkey: str) -> None:
        execute, _hash = self._announcement(coldkey)
        if coldkey in self._book.swap_disputes:
            raise ChainFailure("ColdkeySwapDisputed", f"the swap of {coldkey} is under dispute")
        if self._ledger.building_block < execute + self.reannouncement_delay:
            raise ChainFailure(
                "ColdkeySwapClearTooEarly",
                f"clearable from block {execute + self.reannouncement_delay}",
            )
        del self._book.swap_announcements[coldkey]
        self._changed()
        self._ledger.emit("SubtensorModule", "ColdkeySwapCleared", {"who": coldkey})

    def swap_coldkey(self, coldkey: str, new_coldkey: str) -> None:
        """Root's ``swap_coldkey``: executes at once, disputed or not, and clears both the
        announcement and the dispute; ``ColdkeySuccessor`` names the new coldkey."""
        self._move_everything(coldkey, new_coldkey)
        self._book.swap_announcements.pop(coldkey, None)
        self._book.swap_disputes.pop(coldkey, None)
        self._book.successors[coldkey] = new_coldkey
        self._changed()
        self._ledger.emit(
            "SubtensorModule",
            "ColdkeySwapped",
            {"old_coldkey": coldkey, "new_coldkey": new_coldkey},
        )

    def reset_coldkey_swap(self, coldkey: str) -> None:
        """Root's reset: clear the announcement and the dispute."""
        self._book.swap_announcements.pop(coldkey, None)
        self._book.swap_disputes.pop(coldkey, None)
        self._changed()
        self._ledger.emit("SubtensorModule", "ColdkeySwapReset", {"who": coldkey})

    # ---------------------------------------------------------------- delegate take

    def take(self, hotkey: str) -> int:
        return self._book.takes.get(hotkey, DEFAULT_TAKE)

    def _own(self, coldkey: str, hotkey: str) -> None:
        owner = self._balances.owner_of(hotkey)
        if owner is None:
            raise ChainFailure("HotKeyAccountNotExists", f"hotkey {hotkey} is not registered")
        if owner != coldkey:
            raise ChainFailure("NonAssociatedColdKey", f"{coldkey} does not own {hotkey}")

    def change_take(self, coldkey: str, hotkey: str, take: int, *, increase: bool) -> None:
        self._own(coldkey, hotkey)
        take, current = int(take), self.take(hotkey)
        if increase and take <= current:
            raise ChainFailure("DelegateTakeTooLow", f"take {take} is not above {current}")
        if increase and take > MAX_TAKE:
            raise ChainFailure("DelegateTakeTooHigh", f"take {take} is above {MAX_TAKE}")
        if not increase and take >= current:
            raise ChainFailure("DelegateTakeTooHigh", f"take {take} is not below {current}")
        if not increase and take < MIN_TAKE:
            raise ChainFailure("DelegateTakeTooLow", f"take {take} is below {MIN_TAKE}")
        self._book.takes[hotkey] = take
        self._changed()
        event = "TakeIncreased" if increase else "TakeDecreased"
        self._ledger.emit("SubtensorModule", event, [coldkey, hotkey, take])

    # ---------------------------------------------------------------- childkeys

    def set_children(
        self, coldkey: str, hotkey: str, netuid: int, children: list[tuple[int, str]]
    ) -> int:
        sn = self._subnets.get(netuid)
        if sn.is_root:
            raise ChainFailure(
                "RegistrationNotPermittedOnRootSubnet", "childkeys are not allowed on root"
            )
        self._own(coldkey, hotkey)
        pairs = tuple((int(p), str(c)) for p, c in children)
        kids = [c for _p, c in pairs]
        if len(pairs) > MAX_CHILDREN:
            raise ChainFailure("TooManyChildren", f"at most {MAX_CHILDREN} children")
        if len(set(kids)) != len(kids):
            raise ChainFailure("DuplicateChild", "a child appears twice")
        if hotkey in kids:
            raise ChainFailure("InvalidChild", "a hotkey cannot be its own child")
        if sum(p for p, _c in pairs) > U64_MAX:
            raise ChainFailure("ProportionOverflow", "child proportions sum past the whole")
        cooldown = self._ledger.building_block + self.childkey_cooldown
        sn.pending_children[hotkey] = (pairs, cooldown)
        self._ledger.subnet_changed(sn.netuid)
        self._ledger.emit(
            "SubtensorModule",
            "SetChildrenScheduled",
            [hotkey, sn.netuid, cooldown, [list(p) for p in pairs]],
        )
        return cooldown

    def apply_due_children(self, block: int) -> None:
        """Promote proposals whose cooldown has passed (run every block)."""
        for sn in self._subnets:
            due = [hk for hk, (_p, at) in sn.pending_children.items() if at <= block]
            for hotkey in due:
                pairs, _at = sn.pending_children.pop(hotkey)
                if pairs:
                    sn.children[hotkey] = pairs
                else:
                    sn.children.pop(hotkey, None)
                self._ledger.emit(
                    "SubtensorModule", "SetChildren", [hotkey, sn.netuid, [list(p) for p in pairs]]
                )
            if due:
                self._ledger.subnet_changed(sn.netuid)
