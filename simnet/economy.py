"""Stake and emission: the root subnet, TAO stake weight, the block emission and its shares.

* **Root.** Netuid 0 holds TAO stake, 1:1 (no pool, price 1 TAO), and has no miners, no
  incentive and no epoch. Its record carries ``TaoWeight`` (parts of u64::MAX; the runtime
  default 971_718_665_099_567_868 is about 0.0527).
* **Stake weight** (subtensor ``get_stake_weights_for_network``): a hotkey's weight on a
  subnet is ``alpha + tao_weight · root_tao``, both **after childkey inheritance**
  (``get_inherited_for_hotkey_on_subnet`` / ``get_tao_inherited_for_hotkey_on_subnet``: own
  stake, minus each child's proportion of it, plus each parent's proportion of the parent's own
  stake, truncated to an integer). Records show ``alpha_stake``, ``tao_stake`` (root TAO) and
  ``total_stake`` (the weight), all inherited, and the epoch runs on the weight.
* **Dividends split** (coinbase): of a validator's dividend, the share
  ``tao_weight·tao / (alpha + tao_weight·tao)`` belongs to its root stakers and the rest is paid
  to its alpha stakers pro rata. The root share is recorded as ``tao_dividends_per_hotkey``
  (in alpha rao: simnet neither swaps it to TAO nor models ``claim_root``).
* **Block emission.** 1 TAO per block, halved each time total issuance crosses the midpoint of
  the remaining supply (10.5M, 15.75M, ... of 21M TAO), as ``get_block_emission_for_issuance``
  does; or, configurably, halved every ``halving_interval`` blocks from ``first_halving_block``.
  A schedule that starts past 10.5M TAO issued pays 0.5 TAO per block (the December 2025
  halving).
* **Shares** (``ranked`` schedule: the chain's price-share rule, there are no tiers). Each
  block the EMA price moves (``update_moving_price``: toward the spot price capped at 1.0),
  then :func:`simnet.emission_shares.block_shares` splits the block's TAO as
  ``coinbase/subnet_emissions.rs`` does: EMA-price shares, weighted by ``1 - MinerBurned``, the
  soft gate around ``EmissionGateBar`` (recomputed every 360 blocks), and nothing for a subnet
  with ``SubnetEmissionEnabled`` off (its share goes to the others). The result is stored as
  ``SubnetTaoInEmission`` and goes into the pool with ``tao / price`` alpha beside it (a
  price-neutral injection); the subnet's own alpha emission (``emission_per_block_rao``) still
  accrues for its participants, emission switched off or not.

Subnets created at genesis stand for subnets already emitting: their switch is on (the chain
registers a new subnet with it off; a scenario says so with ``emission_enabled: false``).

Simplified: the EMA price starts at the spot price (capped at 1.0) and moves at a fixed
``price_ema_alpha`` per block, not the chain's age-dependent rate; no owner cut, no injection
cap by root proportion, no alpha halving, recycled registration burns do not lower issuance.
The default (``per_subnet``) schedule keeps the old rule: every subnet accrues its own
``emission_per_block_rao`` and nothing is injected.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from simnet.emission_shares import GateSettings, SubnetInputs, block_shares
from simnet.records import RAO_PER_TAO, Subnet
from simnet.subnets import DEFAULT_TAO_WEIGHT

if TYPE_CHECKING:
    from simnet.ledger import Ledger
    from simnet.subnets import Subnets

U64_MAX = 2**64 - 1
MAX_SUPPLY_RAO = 21_000_000 * RAO_PER_TAO


@dataclass(frozen=True)
class EmissionSchedule:
    mode: Literal["per_subnet", "ranked"] = "per_subnet"
    halving: Literal["issuance", "block"] = "issuance"
    base_rao: int = RAO_PER_TAO
    start_issuance_rao: int = 10_600_000 * RAO_PER_TAO
    first_halving_block: int = 0  # "block" halving: the block of the first halving
    halving_interval: int = 10_500_000  # "block" halving: blocks between halvings
    price_ema_alpha: float = 0.01

    def halvings(self, issuance_rao: int, block: int) -> int:
        if self.halving == "block":
            if block < self.first_halving_block:
                return 0
            return 1 + (block - self.first_halving_block) // max(1, self.halving_interval)
        remaining = 1 - issuance_rao / MAX_SUPPLY_RAO
        if remaining <= 0:
            return 64
        return max(0, math.floor(-math.log2(remaining) + 1e-12))

    def block_emission_rao(self, issuance_rao: int, block: int) -> int:
        return self.base_rao >> min(63, self.halvings(issuance_rao, block))


def tao_weight_fraction(raw: int) -> float:
    return raw / U64_MAX


def split_dividend(alpha: float, tao_weighted: float, amount: int) -> tuple[int, int]:
    """(alpha stakers' part, root stakers' part) of one validator's dividend."""
    total = alpha + tao_weighted
    if amount <= 0 or tao_weighted <= 0 or total <= 0:
        return amount, 0
    root = int(amount * tao_weighted / total)
    return amount - root, root


