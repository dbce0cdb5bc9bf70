"""Yuma consensus epoch, vectorised in torch (float64), after subtensor's ``epoch_mechanism``.

One call of :func:`run_epoch` is one epoch of one subnet: it takes the stored chain state
(stake, u16 weights, u16 bonds, last updates, registration blocks, the permits stored by the
previous epoch) and returns what the chain persists (active, new permits, consensus, incentive,
dividends, validator trust as u16, emission in rao, new u16 bonds). The steps and their order
follow section 2 of the team notes' ``yuma.md`` (shared docs), i.e. the on-chain sparse epoch
of subtensor 2025-2026 with ``Yuma3On = false`` (``Yuma3On = true`` replaces step 9, see
:mod:`simnet.yuma3`):

1. ``active_i = last_update_i + activity_cutoff >= block``.
2. ``S = normalize(stake)``.
3. Permits used = the ones stored by the previous epoch (owner forced on); new permits =
   top-k nonzero stake (stable ascending sort drops the lowest n-k, so on equal stake the
   higher uid wins), owner forced on.
4. ``S_act = normalize(S`` masked to active and permitted``)``.
5. Weights: rows of non-permitted uids dropped, diagonal dropped except the owner's
   self-weight, ``W_ij`` dropped when ``last_update_i <= block_at_registration_j``, rows
   normalised.
6. Consensus ``C_j = max{w : sum_i S_i [W_ij >= w] >= kappa}`` over rows with positive
   ``S_act``, renormalised, kappa = ``kappa_u16 / 65535`` (32767/65535, not 0.5).
7. ``W_clip = min(W, C)``; validator trust ``Tv_i = sum_j W_clip_ij``; rank
   ``R = W_clip^T S_act``; incentive ``I = normalize(R)``.
8. ``W~ = W + beta (W_clip - W)`` with ``beta = bonds_penalty_u16 / 65535``.
9. Bonds (original Yuma): stored bonds with recently registered columns dropped
   (``last_tempo <= block_at_registration_j``), column-normalised; ``dB = colnorm(W~ * S_act)``;
   ``B_ema = colnorm(a dB + (1 - a) B)`` with ``a = 1 - bonds_moving_average / 1e6``;
   ``D = normalize(B_ema I)``; stored as ``floor(65535 * colmaxupscale(B_ema))``. Rows with a new
   permit get the new row, rows that lost their permit are cleared, others keep their stored row.
10. Emission: ``E_sum = sum(I) + sum(D)``; server ``I / E_sum``, validator ``D / E_sum``,
    combined ``normalize(I + D)``; when ``E_sum == 0`` validator and combined fall back to
    ``S_act`` (or ``S`` when ``S_act`` is all zero). Each share becomes ``floor(share * rao)``.
11. u16 outputs are ``floor(x * 65535)`` clamped to [0, 65535]. Every normalisation of a
    zero-sum vector, row or column returns its input unchanged (never NaN).

Simplifications relative to the on-chain sparse epoch (every one of them):

- **Float64, not fixed point.** The runtime computes in I32F32/I64F64 with truncating division;
  this computes in IEEE float64. Single-epoch u16 outputs land within 1 LSB and rao within about
  2 rao per uid of the runtime (yuma.md section 4). Stored bonds still make the u16 round trip,
  because the caller feeds ``outputs.bonds`` back as the next ``inputs.bonds``.
- **Yuma3 and liquid alpha** (``inputs.yuma3``, ``inputs.liquid_alpha``) are the bonds branch
  in :mod:`simnet.yuma3`; steps 1-8 are shared, step 9 is replaced there. Liquid alpha is read
  only under Yuma3, as on chain.
- **Entry-present mask only where it matters.** In the original-Yuma branch and in Yuma3 with
  liquid alpha off, every sparse-only drop removes an entry whose value is exactly 0 (weights
  clipped to ``C_j <= 0``, zeros removed by ``interpolate_sparse``, the ``> 0`` filter of
  ``mat_ema_sparse``, missing bond entries), and a zero entry contributes nothing to any later
  sum, max or product, so dense tensors give the sparse result. The Yuma3 liquid-alpha EMA
  emits only entries present in ``W~``, so there the stored entries (``weight_entries``,
  explicit zeros included) travel as a bool mask through the row, diagonal, outdated, clip and
  interpolation masks (:mod:`simnet.yuma3`). The runtime's test-only ``epoch_dense`` (which
  decays those bonds instead) is not reproduced.
- **The liquid-alpha ``exp`` is float64 ``exp``**, not substrate_fixed's (differences ~1e-9).
- **Owner handling follows the sparse path, not ``epoch_dense``:** the owner's self-weight is
  kept and the owner's permit is forced on (used and new). The owner's exemption from
  ``StakeThreshold`` is moot because there is no threshold (next item).
- **No ``StakeThreshold``.** Stake below a threshold is not zeroed (the runtime default is 0,
  which zeroes nothing).
- **Stake is taken as given.** The caller passes ``alpha + tao_weight * tao`` in raw units; the
  runtime uses *inherited* alpha and root TAO (child/parent delegation netted out) and
  ``TaoWeight`` from storage. Normalisation is one float64 step, not I64F64 then truncated to
  I32F32.
- **Commit-reveal mask is not applied.** With commit-reveal on, the runtime also drops ``W_ij``
  when i's earliest unexpired commit predates j's registration; simnet refuses commit-reveal
  weight setting, so there is nothing to mask.
- **Activity cutoff is a block count given by the caller** (the runtime now derives it from
  ``ActivityCutoffFactorMilli * tempo / 1000``; the caller does that).
- **``last_tempo``** is ``last_step_block + 1``, or ``block - tempo`` when ``last_step_block``
  is 0 (never stepped), as yuma.md describes for the current runtime.
- **Coinbase is out of scope.** ``rao_emission`` is whatever the caller distributes this epoch;
  the owner cut, the root/alpha dividend split, parent/child takes and "validators take the miner
  half when total incentive is 0" (``run_coinbase.rs``) are not done here.
- **Deprecated outputs are not computed:** rank, server trust and pruning score (the runtime
  removed them; their getters return 0, 0 and u16::MAX).
- **Inputs are trusted to be u16-ranged.** Shapes, dtypes and vector values are checked; matrix
  values are not scanned (that is an extra n^2 pass).

The torch path never materialises the n x n clipped-weight or EMA-bond matrices: weights are only
nonzero on permitted rows, so consensus, trust, ranks and bond deltas work on those rows
(``[p, n]``, p <= max_validators + owner), and the bond EMA is folded into per-column factors
applied to the stored bonds (``colnorm`` then ``(1 - a)`` then the recent-registration mask is one
column scale). Only rows that get written back are formed explicitly. At n = 4096 that is four
passes over the stored bond matrix (column sum, column max, one matrix-vector product, the copy
for the output) and no other n x n work.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from simnet.yuma3 import LiquidAlpha, yuma3_bonds_and_dividends

U16_MAX = 65535

_VECTOR_FIELDS = (
    "stake",
    "last_update",
    "block_at_registration",
    "validator_permit",
)
_MATRIX_FIELDS = ("weights", "bonds")


@dataclass(frozen=True)
class EpochInputs:
    """Stored chain state one epoch reads. Tensors are never modified by :func:`run_epoch`."""

    block: int  # current block
    stake: torch.Tensor  # [n] float64 raw stake units (alpha rao + tao_weight * tao rao)
    weights: torch.Tensor  # [n, n] float64 stored u16 values, row i = i's weights; 0 = none
    last_update: torch.Tensor  # [n] int64 block of each uid's last weight set
    block_at_registration: torch.Tensor  # [n] int64
    validator_permit: torch.Tensor  # [n] bool: permits stored by the previous epoch
    bonds: torch.Tensor  # [n, n] float64 stored u16 bonds
    activity_cutoff: int
    max_validators: int
    last_step_block: int  # block of the previous epoch step (bond-column mask)
    tempo: int
    rao_emission: int  # alpha rao to distribute this epoch
    owner_uid: int | None = None
    kappa_u16: int = 32767
    bonds_moving_average: int = 900_000
    bonds_penalty_u16: int = 65535
    yuma3: bool = False  # Yuma3On: the Yuma3 bonds/dividends branch (simnet.yuma3)
    liquid_alpha: bool = False  # LiquidAlphaOn; read only when yuma3 is on
    alpha_low_u16: int = 45875  # AlphaValues low
    alpha_high_u16: int = 58982  # AlphaValues high
    alpha_sigmoid_steepness: int = 1000  # AlphaSigmoidSteepness (i16, divided by 100)
    # [n, n] bool: which weight entries are stored (explicit zeros included). None: the nonzero
    # ones. Only the Yuma3 liquid-alpha EMA can tell an explicit zero from a missing entry.
    weight_entries: torch.Tensor | None = None

    def __post_init__(self) -> None:
        for name in (*_VECTOR_FIELDS, *_MATRIX_FIELDS):
            if not isinstance(getattr(self, name), torch.Tensor):
                raise TypeError(
                    f"EpochInputs.{name} must be a torch.Tensor, "
                    f"got {type(getattr(self, name)).__name__}; wrap it with torch.tensor(...)"
                )
        if self.stake.dim() != 1:
            raise ValueError(
                f"EpochInputs.stake must be 1-D [n], got shape {tuple(self.stake.shape)}"
            )
        n = self.stake.shape[0]
        for name in _VECTOR_FIELDS:
            shape = tuple(getattr(self, name).shape)
            if shape != (n,):
                raise ValueError(
                    f"EpochInputs.{name} has shape {shape}; it must be ({n},) like stake"
                )
        for name in _MATRIX_FIELDS:
            shape = tuple(getattr(self, name).shape)
            if shape != (n, n):
                raise ValueError(
                    f"EpochInputs.{name} has shape {shape}; it must be ({n}, {n}) for {n} uids"
                )
        entries = self.weight_entries
        if entries is not None and (
            not isinstance(entries, torch.Tensor)
            or tuple(entries.shape) != (n, n)
            or entries.dtype != torch.bool
        ):
            raise ValueError(
                f"EpochInputs.weight_entries must be None or a bool tensor of shape ({n}, {n}); "
                "pass (weights != 0) or the stored entry mask"
            )
        if self.validator_permit.dtype != torch.bool:
            raise ValueError(
                f"EpochInputs.validator_permit must be a bool tensor, got "
                f"{self.validator_permit.dtype}; pass permits.to(torch.bool)"
            )
        if n and (not bool(torch.isfinite(self.stake).all()) or bool((self.stake < 0).any())):
            raise ValueError("EpochInputs.stake must be finite and non-negative")
        for name, lo, hi in (
            ("kappa_u16", 0, U16_MAX),
            ("bonds_penalty_u16", 0, U16_MAX),
            ("bonds_moving_average", 0, 1_000_000),
            ("alpha_low_u16", 0, U16_MAX),
            ("alpha_high_u16", 0, U16_MAX),
            ("alpha_sigmoid_steepness", -32768, 32767),
        ):
            value = getattr(self, name)
            if not lo <= value <= hi:
                raise ValueError(f"EpochInputs.{name} is {value}; it must be in [{lo}, {hi}]")
        for name in ("activity_cutoff", "max_validators", "tempo", "rao_emission", "block"):
            if getattr(self, name) < 0:
                raise ValueError(f"EpochInputs.{name} must be >= 0, got {getattr(self, name)}")
        if self.owner_uid is not None and not 0 <= self.owner_uid < max(n, 1):
            raise ValueError(
                f"EpochInputs.owner_uid is {self.owner_uid}; it must be a uid in [0, {n}) or None"
            )

    @property
    def n(self) -> int:
        return int(self.stake.shape[0])

    @property
    def last_tempo(self) -> int:
        """First block of the window whose registrations lose their bond column."""
        if self.last_step_block > 0:
            return self.last_step_block + 1
        return max(0, self.block - self.tempo)


@dataclass(frozen=True)
class EpochOutputs:
    """What the chain persists after one epoch."""

    active: torch.Tensor  # [n] bool
    validator_permit: torch.Tensor  # [n] bool, new permits (persisted, used next epoch)
    consensus: torch.Tensor  # [n] int64 u16
    incentive: torch.Tensor  # [n] int64 u16
    dividends: torch.Tensor  # [n] int64 u16
    validator_trust: torch.Tensor  # [n] int64 u16
    emission: torch.Tensor  # [n] int64 rao (server + validator share)
    server_emission: torch.Tensor  # [n] int64 rao
    validator_emission: torch.Tensor  # [n] int64 rao
    bonds: torch.Tensor  # [n, n] float64 new stored u16 bonds


F64 = torch.float64


def _normalize(x: torch.Tensor) -> torch.Tensor:
    """x / sum(x); a zero-sum vector comes back unchanged (the runtime's ``inplace_normalize``)."""
    total = x.sum()
    return x / total if bool(total != 0) else x.clone()


def _safe_div(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    """num / den, leaving num unchanged where den == 0 (a zero-sum column is left alone)."""
    return num / (den + (den == 0))


def _to_u16(x: torch.Tensor) -> torch.Tensor:
    """``fixed_proportion_to_u16``: floor(x * 65535), saturating."""
    return torch.floor(x * U16_MAX).clamp_(0, U16_MAX).to(torch.int64)


def _to_rao(share: torch.Tensor, rao_emission: int) -> torch.Tensor:
    return torch.floor(share * float(rao_emission)).clamp_(min=0).to(torch.int64)


def topk_nonzero(stake: torch.Tensor, k: int) -> torch.Tensor:
    """``is_topk_nonzero``: nonzero entries, minus the lowest n - k by a stable ascending sort.

    A stable ascending sort puts the lower uid first among equal stakes, so it is dropped first:
    on a tie the higher uid keeps its permit.
    """
    n = stake.shape[0]
    result = stake != 0
    if n <= k:
        return result
    order = torch.sort(stake, stable=True).indices
    result[order[: n - k]] = False
    return result


def weighted_median_cols(stake: torch.Tensor, scores: torch.Tensor, kappa: float) -> torch.Tensor:
    """``C_j = max{w : sum_i s_i [scores_ij >= w] >= kappa}`` for every column at once.

    ``stake`` [m] is already restricted to positive stakes and normalised; ``scores`` [m, n].
    Sorting each column descending and accumulating the stakes in that order, the first
    position whose cumulative stake reaches kappa holds the answer: every larger score has less
    than kappa of stake at or above it. With no rows, or if kappa is never reached, C_j = 0.
    """
    m, n = scores.shape
    if m == 0:
        return torch.zeros(n, dtype=F64)
    # One column per row of the transposed copy: sorting and scanning along contiguous memory.
    values, order = torch.sort(scores.t().contiguous(), dim=1, descending=True)
    cum = torch.cumsum(stake[order], dim=1)
    reached = cum >= kappa
    first = torch.argmax(reached.to(torch.uint8), dim=1)
    median = values.gather(1, first.unsqueeze(1)).squeeze(1)
    return torch.where(reached[:, -1], median, 0.0)


def _empty_outputs() -> EpochOutputs:
    flag = torch.zeros(0, dtype=torch.bool)
    u16 = torch.zeros(0, dtype=torch.int64)
    return EpochOutputs(
        active=flag,
        validator_permit=flag.clone(),
        consensus=u16,
        incentive=u16.clone(),
        dividends=u16.clone(),
        validator_trust=u16.clone(),
        emission=u16.clone(),
        server_emission=u16.clone(),
        validator_emission=u16.clone(),
        bonds=torch.zeros(0, 0, dtype=F64),
    )


def run_epoch(inputs: EpochInputs) -> EpochOutputs:
    """One Yuma epoch (original bonds), vectorised; see the module docstring for the steps."""
    n = inputs.n
    if n == 0:
        return _empty_outputs()
    stake_raw = inputs.stake.to(F64)
    last_update = inputs.last_update.to(torch.int64)
    registered = inputs.block_at_registration.to(torch.int64)
    owner = inputs.owner_uid
    kappa = inputs.kappa_u16 / U16_MAX
    beta = inputs.bonds_penalty_u16 / U16_MAX
    alpha = 1.0 - inputs.bonds_moving_average / 1_000_000

    active = last_update + inputs.activity_cutoff >= inputs.block

    stake = _normalize(stake_raw)

    permit = inputs.validator_permit.clone()
    new_permit = topk_nonzero(stake, inputs.max_validators)
    if owner is not None:
        permit[owner] = True
        new_permit[owner] = True

    stake_act = _normalize(stake * (active & permit))

    # Only permitted rows can carry weight; work on those p rows.
    rows = torch.nonzero(permit).squeeze(1)
    w = inputs.weights.index_select(0, rows).to(F64)
    keep = last_update[rows].unsqueeze(1) > registered.unsqueeze(0)
    self_col = rows != owner if owner is not None else torch.ones_like(rows, dtype=torch.bool)
    keep[torch.arange(rows.shape[0])[self_col], rows[self_col]] = False
    w.mul_(keep)
    w = _safe_div(w, w.sum(dim=1, keepdim=True))
    if inputs.yuma3:
        stored = inputs.weight_entries
        entries = (stored.index_select(0, rows) if stored is not None else w != 0) & keep

    s_rows = stake_act[rows]
    voters = s_rows > 0
    consensus = weighted_median_cols(_normalize(s_rows[voters]), w[voters], kappa)

    w_clip = torch.minimum(w, consensus.unsqueeze(0))
    validator_trust = torch.zeros(n, dtype=F64)
    validator_trust[rows] = w_clip.sum(dim=1)
    incentive = _normalize(s_rows @ w_clip)

    if beta == 0.0:
        w_bonds = w
    elif beta == 1.0:
        w_bonds = w_clip
    else:
        w_bonds = w + beta * (w_clip - w)
    bonds = inputs.bonds.to(F64)
    recent = inputs.last_tempo <= registered
    if inputs.yuma3:
        dividends_and_bonds = yuma3_bonds_and_dividends(
            bonds_u16=bonds,
            recent=recent,
            permit=permit,
            new_permit=new_permit,
            rows=rows,
            w_bonds=w_bonds,
            w_bonds_present=_bond_weight_entries(entries, w, w_bonds, consensus, beta),
            consensus=consensus,
            incentive=incentive,
            stake_act=stake_act,
            alpha=alpha,
            liquid=LiquidAlpha(
                inputs.alpha_low_u16, inputs.alpha_high_u16, inputs.alpha_sigmoid_steepness
            )
            if inputs.liquid_alpha
            else None,
        )
    else:
        del w
        # Bonds. B_ema = colnorm(a * dB + (1 - a) * colnorm(B_masked)); with B_masked = B * mask,
        # (1 - a) * colnorm(B_masked) = B * f where f_j folds the column mask, the column sum and
        # (1 - a). dB lives on the permitted rows only.
        col_sum = bonds.sum(dim=0)
        f = torch.where(recent | (col_sum == 0), 0.0, (1.0 - alpha) / col_sum)
        delta = w_bonds * s_rows.unsqueeze(1)
        del w_bonds, w_clip
        delta_sum = delta.sum(dim=0)
        delta = _safe_div(delta, delta_sum.unsqueeze(0)).mul_(alpha)
        # Rows formed explicitly: permitted rows (they carry dB) and rows written back.
        written = torch.nonzero(new_permit).squeeze(1)
        formed_mask = permit | new_permit
        formed = torch.nonzero(formed_mask).squeeze(1)
        position = torch.cumsum(formed_mask, dim=0) - 1  # uid -> its row in ema_formed
        ema_formed = bonds.index_select(0, formed).mul_(f)
        ema_formed.index_add_(0, position[rows], delta)
        ema_col_sum = col_sum * f + delta.sum(dim=0)
        del delta
        # D_i = sum_j B_ema_ij I_j / ema_col_sum_j; the untouched rows are B * f.
        g = _safe_div(incentive, ema_col_sum) * (ema_col_sum != 0)
        dividends = bonds.mv(f * g)
        dividends[formed] = ema_formed @ g
        dividends = _normalize(dividends)

        # Column max of B_ema (scale-free, so of the un-normalised form): on untouched rows it is
        # f * max(B); formed rows are at least f * B, so including them in max(B) is harmless.
        col_max = bonds.amax(dim=0) * f
        if formed.numel():
            col_max = torch.maximum(col_max, ema_formed.amax(dim=0))
        new_bonds = bonds.clone()
        write_pos = position[written]
        upscaled = _safe_div(ema_formed.index_select(0, write_pos), col_max.unsqueeze(0))
        new_bonds.index_copy_(0, written, upscaled.mul_(U16_MAX).floor_().clamp_(0, U16_MAX))
        new_bonds.index_fill_(0, torch.nonzero(permit & ~new_permit).squeeze(1), 0.0)
        dividends_and_bonds = (dividends, new_bonds)
    return _finish(
        inputs,
        active=active,
        stake=stake,
        stake_act=stake_act,
        new_permit=new_permit,
        consensus=consensus,
        incentive=incentive,
        validator_trust=validator_trust,
        dividends_and_bonds=dividends_and_bonds,
    )


def _bond_weight_entries(
    entries: torch.Tensor,
    w: torch.Tensor,
    w_bonds: torch.Tensor,
    consensus: torch.Tensor,
    beta: float,
) -> torch.Tensor:
    """Which ``W~`` entries the sparse runtime holds: ``col_clip_sparse`` drops an entry clipped
    to ``C_j <= 0``; ``interpolate_sparse`` keeps only positive entries for 0 < beta < 1."""
    if beta == 0.0:
        return entries
    if beta == 1.0:
        c = consensus.unsqueeze(0)
        return entries & ~((c < w) & (c <= 0))
    return w_bonds > 0


def _finish(
    inputs: EpochInputs,
    *,
    active: torch.Tensor,
    stake: torch.Tensor,
    stake_act: torch.Tensor,
    new_permit: torch.Tensor,
    consensus: torch.Tensor,
    incentive: torch.Tensor,
    validator_trust: torch.Tensor,
    dividends_and_bonds: tuple[torch.Tensor, torch.Tensor],
) -> EpochOutputs:
    """Emission shares (both branches) and the u16 / rao outputs."""
    dividends, new_bonds = dividends_and_bonds
    combined = incentive + dividends
    emission_sum = combined.sum()
    if bool(emission_sum != 0):
        server_share = incentive / emission_sum
        validator_share = dividends / emission_sum
        combined_share = _normalize(combined)
    else:
        server_share = incentive
        fallback = stake if bool(stake_act.sum() == 0) else stake_act
        validator_share = fallback
        combined_share = fallback

    return EpochOutputs(
        active=active,
        validator_permit=new_permit,
        consensus=_to_u16(consensus),
        incentive=_to_u16(incentive),
        dividends=_to_u16(dividends),
        validator_trust=_to_u16(validator_trust),
        emission=_to_rao(combined_share, inputs.rao_emission),
        server_emission=_to_rao(server_share, inputs.rao_emission),
        validator_emission=_to_rao(validator_share, inputs.rao_emission),
        bonds=new_bonds,
    )
