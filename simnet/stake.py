"""The stake pool: alpha positions and each subnet's constant-product pool.

Alpha stake is held per (hotkey, coldkey) position on each subnet. Each subnet has a
constant-product pool (``tao_in`` TAO against ``alpha_in`` alpha); the alpha price is
``tao_in / alpha_in``. Staking swaps TAO in, unstaking swaps alpha in, both at ``x·y = k``
with no swap fee. Anyone may stake to any existing hotkey (nomination), as on chain. On the
root subnet (netuid 0) stake is TAO, 1:1, with no pool (:mod:`simnet.economy`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simnet.records import MIN_STAKE_RAO, RAO_PER_TAO, ChainFailure

if TYPE_CHECKING:
    from simnet.accounts import Balances
    from simnet.ledger import Ledger
    from simnet.subnets import Subnets


class StakePool:
    def __init__(self, subnets: Subnets, ledger: Ledger, balances: Balances):
        self._subnets = subnets
        self._ledger = ledger
        self._balances = balances

    def sim_tao_for_alpha(self, netuid: int, tao_rao: int) -> int:
        sn = self._subnets.get(netuid)
        if sn.is_root:
            return int(tao_rao)  # root stake is TAO: no pool, no slippage
        k = sn.tao_in * sn.alpha_in
        return sn.alpha_in - -(-k // (sn.tao_in + tao_rao))  # ceil keeps the pool whole

    def sim_alpha_for_tao(self, netuid: int, alpha_rao: int) -> int:
        sn = self._subnets.get(netuid)
        if sn.is_root:
            return int(alpha_rao)
        k = sn.tao_in * sn.alpha_in
        return sn.tao_in - -(-k // (sn.alpha_in + alpha_rao))

    def add_stake(
        self,
        coldkey: str,
        hotkey: str,
        netuid: int,
        tao_rao: int,
        *,
        limit_price: int | None = None,
    ) -> int:
        """Swap TAO into the pool and credit the alpha; returns the alpha bought (rao)."""
        sn = self._subnets.get(netuid)
        tao_rao = int(tao_rao)
        if self._balances.owner_of(hotkey) is None:
            raise ChainFailure(
                "HotKeyAccountNotExists", f"hotkey {hotkey} is not registered anywhere"
            )
        if tao_rao < MIN_STAKE_RAO:
            raise ChainFailure("AmountTooLow", f"stake {tao_rao} rao is below {MIN_STAKE_RAO} rao")
        if self._balances.balance(coldkey) < tao_rao:
            raise ChainFailure(
                "NotEnoughBalanceToStake",
                f"{coldkey} has {self._balances.balance(coldkey)} rao free, {tao_rao} needed",
            )
        alpha = self.sim_tao_for_alpha(netuid, tao_rao)
        if alpha <= 0:
            raise ChainFailure("InsufficientLiquidity", "the pool cannot pay out any alpha")
        new_tao, new_alpha = sn.tao_in + tao_rao, sn.alpha_in - alpha
        if sn.is_root:
            new_tao, new_alpha = RAO_PER_TAO, RAO_PER_TAO  # the limit check sees price 1
        if limit_price is not None and new_tao * RAO_PER_TAO // new_alpha > limit_price:
            raise ChainFailure(
                "SlippageTooHigh", f"the price would rise above the limit {limit_price} rao"
            )
        self._balances.debit(coldkey, tao_rao)
        if not sn.is_root:
            sn.tao_in, sn.alpha_in = new_tao, new_alpha
        sn.alpha_out += alpha
        key = (hotkey, coldkey)
        sn.stake[key] = sn.stake.get(key, 0) + alpha
        self._ledger.subnet_changed(sn.netuid)
        self._ledger.emit(
            "SubtensorModule", "StakeAdded", [coldkey, hotkey, tao_rao, alpha, sn.netuid, 0]
        )
        return alpha

    def remove_stake(
        self,
        coldkey: str,
        hotkey: str,
        netuid: int,
        alpha_rao: int,
        *,
        limit_price: int | None = None,
    ) -> int:
        """Swap alpha back out of a position; returns the TAO received (rao)."""
        sn = self._subnets.get(netuid)
        alpha_rao = int(alpha_rao)
        key = (hotkey, coldkey)
        have = sn.stake.get(key, 0)
        if alpha_rao <= 0:
            raise ChainFailure("AmountTooLow", "unstake amount must be positive")
        if have < alpha_rao:
            raise ChainFailure(
                "NotEnoughStakeToWithdraw",
                f"{coldkey} holds {have} alpha rao on {hotkey} at netuid {netuid}, "
                f"{alpha_rao} requested",
            )
        tao = self.sim_alpha_for_tao(netuid, alpha_rao)
        new_tao, new_alpha = sn.tao_in - tao, sn.alpha_in + alpha_rao
        if sn.is_root:
            new_tao, new_alpha = RAO_PER_TAO, RAO_PER_TAO
        if limit_price is not None and new_tao * RAO_PER_TAO // new_alpha < limit_price:
            raise ChainFailure(
                "SlippageTooHigh", f"the price would fall below the limit {limit_price} rao"
            )
        if not sn.is_root:
            sn.tao_in, sn.alpha_in = new_tao, new_alpha
        sn.alpha_out -= alpha_rao
        if have == alpha_rao:
            del sn.stake[key]
        else:
            sn.stake[key] = have - alpha_rao
        self._balances.credit(coldkey, tao)
        self._ledger.subnet_changed(sn.netuid)
        self._ledger.emit(
            "SubtensorModule", "StakeRemoved", [coldkey, hotkey, tao, alpha_rao, sn.netuid, 0]
        )
        return tao

    def stake_alpha(self, netuid: int, hotkey: str, coldkey: str | None = None) -> int:
        sn = self._subnets.get(netuid)
        if coldkey is None:
            return sn.hotkey_alpha(hotkey)
        return sn.stake.get((hotkey, coldkey), 0)

    def set_stake(self, netuid: int, hotkey: str, coldkey: str, alpha_rao: int) -> None:
        """Scenario setup: place an alpha position directly (no swap, no pool effect)."""
        sn = self._subnets.get(netuid)
        if self._balances.owner_of(hotkey) is None:
            self._balances.set_owner(hotkey, coldkey)
        if int(alpha_rao) <= 0:
            sn.stake.pop((hotkey, coldkey), None)
        else:
            sn.stake[(hotkey, coldkey)] = int(alpha_rao)
        self._ledger.subnet_changed(sn.netuid)

    def scale_stake(self, netuid: int, hotkey: str, factor: float) -> None:
        """Scenario lever: multiply every position on ``hotkey`` by ``factor`` (no swap)."""
        if factor < 0:
            raise ValueError(f"stake factor must be >= 0, got {factor}")
        sn = self._subnets.get(netuid)
        for key in [k for k in sn.stake if k[0] == hotkey]:
            scaled = int(sn.stake[key] * factor)
            if scaled > 0:
                sn.stake[key] = scaled
            else:
                del sn.stake[key]
        self._ledger.subnet_changed(sn.netuid)
