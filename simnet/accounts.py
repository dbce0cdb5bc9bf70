"""Accounts: free balances, nonces and which coldkey owns each hotkey.

:class:`AccountBook` is the live state and its frozen snapshot for sealed blocks;
:class:`Balances` is every change to it (funding, transfers, debits, fees, nonces), each one
reported to the ledger so the head record shows it.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

from simnet.records import EXISTENTIAL_DEPOSIT_RAO, Accounts, ChainFailure

if TYPE_CHECKING:
    from simnet.ledger import Ledger


class AccountBook:
    """The live account maps. Change them through :class:`Balances`, which tells the ledger."""

    def __init__(self) -> None:
        self.balances: dict[str, int] = {}
        self.nonces: dict[str, int] = {}
        self.owner: dict[str, str] = {}  # hotkey -> coldkey
        self.owned: dict[str, list[str]] = {}  # coldkey -> hotkeys, in registration order
        self.takes: dict[str, int] = {}  # hotkey -> delegate take, u16 parts
        self.swap_announcements: dict[str, tuple[int, str]] = {}
        self.swap_disputes: dict[str, int] = {}
        self._frozen: Accounts | None = None

    def changed(self) -> None:
        self._frozen = None

    def frozen(self) -> Accounts:
        """The snapshot a sealed block keeps; rebuilt only after a change."""
        if self._frozen is None:
            self._frozen = Accounts(
                balances=MappingProxyType(dict(self.balances)),
                nonces=MappingProxyType(dict(self.nonces)),
                owner=MappingProxyType(dict(self.owner)),
                owned=MappingProxyType({k: tuple(v) for k, v in self.owned.items()}),
                takes=MappingProxyType(dict(self.takes)),
                swap_announcements=MappingProxyType(dict(self.swap_announcements)),
                swap_disputes=MappingProxyType(dict(self.swap_disputes)),
            )
        return self._frozen


class Balances:
    def __init__(self, book: AccountBook, ledger: Ledger):
        self._book = book
        self._ledger = ledger

    def balance(self, ss58: str) -> int:
        return self._book.balances.get(ss58, 0)

    def nonce(self, ss58: str) -> int:
        return self._book.nonces.get(ss58, 0)

    def owner_of(self, hotkey: str) -> str | None:
        return self._book.owner.get(hotkey)

    def fund(self, coldkey_ss58: str, rao: int) -> None:
        if int(rao) < 0:
            raise ValueError(f"fund amount must be >= 0 rao, got {rao}")
        self._book.balances[coldkey_ss58] = self.balance(coldkey_ss58) + int(rao)
        self._ledger.accounts_changed()

    def set_owner(self, hotkey: str, coldkey: str) -> None:
        """The first coldkey to claim a hotkey owns it for good."""
        if hotkey in self._book.owner:
            return
        self._book.owner[hotkey] = coldkey
        self._book.owned.setdefault(coldkey, []).append(hotkey)
        self._ledger.accounts_changed()

    def debit(self, ss58: str, rao: int, error: str = "NotEnoughBalanceToStake") -> None:
        have = self.balance(ss58)
        if have < rao:
            raise ChainFailure(error, f"{ss58} has {have} rao free, {rao} rao needed")
        self._book.balances[ss58] = have - rao
        self._ledger.accounts_changed()

    def credit(self, ss58: str, rao: int) -> None:
        self._book.balances[ss58] = self.balance(ss58) + rao
        self._ledger.accounts_changed()

    def transfer(self, src: str, dest: str, rao: int, *, keep_alive: bool = False) -> None:
        rao = int(rao)
        if rao < 0:
            raise ChainFailure("InvalidValue", "transfer amount must be >= 0")
        have = self.balance(src)
        if have < rao:
            raise ChainFailure("InsufficientBalance", f"{src} has {have} rao, {rao} needed")
        if keep_alive and have - rao < EXISTENTIAL_DEPOSIT_RAO:
            raise ChainFailure(
                "Expendability", "the transfer would take the sender below the existential deposit"
            )
        self._book.balances[src] = have - rao
        self._book.balances[dest] = self.balance(dest) + rao
        self._ledger.accounts_changed()
        self._ledger.emit("Balances", "Transfer", {"from": src, "to": dest, "amount": rao})

    def use_nonce_and_charge(self, ss58: str, fee: int) -> None:
        """An included extrinsic consumes its nonce and pays its fee, whatever the outcome."""
        self._book.nonces[ss58] = self.nonce(ss58) + 1
        if fee:
            self._book.balances[ss58] -= fee
        self._ledger.accounts_changed()
