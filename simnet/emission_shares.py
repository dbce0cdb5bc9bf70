"""How the chain splits the block's TAO over subnets: pure functions over one block's inputs.

Each rule follows subtensor ``pallets/subtensor/src/coinbase/subnet_emissions.rs``:

1. ``emission_shares_from_price_ema``: ``s_i = SubnetMovingPrice_i / sum`` over the subnets the
   coinbase emits to (``get_subnets_to_emit_to``: not root; simnet's subnets all have a first
   emission block, subtoken and registration on).
2. ``subnet_emission_shares``: each share weighted by ``1 - min(MinerBurned_i, 1)`` and
   renormalised; when every weight is 0 the unweighted price shares stand.
3. ``maybe_update_emission_gate_bar``: the bar (``EmissionGateBar``) is recomputed when none is
   stored or on every ``EMISSION_BAR_UPDATE_INTERVAL`` (360) block boundary, sticky in between.
   With ``EmissionBarRank`` N > 0 (the chain's default, 32) it is the N-th largest positive share
   (the smallest when fewer are positive); with N = 0 it is the q-mass bar: shares sorted
   descending, the first at which the running total reaches ``EmissionBarQuantile``.
4. ``apply_emission_gate``: ``g(s) = s^h / (s^h + bar^h)`` (``EmissionGateExponent`` h, default 3)
   on each positive share, renormalised; a zero bar disables the gate, and when every gated
   share underflows the ungated shares are restored.
5. ``get_subnet_block_emissions``: subnets with ``SubnetEmissionEnabled`` off keep their place
   in steps 1-4 (they count in the sums and the bar) but get no TAO; their share goes to the
   enabled subnets pro rata.

The rank-mode bar is read from the chain's behaviour as recorded in chain-today.md and in
independent reconstructions checked against Finney (the gate code postdates the subtensor
snapshot simnet can read whole); the q-mass bar, the gate, the cadence and the underflow rule
are checked against subtensor's ``tests/subnet_emissions.rs`` (tests/simnet/test_subtensor_
emission_cases.py). Floats, not U64F64: shares agree to about 1e-12.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

EMISSION_BAR_UPDATE_INTERVAL = 360


@dataclass(frozen=True)
class GateSettings:
    """The chain-wide gate storage: ``EmissionBarRank``, ``EmissionBarQuantile``,
    ``EmissionGateExponent`` (runtime defaults 32, 0.61, 3)."""

    bar_rank: int = 32
    bar_quantile: float = 0.61
    exponent: float = 3.0

    def __post_init__(self) -> None:
        if not 0 <= self.bar_rank <= 65535:
            raise ValueError(f"EmissionBarRank must be a u16, got {self.bar_rank}")
        if not 0.0 < self.bar_quantile <= 1.0:
            raise ValueError(f"EmissionBarQuantile must be in (0, 1], got {self.bar_quantile}")
        if self.exponent < 0:
            raise ValueError(f"EmissionGateExponent must be >= 0, got {self.exponent}")


@dataclass(frozen=True)
class SubnetInputs:
    """What the share rule reads of one subnet."""

    moving_price: float  # SubnetMovingPrice
    miner_burned: float = 0.0  # MinerBurned
    emission_enabled: bool = True  # SubnetEmissionEnabled


@dataclass(frozen=True)
class BlockShares:
    """One block's split: the final TAO share per netuid and what produced it."""

    shares: Mapping[int, float]  # what SubnetTaoInEmission is paid from (sums to 1 or 0)
    demand: Mapping[int, float]  # after miner-burn weighting, before the gate
    gate: Mapping[int, float]  # g(demand share), 0 for a non-positive share
    bar: float  # the EmissionGateBar used this block (and stored)


def price_shares(prices: Mapping[int, float]) -> dict[int, float]:
    total = sum(max(0.0, p) for p in prices.values())
    return {n: (max(0.0, p) / total if total > 0 else 0.0) for n, p in prices.items()}


def miner_burn_weighted(
    shares: Mapping[int, float], burned: Mapping[int, float]
) -> dict[int, float]:
    weighted = {n: s * (1.0 - min(1.0, max(0.0, burned.get(n, 0.0)))) for n, s in shares.items()}
    total = sum(weighted.values())
    if total <= 0:
        return dict(shares)
    return {n: w / total for n, w in weighted.items()}


def gate_bar(shares: Mapping[int, float], settings: GateSettings) -> float:
    positive = sorted((s for s in shares.values() if s > 0), reverse=True)
    if not positive:
        return 0.0
    if settings.bar_rank > 0:
        return positive[min(settings.bar_rank, len(positive)) - 1]
    running = 0.0
    for share in positive:
        running += share
        if running >= settings.bar_quantile:
            return share
    return positive[-1]


def gate_weight(share: float, bar: float, exponent: float) -> float:
    """``s^h / (s^h + bar^h)``, written as ``1 / (1 + (bar/s)^h)``; 1 with no bar."""
    if bar <= 0:
        return 1.0
    if share <= 0:
        return 0.0
    try:
        return 1.0 / (1.0 + (bar / share) ** exponent)
    except OverflowError:
        return 0.0


def apply_gate(shares: Mapping[int, float], bar: float, exponent: float) -> dict[int, float]:
    if bar <= 0:
        return dict(shares)
    gated = {n: s * gate_weight(s, bar, exponent) if s > 0 else 0.0 for n, s in shares.items()}
    total = sum(gated.values())
    if total <= 0:
        return dict(shares)
    return {n: g / total for n, g in gated.items()}


def redistribute_disabled(
    shares: Mapping[int, float], enabled: Mapping[int, bool]
) -> dict[int, float]:
    if all(enabled.get(n, True) for n in shares):
        return dict(shares)
    total = sum(s for n, s in shares.items() if enabled.get(n, True))
    return {
        n: (s / total if enabled.get(n, True) and total > 0 else 0.0) for n, s in shares.items()
    }


def bar_due(block: int, stored_bar: float) -> bool:
    return stored_bar <= 0 or block % EMISSION_BAR_UPDATE_INTERVAL == 0


def block_shares(
    subnets: Mapping[int, SubnetInputs], *, block: int, stored_bar: float, settings: GateSettings
) -> BlockShares:
    """The split for ``block`` given last block's stored bar (recomputed when due)."""
    demand = miner_burn_weighted(
        price_shares({n: s.moving_price for n, s in subnets.items()}),
        {n: s.miner_burned for n, s in subnets.items()},
    )
    bar = stored_bar
    if subnets and bar_due(block, stored_bar):
        bar = gate_bar(demand, settings)
    gated = apply_gate(demand, bar, settings.exponent)
    final = redistribute_disabled(gated, {n: s.emission_enabled for n, s in subnets.items()})
    weights = {n: gate_weight(s, bar, settings.exponent) for n, s in demand.items()}
    return BlockShares(shares=final, demand=demand, gate=weights, bar=bar)