class Economy:
    """The root subnet, stake weights, dividend split and the per-block coinbase."""

    def __init__(
        self, subnets: Subnets, ledger: Ledger, schedule: EmissionSchedule | None = None
    ) -> None:
        self._subnets = subnets
        self._ledger = ledger
        self.schedule = schedule or EmissionSchedule()
        self.issuance_rao = self.schedule.start_issuance_rao
        self._bar = 0.0  # EmissionGateBar when there is no root record to hold it

    def use_schedule(self, schedule: EmissionSchedule) -> None:
        """Switch to ``schedule`` at genesis; issuance restarts from its ``start_issuance_rao``."""
        self.schedule = schedule
        self.issuance_rao = schedule.start_issuance_rao

    # ---------------------------------------------------------------- root and stake weight

    def root(self) -> Subnet | None:
        try:
            return self._subnets.get(0)
        except Exception:
            return None

    def create_root(self, *, tao_weight: int = DEFAULT_TAO_WEIGHT, tempo: int = 360) -> Subnet:
        if not 0 <= int(tao_weight) <= U64_MAX:
            raise ValueError(f"tao_weight must be 0..u64::MAX parts, got {tao_weight}")
        return self._subnets.create_root(tao_weight=int(tao_weight), tempo=tempo)

    def set_tao_weight(self, raw: int) -> None:
        root = self.root()
        if root is None:
            raise ValueError("there is no root subnet (netuid 0) to hold TaoWeight")
        if not 0 <= int(raw) <= U64_MAX:
            raise ValueError(f"tao_weight must be 0..u64::MAX parts, got {raw}")
        root.tao_weight = int(raw)
        self._ledger.subnet_changed(0)

    def stake_weights(self, sn: Subnet) -> dict[str, float]:
        return stake_weights(self.root(), sn)

    def split(self, sn: Subnet, hotkey: str, amount: int) -> tuple[int, int]:
        root = self.root()
        w = tao_weight_fraction(root.tao_weight) if root is not None else 0.0
        tao = root.hotkey_alpha(hotkey) if root is not None else 0
        return split_dividend(float(sn.hotkey_alpha(hotkey)), w * tao, amount)

    @property
    def gate_bar(self) -> float:
        """``EmissionGateBar`` as last stored."""
        root = self.root()
        return root.emission_gate_bar if root is not None else self._bar

    def gate_settings(self) -> GateSettings:
        root = self.root()
        if root is None:
            return GateSettings()
        return GateSettings(
            bar_rank=root.emission_bar_rank,
            bar_quantile=root.emission_bar_quantile,
            exponent=root.emission_gate_exponent,
        )

    def set_emission_enabled(self, netuid: int, enabled: bool) -> None:
        """``sudo_set_subnet_emission_enabled``: the per-subnet switch."""
        sn = self._subnets.get(netuid)
        if sn.is_root:
            raise ValueError("the root subnet (netuid 0) has no SubnetEmissionEnabled switch")
        sn.emission_enabled = bool(enabled)
        self._ledger.subnet_changed(netuid)

    def set_miner_burned(self, netuid: int, fraction: float) -> None:
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"MinerBurned is a fraction in [0, 1], got {fraction}")
        self._subnets.get(netuid).miner_burned = float(fraction)
        self._ledger.subnet_changed(netuid)

    def move_price(self, netuid: int, factor: float) -> None:
        """Scale the pool's TAO reserve by ``factor`` (scenario trading; alpha stays)."""
        if factor <= 0:
            raise ValueError(f"a price move must keep the reserve positive, got x{factor}")
        sn = self._subnets.get(netuid)
        if sn.is_root:
            raise ValueError("the root subnet (netuid 0) has no pool price to move")
        sn.tao_in = max(1, round(sn.tao_in * factor))
        self._ledger.subnet_changed(netuid)

    # ---------------------------------------------------------------- the coinbase

    def coinbase(self, block: int) -> None:
        """Accrue this block's emission on every subnet."""
        subnets = [sn for sn in self._subnets if not sn.is_root]
        if self.schedule.mode == "per_subnet":
            for sn in subnets:
                sn.pending_emission += sn.emission_per_block_rao
                sn.alpha_out_emission = sn.emission_per_block_rao
                self._ledger.subnet_changed(sn.netuid)
            return
        a = self.schedule.price_ema_alpha
        for sn in subnets:
            spot = min(1.0, sn.price_rao / RAO_PER_TAO)
            sn.moving_price = spot if sn.moving_price <= 0 else (1 - a) * sn.moving_price + a * spot
        emission = self.schedule.block_emission_rao(self.issuance_rao, block)
        root = self.root()
        gate = self.gate_settings()
        split = block_shares(
            {
                sn.netuid: SubnetInputs(sn.moving_price, sn.miner_burned, sn.emission_enabled)
                for sn in subnets
            },
            block=block,
            stored_bar=root.emission_gate_bar if root is not None else self._bar,
            settings=gate,
        )
        self._bar = split.bar
        if root is not None and root.emission_gate_bar != split.bar:
            root.emission_gate_bar = split.bar
            self._ledger.subnet_changed(0)
        for sn in subnets:
            tao = int(emission * split.shares.get(sn.netuid, 0.0))
            alpha_in = tao * RAO_PER_TAO // sn.price_rao if sn.price_rao else 0
            sn.tao_in += tao
            sn.alpha_in += alpha_in
            sn.tao_in_emission, sn.alpha_in_emission = tao, alpha_in
            sn.emission_ranked = True
            sn.alpha_out_emission = sn.emission_per_block_rao
            sn.pending_emission += sn.emission_per_block_rao
            self.issuance_rao += tao
            self._ledger.subnet_changed(sn.netuid)


