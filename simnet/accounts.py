"""Accounts: every change to the account maps, each one reported to the ledger.

:class:`Balances` is every change to :class:`~simnet.account_book.AccountBook` (funding,
transfers, debits, fees, nonces), each one reported to the ledger so the head record shows it.
"""

from __future__ import annotations

from simnet.account_book import AccountBook
from simnet.ledger import Ledger
from simnet.records import EXISTENTIAL_DEPOSIT_RAO, ChainFailure


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
