"""The registration burn that moves, as subtensor prices it today.

subtensor replaced the per-interval controller (``adjust_registration_terms``: every
``adjustment_interval`` blocks, burn x (regs + target) / (2 target)) in January 2026 with
``update_registration_prices_for_networks``: at the start of every block the burn decays
by the per-block factor whose ``burn_half_life``-th power is one half (Q32 fixed point,
found by bisection as the runtime does), and each successful registration multiplies it by
``burn_increase_mult`` (default 1.26) at once, so later registrations in the same block pay
more. Both steps clamp to ``[min_burn, max_burn]``. A burst of registrations above about one
per ``half_life / log2(mult)`` blocks therefore pushes the price up; quiet blocks bring it
back to the floor. The SDK (bittensor 11) reads ``BurnHalfLife`` and ``BurnIncreaseMult``
and calls ``adjustment_interval``/``target_regs_per_interval`` historical.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simnet.records import Subnet

ONE_Q32 = 1 << 32


def mul_by_q32(value: int, factor_q32: int) -> int:
    return min((value * factor_q32) >> 32, (1 << 64) - 1)


def pow_q32(base_q32: int, exp: int) -> int:
    result, factor = ONE_Q32, base_q32
    while exp > 0:
        if exp & 1:
            result = mul_by_q32(result, factor)
        exp >>= 1
        if exp:
            factor = mul_by_q32(factor, factor)
    return result


@cache
def decay_factor_q32(half_life: int) -> int:
    """The largest Q32 factor whose ``half_life``-th power is at most one half."""
    if half_life == 0:
        return ONE_Q32
    lo, hi = 0, ONE_Q32
    while lo + 1 < hi:
        mid = lo + ((hi - lo) >> 1)
        if pow_q32(mid, half_life) > ONE_Q32 >> 1:
            hi = mid
        else:
            lo = mid
    return lo


def clamp(sn: Subnet, burn: int) -> int:
    return max(sn.min_burn_rao, min(sn.max_burn_rao, burn))


def decay(sn: Subnet, block: int) -> bool:
    """Block start: decay toward ``min_burn``. True if the burn changed."""
    burn = sn.burn_rao
    if sn.burn_half_life > 0 and block > 1:
        burn = mul_by_q32(burn, decay_factor_q32(sn.burn_half_life))
    burn = clamp(sn, burn)
    changed = burn != sn.burn_rao
    sn.burn_rao = burn
    return changed


def bump(sn: Subnet) -> None:
    """After a successful registration: multiply by ``burn_increase_mult`` (at least 1),
    in U64F64 as the runtime stores it, then clamp."""
    mult_bits = max(round(sn.burn_increase_mult * (1 << 64)), 1 << 64)
    sn.burn_rao = clamp(sn, (sn.burn_rao * mult_bits) >> 64)
