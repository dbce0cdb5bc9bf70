"""Yuma3 and liquid alpha: torch (simnet.yuma + simnet.yuma3) against the per-element sparse
reference, the entry-present semantics of the on-chain sparse epoch, and hand cases.

u16 values agree to 1 LSB and rao to 2 rao where float rounding lands either side of a floor
(yuma.md section 4).
"""

from __future__ import annotations

import dataclasses
import random

import pytest
import torch

from simnet.yuma import U16_MAX, EpochInputs, EpochOutputs, run_epoch
from simnet.yuma3 import LiquidAlpha, liquid_alphas
from tests.support.yuma import F64, RAO, both, random_votes
from tests.support.yuma import world as support_world


def world(*args: object, **kwargs: object) -> EpochInputs:
    """A world on Yuma3 whose ``weights`` keys are the stored entries, zeros included."""
    kwargs.setdefault("yuma3", True)
    return support_world(*args, entries=True, **kwargs)  # type: ignore[arg-type]


def random_world(seed: int, n: int, density: float, liquid: bool) -> EpochInputs:
    rng = random.Random(seed)
    stake, permits, weights = random_votes(rng, n, density, top_stake=1e15, explicit_zeros=True)
    bonds = {
        (i, j): rng.randint(0, 65535) for i in range(n) for j in range(n) if rng.random() < 0.4
    }
    return world(
        stake,
        weights,
        permits,
        bonds=bonds,
        last_update=[rng.choice([990, 990, 990, 800, 100, 0]) for _ in range(n)],
        registered=[rng.choice([0, 0, 0, 0, 0, 500, 700, 995]) for _ in range(n)],
        max_validators=rng.choice([4, 8, 64]),
        owner_uid=rng.choice([None, 0, n - 1]),
        bonds_penalty_u16=rng.choice([65535, 0, 40000]),
        bonds_moving_average=rng.choice([900_000, 975_000]),
        liquid_alpha=liquid,
        alpha_low_u16=rng.choice([45875, 1638]),
        alpha_high_u16=rng.choice([58982, 65535]),
        alpha_sigmoid_steepness=rng.choice([1000, 100, -500]),
        rao_emission=rng.choice([RAO, 123_456_789_012]),
    )


@pytest.mark.parametrize("liquid", [False, True], ids=["liquid-off", "liquid-on"])
@pytest.mark.parametrize(("n", "density"), [(6, 0.9), (17, 1.0), (40, 0.15), (64, 0.05)])
@pytest.mark.parametrize("seed", range(5))
def test_torch_and_reference_agree_on_random_yuma3_worlds(
    liquid: bool, n: int, density: float, seed: int
) -> None:
    both(random_world(seed * 100 + n, n, density, liquid))


@pytest.mark.parametrize("liquid", [False, True], ids=["liquid-off", "liquid-on"])
def test_torch_and_reference_agree_over_chained_yuma3_epochs(liquid: bool) -> None:
    inputs = random_world(7, 24, 0.3, liquid)
    for step in range(5):
        out = both(inputs)
        inputs = dataclasses.replace(
            inputs,
            block=inputs.block + inputs.tempo,
            last_step_block=inputs.block,
            validator_permit=out.validator_permit,
            bonds=out.bonds,
            last_update=torch.full_like(inputs.last_update, inputs.block + inputs.tempo - 5 - step),
        )


def test_liquid_alpha_and_its_settings_change_nothing_under_original_yuma() -> None:
    original = dataclasses.replace(random_world(3, 30, 0.3, False), yuma3=False)
    with_liquid = dataclasses.replace(
        original, liquid_alpha=True, alpha_low_u16=1638, alpha_high_u16=65535
    )
    a, b = run_epoch(original), run_epoch(with_liquid)
    for field in dataclasses.fields(EpochOutputs):
        assert torch.equal(getattr(a, field.name), getattr(b, field.name)), field.name


