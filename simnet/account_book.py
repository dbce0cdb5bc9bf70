"""The account maps: free balances, nonces and which coldkey owns each hotkey.

:class:`AccountBook` is the live state and its frozen snapshot for sealed blocks. It sits below
both the ledger, which seals its snapshot into each block, and :mod:`simnet.accounts`, whose
:class:`~simnet.accounts.Balances` changes it and tells the ledger.
"""

from __future__ import annotations

from types import MappingProxyType

from simnet.records import Accounts


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
        self.successors: dict[str, str] = {}  # ColdkeySuccessor: old coldkey -> new
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
                successors=MappingProxyType(dict(self.successors)),
            )
        return self._frozen
