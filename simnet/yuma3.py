"""Yuma3 bonds and dividends (``Yuma3On = true``), with liquid alpha, vectorised in torch.

The branch of subtensor's ``epoch_mechanism`` that :func:`simnet.yuma.run_epoch` takes when the
subnet has ``Yuma3On``; everything before the bonds (permits, masks, consensus, clip, incentive,
``W~``) is shared with original Yuma. The rules, from yuma.md section 2 step 11:

- ``B = stored_u16 / 65535``: absolute bonds in [0, 1], not normalised; columns of uids
  registered since the last step are dropped.
- Liquid alpha on and some ``C_j != 0``: ``B_new_ij = min(1, (1 - a_ij) B_ij + max(0, a_ij W~_ij))``
  with ``a_ij = clamp(low + sigmoid(steepness / 100 * (diff - 0.5)) (high - low), low, high)``,
  ``diff = clamp(W~_ij - C_j, 0, 1)`` when ``W~_ij >= B_ij`` else ``clamp(B_ij - W~_ij, 0, 1)``
  (the ``exp`` input clamped to +-20). Only entries *present* in ``W~`` get an output
  (``mat_ema_alpha_sparse``): a bond whose weight entry is absent is dropped, not decayed.
- Otherwise ``B_new = a W~ + (1 - a) B`` over the union of entries, ``a = 1 - BMA / 1e6``.
- ``D_i = normalize(S_act_i * sum_j colnorm(B_new)_ij I_j)``.
- Stored as ``floor(B_new * 65535)``, no upscaling; rows with a new permit get the new row, rows
  that lost their permit are cleared, other rows keep what they had.

The entry-present mask is what makes this the on-chain *sparse* result: ``W~`` presence is the
stored weight entries (explicit zeros included) after the row, diagonal and outdated masks;
``col_clip_sparse`` removes an entry clipped to ``C_j <= 0``; ``interpolate_sparse`` keeps only
``> 0`` entries for a bonds penalty strictly between 0 and 1. A dense implementation (the
runtime's test-only ``epoch_dense``) would decay those bonds instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

F64 = torch.float64
U16_MAX = 65535
EXP_CLAMP = 20.0  # substrate_fixed's exp_safe saturates its input here


@dataclass(frozen=True)
class LiquidAlpha:
    """``AlphaValues`` (u16 low, high) and ``AlphaSigmoidSteepness`` (i16, divided by 100)."""

    low_u16: int = 45875
    high_u16: int = 58982
    steepness: int = 1000


def liquid_alphas(
    w_bonds: torch.Tensor, bonds: torch.Tensor, consensus: torch.Tensor, la: LiquidAlpha
) -> torch.Tensor:
    """Per-entry EMA rate ``a_ij`` (``liquid_alpha_sigmoid``) for rows ``w_bonds`` / ``bonds``."""
    low, high = la.low_u16 / U16_MAX, la.high_u16 / U16_MAX
    buy = (w_bonds - consensus.unsqueeze(0)).clamp_(0.0, 1.0)
    sell = (bonds - w_bonds).clamp_(0.0, 1.0)
    diff = torch.where(w_bonds >= bonds, buy, sell)
    x = ((-la.steepness / 100.0) * (diff - 0.5)).clamp_(-EXP_CLAMP, EXP_CLAMP)
    sigmoid = 1.0 / (1.0 + torch.exp(x))
    return (low + sigmoid * (high - low)).clamp_(low, high)


def yuma3_bonds_and_dividends(
    *,
    bonds_u16: torch.Tensor,
    recent: torch.Tensor,
    permit: torch.Tensor,
    new_permit: torch.Tensor,
    rows: torch.Tensor,
    w_bonds: torch.Tensor,
    w_bonds_present: torch.Tensor,
    consensus: torch.Tensor,
    incentive: torch.Tensor,
    stake_act: torch.Tensor,
    alpha: float,
    liquid: LiquidAlpha | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Dividends [n] (normalised) and the new stored u16 bonds [n, n].

    ``rows`` are the permitted uids; ``w_bonds`` / ``w_bonds_present`` are ``W~`` and its entry
    mask on those rows. Only rows that carry ``W~`` or get written back are formed; the column
    sums take the untouched rows' ``(1 - a) B`` from one matrix-vector product.
    """
    keep_col = (~recent).to(F64)
    formed_mask = permit | new_permit
    formed = torch.nonzero(formed_mask).squeeze(1)
    position = torch.cumsum(formed_mask, dim=0) - 1
    old_formed = bonds_u16.index_select(0, formed) / U16_MAX * keep_col
    old_rows = old_formed.index_select(0, position[rows])

    liquid_on = liquid is not None and bool((consensus != 0).any())
    if liquid_on:
        a = liquid_alphas(w_bonds, old_rows, consensus, liquid)
        new_rows = ((1.0 - a) * old_rows + (a * w_bonds).clamp_(min=0.0)).clamp_(max=1.0)
        new_rows = torch.where(w_bonds_present & (new_rows > 0), new_rows, 0.0)
        # Rows without W~ entries (no permit last epoch) produce no bonds at all.
        ema_formed = torch.zeros_like(old_formed)
        col_sum = new_rows.sum(dim=0)
    else:
        new_rows = alpha * w_bonds + (1.0 - alpha) * old_rows
        ema_formed = (1.0 - alpha) * old_formed
        others = (~permit).to(F64)
        col_sum = (1.0 - alpha) * (bonds_u16.t().mv(others) / U16_MAX * keep_col)
        col_sum = col_sum + new_rows.sum(dim=0)
    ema_formed.index_copy_(0, position[rows], new_rows)

    n = bonds_u16.shape[0]
    g = torch.where(col_sum != 0, incentive / torch.where(col_sum != 0, col_sum, 1.0), 0.0)
    dividends = torch.zeros(n, dtype=F64)
    dividends[rows] = (new_rows @ g) * stake_act[rows]
    total = dividends.sum()
    if bool(total != 0):
        dividends = dividends / total

    new_bonds = bonds_u16.clone()
    written = torch.nonzero(new_permit).squeeze(1)
    stored = ema_formed.index_select(0, position[written]).mul_(U16_MAX).floor_()
    new_bonds.index_copy_(0, written, stored.clamp_(0, U16_MAX))
    new_bonds.index_fill_(0, torch.nonzero(permit & ~new_permit).squeeze(1), 0.0)
    return dividends, new_bonds