def test_yuma3_bonds_are_absolute_and_stored_without_upscaling() -> None:
    # One validator, one miner, no prior bond: B_new = 0.1 * W~ = 0.1, stored floor(0.1 * 65535).
    out = both(world([1e12, 0.0], {(0, 1): 65535}, [0], liquid_alpha=False))
    assert int(out.bonds[0, 1]) == 6553
    assert int(out.dividends[0]) == U16_MAX


def test_original_yuma_upscales_the_same_bond_to_full_scale() -> None:
    out = both(world([1e12, 0.0], {(0, 1): 65535}, [0], yuma3=False))
    assert int(out.bonds[0, 1]) == U16_MAX


def test_yuma3_dividends_weigh_normalised_bonds_by_active_stake() -> None:
    # Equal bonds on the one miner, stake 3:1 -> dividends 3:1 (original Yuma would give
    # equal dividends from equal bonds).
    bonds = {(0, 2): 30000, (1, 2): 30000}
    out = both(world([3e12, 1e12, 0.0], {(0, 2): 65535, (1, 2): 65535}, [0, 1], bonds=bonds))
    assert abs(int(out.dividends[0]) - 3 * int(out.dividends[1])) <= 3


def test_liquid_alpha_stays_within_its_bounds_and_grows_with_disagreement() -> None:
    la = LiquidAlpha(low_u16=45875, high_u16=58982, steepness=1000)
    consensus = torch.tensor([0.5, 0.5, 0.5], dtype=F64)
    w = torch.tensor([[0.5, 0.8, 1.0]], dtype=F64)  # buying: diff = w - C = 0, 0.3, 0.5
    b = torch.zeros(1, 3, dtype=F64)
    a = liquid_alphas(w, b, consensus, la)[0].tolist()
    assert 45875 / U16_MAX <= a[0] < a[1] < a[2] <= 58982 / U16_MAX
    assert a[2] == pytest.approx((45875 + 0.5 * (58982 - 45875)) / U16_MAX)


def test_an_omitted_weight_drops_the_bond_under_liquid_alpha_while_an_explicit_zero_decays_it():
    # Validator 0 stores an explicit 0 on miner 2 and nothing on miner 3; both bonds are 40000.
    weights = {(0, 1): 65535, (0, 2): 0}
    bonds = {(0, 1): 40000, (0, 2): 40000, (0, 3): 40000}
    out = both(world([1e12, 0.0, 0.0, 0.0], weights, [0], bonds=bonds, liquid_alpha=True))
    assert 0 < int(out.bonds[0, 2]) < 40000  # decayed by (1 - a)
    assert int(out.bonds[0, 3]) == 0  # no W~ entry: mat_ema_alpha_sparse emits nothing


def test_without_liquid_alpha_an_omitted_weight_decays_the_bond_like_an_explicit_zero():
    weights = {(0, 1): 65535, (0, 2): 0}
    bonds = {(0, 1): 40000, (0, 2): 40000, (0, 3): 40000}
    out = both(world([1e12, 0.0, 0.0, 0.0], weights, [0], bonds=bonds, liquid_alpha=False))
    assert int(out.bonds[0, 2]) == int(out.bonds[0, 3]) == 36000


def test_a_weight_clipped_to_zero_consensus_drops_its_bond_under_liquid_alpha() -> None:
    # Validator 1 (stake 1/4) alone weights miner 3: consensus there is 0, so the clipped entry
    # is removed and validator 1's bond on miner 3 goes; the dense epoch would decay it.
    weights = {(0, 2): 65535, (1, 2): 65535, (1, 3): 65535}
    bonds = {(1, 3): 50000}
    out = both(world([3e12, 1e12, 0.0, 0.0], weights, [0, 1], bonds=bonds, liquid_alpha=True))
    assert int(out.consensus[3]) == 0
    assert int(out.bonds[1, 3]) == 0


def test_bad_weight_entries_are_refused_with_the_field_name() -> None:
    with pytest.raises(ValueError, match="weight_entries"):
        world([1.0, 1.0], {}, [0], weight_entries=torch.zeros(3, 3, dtype=torch.bool))