def inherited(own: Mapping[str, int], children: Mapping[str, tuple]) -> dict[str, int]:
    """Hotkey -> stake after childkey inheritance on one subnet's childkey graph."""
    out = {hk: float(v) for hk, v in own.items()}
    for parent, kids in children.items():
        base = own.get(parent, 0)
        for proportion, child in kids:
            moved = base * (proportion / U64_MAX)
            out[parent] = out.get(parent, 0.0) - moved
            out[child] = out.get(child, 0.0) + moved
    return {hk: max(0, int(v)) for hk, v in out.items()}


def inherited_stake(root: Subnet | None, sn: Subnet) -> tuple[dict[str, int], dict[str, int]]:
    """(alpha, root TAO) per hotkey on ``sn`` after childkey inheritance; root is not inherited."""
    alpha = sn.alpha_by_hotkey()
    tao = root.alpha_by_hotkey() if root is not None else {}
    if sn.is_root:
        return alpha, tao
    return inherited(alpha, sn.children), inherited(tao, sn.children)


def stake_weights(root: Subnet | None, sn: Subnet) -> dict[str, float]:
    """Hotkey -> ``alpha + tao_weight · root TAO`` on ``sn``, inherited (the epoch's stake)."""
    alpha, tao = inherited_stake(root, sn)
    out = {hk: float(v) for hk, v in alpha.items()}
    if root is None or sn.is_root or not root.tao_weight:
        return out
    w = tao_weight_fraction(root.tao_weight)
    for hk, t in tao.items():
        out[hk] = out.get(hk, 0.0) + w * t
    return out
