"""The scenario's ``root:`` and ``emission:`` blocks and how they set up :mod:`simnet.economy`.

``root: {tempo, tao_weight, stakes: [{hotkey, tao}]}`` creates netuid 0 with ``TaoWeight`` =
``tao_weight`` of u64::MAX and stakes TAO on root for each hotkey from its owning coldkey
(funded for it at genesis), so those hotkeys' stake weight on every subnet includes
``tao_weight x root TAO``.

``emission: {tao_per_block, ...}`` switches the chain to the ranked schedule: ``tao_per_block``
TAO per block now (today's chain pays 0.5 since the December 2025 halving), halved as
issuance crosses the next midpoint of the remaining supply (or every ``halving_interval``
blocks), shared among subnets as the chain shares it (EMA price, miner burn, the soft gate
around the 32nd-largest share, ``SubnetEmissionEnabled``: :mod:`simnet.emission_shares`).
Without the block every subnet accrues its own ``emission_tao_per_block`` and no TAO is
injected (the old per-subnet rule).

Simplified: root stakes are placed at genesis by the world, not by signed ``add_stake`` calls;
see :mod:`simnet.economy` for what the schedule and the split leave out.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from common.config import StrictModel
from simnet.economy import U64_MAX, EmissionSchedule
from simnet.records import RAO_PER_TAO

if TYPE_CHECKING:
    from simnet.state import Chain

PosInt = Annotated[int, Field(gt=0)]


class RootStake(StrictModel):
    hotkey: str  # a simulated neuron's name or an ss58 address of a registered hotkey
    tao: Annotated[float, Field(gt=0)]


class Root(StrictModel):
    tempo: PosInt = 360
    # Today's mainnet value is about 0.18; the runtime's default is about 0.0527.
    tao_weight: Annotated[float, Field(ge=0, le=1)] = 0.18
    stakes: list[RootStake] = []

    @property
    def tao_weight_parts(self) -> int:
        return round(self.tao_weight * U64_MAX)


class Emission(StrictModel):
    tao_per_block: Annotated[float, Field(gt=0)] = 0.5
    # Total issuance at genesis: past 10.5M TAO the next halving is at 15.75M.
    issuance_tao: Annotated[float, Field(ge=0, lt=21_000_000)] = 10_600_000.0
    halving: Literal["issuance", "block"] = "issuance"
    first_halving_block: Annotated[int, Field(ge=0)] = 0  # halving: block
    halving_interval: PosInt = 10_500_000  # halving: block
    # How fast a subnet's EMA price (what the split weighs) follows its spot price, per block.
    price_ema_alpha: Annotated[float, Field(gt=0, le=1)] = 0.01

    def schedule(self, start_block: int = 1) -> EmissionSchedule:
        """The schedule that pays ``tao_per_block`` at ``start_block`` and halves from there."""
        shape = EmissionSchedule(
            mode="ranked",
            halving=self.halving,
            start_issuance_rao=round(self.issuance_tao * RAO_PER_TAO),
            first_halving_block=self.first_halving_block,
            halving_interval=self.halving_interval,
            price_ema_alpha=self.price_ema_alpha,
        )
        # The schedule halves a base: undo the halvings already behind us so today's block
        # pays tao_per_block.
        past = shape.halvings(shape.start_issuance_rao, start_block)
        base = round(self.tao_per_block * RAO_PER_TAO) << past
        return replace(shape, base_rao=base)


def apply_emission(chain: Chain, emission: Emission) -> None:
    chain.economy.use_schedule(emission.schedule(chain.ledger.building_block))


def create_root(chain: Chain, root: Root) -> None:
    chain.create_root(tao_weight=root.tao_weight_parts, tempo=root.tempo)


def stake_on_root(chain: Chain, hotkey: str, coldkey: str | None, tao: float) -> None:
    """Fund the hotkey's owner (or ``coldkey``) with ``tao`` and stake it on root."""
    owner = coldkey or chain.owner_of(hotkey)
    if owner is None:
        raise ValueError(
            f"hotkey {hotkey} is not registered on any subnet, so no coldkey owns it; "
            "name a simulated neuron or a registered hotkey"
        )
    rao = round(tao * RAO_PER_TAO)
    chain.fund(owner, rao)
    chain.add_stake(owner, hotkey, 0, rao)
