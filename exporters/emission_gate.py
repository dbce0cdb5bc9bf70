"""Where each subnet stands against the chain's emission gate, from one poll's chain-wide reads.

The chain's own result is read, never recomputed: ``tao_in_emission`` (dynamic info, the
stored ``SubnetTaoInEmission``) is the TAO the subnet's pool got in the poll's block, and its
share of the block is that over the sum of every subnet's. Only the distance to the bar is
recomputed, as subtensor's ``coinbase/subnet_emissions.rs`` weighs it:

* demand share: the subnet's EMA price over the sum of every non-root subnet's, weighted by
  ``1 - MinerBurned`` and renormalised (``subnet_emission_shares``);
* the bar is the stored ``EmissionGateBar`` (the ``EmissionBarRank``-th largest demand share,
  recomputed every 360 blocks), never recomputed here: between updates the chain gates with the
  stored value;
* gate weight ``g = s^h / (s^h + bar^h)`` (``EmissionGateExponent`` h): 1/2 at the bar, near 1
  well above, near 0 well below; ``bar_ratio = s / bar`` (1 at the bar);
* ``SubnetEmissionEnabled`` off: no TAO at all, whatever the gate says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_GATE_EXPONENT = 3.0


@dataclass(frozen=True, slots=True)
class GateState:
    """The chain-wide gate storage at the poll's block; None where the runtime lacks it."""

    bar: float | None = None  # EmissionGateBar
    exponent: float | None = None  # EmissionGateExponent
    bar_rank: int | None = None  # EmissionBarRank


@dataclass(frozen=True, slots=True)
class EmissionStanding:
    """A subnet's emission at the poll's block and its place against the gate."""

    ema_price_tao: float
    tao_in_emission_tao: float  # TAO injected into the pool this block (the chain's result)
    share: float | None  # of the block's TAO, 0..1; None when no subnet got any
    demand_share: float  # EMA-price share after miner burn: what the gate weighs
    gate_weight: float | None  # None without a stored bar
    bar_ratio: float | None  # demand share / bar; None without a stored bar
    emission_enabled: bool | None  # SubnetEmissionEnabled; None when the map was not read


def gate_weight(share: float, bar: float, exponent: float) -> float:
    if share <= 0:
        return 0.0
    try:
        return 1.0 / (1.0 + (bar / share) ** exponent)
    except OverflowError:
        return 0.0


def standings(
    prices: Mapping[int, float],
    tao_in_emission: Mapping[int, int],
    miner_burned: Mapping[int, float],
    enabled: Mapping[int, bool] | None,
    gate: GateState,
) -> dict[int, EmissionStanding]:
    """Netuid -> standing (root must not be among ``prices``)."""
    weighted = {
        n: max(0.0, p) * (1.0 - min(1.0, max(0.0, miner_burned.get(n, 0.0))))
        for n, p in prices.items()
    }
    if sum(weighted.values()) <= 0:  # the chain falls back to the unweighted price shares
        weighted = {n: max(0.0, p) for n, p in prices.items()}
    total = sum(weighted.values())
    injected = sum(tao_in_emission.get(n, 0) for n in prices)
    bar = gate.bar if gate.bar is not None and gate.bar > 0 else None
    h = gate.exponent if gate.exponent is not None else DEFAULT_GATE_EXPONENT
    out: dict[int, EmissionStanding] = {}
    for n, price in prices.items():
        demand = weighted[n] / total if total > 0 else 0.0
        out[n] = EmissionStanding(
            ema_price_tao=price,
            tao_in_emission_tao=tao_in_emission.get(n, 0) / 1e9,
            share=tao_in_emission.get(n, 0) / injected if injected > 0 else None,
            demand_share=demand,
            gate_weight=gate_weight(demand, bar, h) if bar is not None else None,
            bar_ratio=demand / bar if bar is not None else None,
            emission_enabled=None if enabled is None else enabled.get(n, True),
        )
    return out
