"""Yuma epoch: hand-computed cases, torch against the per-element reference, and properties.

Expected values in the hand cases are worked out in the comments from the rules in
``simnet/yuma.py``'s docstring. u16 values are checked to 1 LSB and rao to 2 rao where float
rounding can land either side of a floor (yuma.md section 4); exact otherwise.
"""

from __future__ import annotations

import dataclasses
import random

import pytest
import torch

from simnet.yuma import U16_MAX, EpochInputs, run_epoch, topk_nonzero
from tests.support.yuma import F64, RAO, both, random_votes, world


def near(actual: torch.Tensor, expected: list[int], tol: int) -> bool:
    return bool(((actual - torch.tensor(expected)).abs() <= tol).all())


# --------------------------------------------------------------------------- hand cases


def test_two_validators_two_miners_hand_computed() -> None:
    # uids: 0, 1 validators (stake 600, 400, both permitted); 2, 3 miners.
    # v0 weights only m2; v1 weights m2 and m3 equally. Rows normalised:
    #   W = v0 [0, 0, 1, 0], v1 [0, 0, .5, .5]; S_act = [.6, .4, 0, 0].
    # Consensus, kappa = 32767/65535 ~ .49999:
    #   m2: sorted 1 (.6) -> cum .6 >= kappa -> C2 = 1.
    #   m3: sorted .5 (.4) -> cum .4 < kappa; then 0 (.6) -> C3 = 0.
    # W_clip = v0 [0, 0, 1, 0], v1 [0, 0, .5, 0]; Tv = [1, .5] -> [65535, floor(32767.5)=32767].
    # R = [0, 0, .6 + .2, 0] -> I = [0, 0, 1, 0].
    # No old bonds; dB col 2 = [.6, .2] / .8 = [.75, .25]; EMA = .1 dB -> colnorm [.75, .25].
    # D = [.75, .25] -> [floor(49151.25)=49151, floor(16383.75)=16383].
    # Stored bonds col 2 upscaled [1, 1/3] -> [65535, 21845] (1/3 * 65535 = 21845 exactly, but
    # float 1/3 is just below, so 21844 is also within the runtime's own rounding).
    # E_sum = 2: server m2 = .5 -> 5e8 rao; validators .375, .125 -> 3.75e8, 1.25e8.
    out = both(world([600, 400, 0, 0], {(0, 2): 65535, (1, 2): 65535, (1, 3): 65535}, [0, 1]))
    assert out.consensus.tolist() == [0, 0, 65535, 0]
    assert out.incentive.tolist() == [0, 0, 65535, 0]
    assert out.validator_trust.tolist() == [65535, 32767, 0, 0]
    assert out.dividends.tolist() == [49151, 16383, 0, 0]
    assert near(out.bonds[:, 2], [65535, 21845, 0, 0], 1)
    assert out.bonds[:, [0, 1, 3]].abs().sum() == 0
    assert near(out.server_emission, [0, 0, 500_000_000, 0], 2)
    assert near(out.validator_emission, [375_000_000, 125_000_000, 0, 0], 2)
    assert near(out.emission, [375_000_000, 125_000_000, 500_000_000, 0], 2)
    assert out.validator_permit.tolist() == [True, True, False, False]
    assert out.active.tolist() == [True, True, True, True]


def test_second_epoch_with_stored_bonds_and_shifted_stake_hand_computed() -> None:
    # Same weights, stake now v0 400 / v1 600; stored bonds col 2 = [65535, 21845] (epoch 1).
    # S_act = [.4, .6]. W = v0 [0, 0, 1, 0], v1 [0, 0, .5, .5].
    # m2: sorted 1 (.4) cum .4 < kappa, .5 (.6) cum 1 -> C2 = .5.  m3: .5 (.6) -> C3 = .5.
    # W_clip = v0 [.5, 0], v1 [.5, .5] on (m2, m3); Tv = [.5, 1] -> [32767, 65535].
    # R = [.2 + .3, .3] = [.5, .3] -> I = [.625, .375] -> [floor(40959.375), floor(24575.625)].
    # Old B col 2 normalised [.75, .25]; col 3 empty.
    # dB col 2 = [.2, .3] -> [.4, .6]; col 3 = [0, .3] -> [0, 1].
    # EMA col 2 = .1 [.4, .6] + .9 [.75, .25] = [.715, .285]; col 3 = [0, .1] -> [0, 1].
    # D = [.715 * .625, .285 * .625 + .375] = [.446875, .553125]
    #   -> [floor(29285.95), floor(36249.05)] = [29285, 36249].
    # Stored col 2 = [1, .285/.715 = .3986014] -> [65535, floor(26122.38) = 26122];
    # col 3 = [0, 65535].
    # Emission (E_sum = 2): miners .3125, .1875; validators .2234375, .2765625 of 1e9.
    out = both(
        world(
            [400, 600, 0, 0],
            {(0, 2): 65535, (1, 2): 65535, (1, 3): 65535},
            [0, 1],
            bonds={(0, 2): 65535, (1, 2): 21845},
        )
    )
    assert out.consensus.tolist() == [0, 0, 32767, 32767]
    assert out.validator_trust.tolist() == [32767, 65535, 0, 0]
    assert near(out.incentive, [0, 0, 40959, 24575], 1)
    assert near(out.dividends, [29285, 36249, 0, 0], 1)
    assert near(out.bonds[:2, 2], [65535, 26122], 1)
    assert near(out.bonds[:2, 3], [0, 65535], 1)
    assert near(out.server_emission, [0, 0, 312_500_000, 187_500_000], 2)
    assert near(out.validator_emission, [223_437_500, 276_562_500, 0, 0], 2)


def test_a_validator_out_of_consensus_loses_validator_trust() -> None:
    # Stakes 40/35/25. v0, v1 weight m3; v2 weights m4 alone.
    # C3: 1 (.4) cum .4, 1 (.35) cum .75 >= kappa -> 1.  C4: 1 (.25) < kappa, then 0 -> 0.
    # v2's only weight clips to 0: Tv2 = 0, while v0, v1 keep 65535; m4 earns nothing and v2,
    # holding bonds only on m4, earns no dividends.
    out = both(world([40, 35, 25, 0, 0], {(0, 3): 9, (1, 3): 9, (2, 4): 9}, [0, 1, 2]))
    assert out.validator_trust.tolist() == [65535, 65535, 0, 0, 0]
    assert out.consensus.tolist() == [0, 0, 0, 65535, 0]
    assert out.incentive.tolist() == [0, 0, 0, 65535, 0]
    assert out.dividends[2] == 0
    assert out.emission[2] == 0 and out.emission[4] == 0


def test_more_stake_behind_a_weight_moves_consensus() -> None:
    # v0 gives miners (2, 3) weights (.8, .2) (u16 65535 and 16384 -> .8 / .2 after row norm
    # up to rounding), v1 gives (.2, .8).
    weights = {(0, 2): 65535, (0, 3): 16384, (1, 2): 16384, (1, 3): 65535}
    v0_heavy = both(world([60, 40, 0, 0], weights, [0, 1]))
    v1_heavy = both(world([40, 60, 0, 0], weights, [0, 1]))
    # v0 holds the majority: C2 = v0's .8, C3 = .2 (the larger weight lacks kappa of stake).
    high, low = 65535 / (65535 + 16384), 16384 / (65535 + 16384)
    assert v0_heavy.consensus.tolist()[2:] == [int(high * U16_MAX), int(low * U16_MAX)]
    # Move the stake to v1 and the consensus follows it.
    assert v1_heavy.consensus.tolist()[2:] == [int(low * U16_MAX), int(high * U16_MAX)]
    assert v0_heavy.incentive[2] > v0_heavy.incentive[3]
    assert v1_heavy.incentive[3] > v1_heavy.incentive[2]


def test_a_miner_no_validator_weights_earns_nothing() -> None:
    out = both(world([50, 50, 0, 0, 0], {(0, 2): 100, (1, 2): 50, (1, 3): 80}, [0, 1]))
    assert out.incentive[4] == 0
    assert out.server_emission[4] == 0
    assert out.emission[4] == 0
    assert out.consensus[4] == 0


def test_kappa_is_32767_over_65535_so_an_exact_half_of_stake_carries_the_median() -> None:
    # Two validators with exactly equal stake disagree on m2 (1 vs 0). With kappa = 0.5 the
    # median would need the >= to hit the tie exactly; with 32767/65535 half the stake is
    # strictly enough, so C2 = 1 and m2 gets all the incentive.
    out = both(world([50, 50, 0, 0], {(0, 2): 65535, (1, 3): 65535}, [0, 1]))
    assert out.consensus.tolist() == [0, 0, 65535, 65535]
    # With a kappa just above one half, neither column reaches it at weight 1.
    strict = both(world([50, 50, 0, 0], {(0, 2): 65535, (1, 3): 65535}, [0, 1], kappa_u16=32768))
    assert strict.consensus.tolist() == [0, 0, 0, 0]


def test_bonds_penalty_zero_builds_bonds_from_unclipped_weights() -> None:
    # v2 (stake 25) alone weights m4, so C4 = 0. With beta = 1 (default) its bond on m4 is
    # clipped away; with beta = 0 the bond forms from the raw weight.
    weights = {(0, 3): 9, (1, 3): 9, (2, 4): 9}
    clipped = both(world([40, 35, 25, 0, 0], weights, [0, 1, 2]))
    raw = both(world([40, 35, 25, 0, 0], weights, [0, 1, 2], bonds_penalty_u16=0))
    assert clipped.bonds[2, 4] == 0
    assert raw.bonds[2, 4] == U16_MAX
    half = both(world([40, 35, 25, 0, 0], weights, [0, 1, 2], bonds_penalty_u16=32767))
    assert half.bonds[2, 4] == U16_MAX  # the only bond in its column, upscaled to max


# --------------------------------------------------------------------------- rules


def test_permit_lag_a_newly_staked_validators_weights_count_only_next_epoch() -> None:
    # uid 2 just received a large stake but holds no stored permit: this epoch its weight on
    # m4 is ignored, yet it receives a new permit. Next epoch (permits fed back) it counts.
    weights = {(0, 3): 65535, (1, 3): 65535, (2, 4): 65535}
    first = both(world([10, 10, 80, 0, 0], weights, [0, 1]))
    assert first.incentive.tolist() == [0, 0, 0, 65535, 0]
    assert first.validator_permit.tolist() == [True, True, True, False, False]
    assert first.validator_trust[2] == 0
    second = both(
        world(
            [10, 10, 80, 0, 0],
            weights,
            first.validator_permit.nonzero().squeeze(1).tolist(),
            bonds={(i, j): int(first.bonds[i, j]) for i in range(5) for j in range(5)},
        )
    )
    assert second.incentive.tolist() == [0, 0, 0, 0, 65535]
    assert second.validator_trust[2] == U16_MAX


def test_top_k_permits_break_stake_ties_toward_the_higher_uid_and_skip_zero_stake() -> None:
    stake = torch.tensor([5.0, 5.0, 5.0, 0.0, 9.0], dtype=F64)
    assert topk_nonzero(stake, 3).tolist() == [False, True, True, False, True]
    assert topk_nonzero(stake, 10).tolist() == [True, True, True, False, True]
    out = both(world([5, 5, 5, 0, 9], {}, [], max_validators=3))
    assert out.validator_permit.tolist() == [False, True, True, False, True]


def test_the_owner_keeps_a_permit_even_without_stake() -> None:
    # uid 0 is the owner with no stake and no stored permit: both permits are forced on.
    out = both(world([0, 50, 50, 0], {(1, 3): 65535}, [1], owner_uid=0, max_validators=1))
    # top-1 nonzero stake: uids 1 and 2 tie, the higher uid wins; the owner is added on top.
    assert out.validator_permit.tolist() == [True, False, True, False]


def test_the_owners_self_weight_counts_but_nobody_elses_does() -> None:
    # Owner uid 0 (stake 60) weights only itself; v1 (stake 40) weights m2.
    # As owner its self-weight survives: C0 = 1 (.6 >= kappa), C2 = 0 (.4 < kappa), so the
    # owner earns all the incentive and keeps full validator trust.
    weights = {(0, 0): 65535, (1, 2): 65535}
    owned = both(world([60, 40, 0], weights, [0, 1], owner_uid=0))
    assert owned.incentive.tolist() == [65535, 0, 0]
    assert owned.validator_trust.tolist() == [65535, 0, 0]
    # Without an owner the self-weight is masked: no consensus anywhere, emission falls back
    # to active stake.
    plain = both(world([60, 40, 0], weights, [0, 1]))
    assert plain.incentive.sum() == 0
    assert near(plain.validator_emission, [600_000_000, 400_000_000, 0], 2)


def test_self_weights_of_ordinary_validators_are_ignored() -> None:
    # Both validators weight only themselves: after the diagonal mask nothing remains,
    # E_sum = 0, and emission falls back to active stake.
    out = both(world([30, 70, 0], {(0, 0): 65535, (1, 1): 65535}, [0, 1]))
    assert out.incentive.sum() == 0
    assert near(out.validator_emission, [300_000_000, 700_000_000, 0], 2)


def test_outdated_weights_on_a_reregistered_uid_are_ignored() -> None:
    # m3 was re-registered at block 995, after both validators last set weights (990): their
    # stored weights on m3 refer to the previous owner of the uid and are dropped.
    weights = {(0, 2): 65535, (0, 3): 65535, (1, 2): 65535, (1, 3): 65535}
    out = both(world([50, 50, 0, 0], weights, [0, 1], registered=[0, 0, 0, 995]))
    assert out.incentive.tolist() == [0, 0, 65535, 0]
    assert out.emission[3] == 0
    # Setting weights after the registration makes them count again.
    fresh = both(
        world([50, 50, 0, 0], weights, [0, 1], registered=[0, 0, 0, 995], last_update=[998] * 4)
    )
    assert near(fresh.incentive, [0, 0, 32767, 32767], 1)


def test_inactive_validators_lose_their_vote() -> None:
    # v1 last set weights at 100; with cutoff 500 at block 1000 it is inactive: 100 + 500 < 1000.
    weights = {(0, 2): 65535, (1, 3): 65535}
    out = both(
        world(
            [30, 70, 0, 0], weights, [0, 1], last_update=[990, 100, 990, 990], activity_cutoff=500
        )
    )
    assert out.active.tolist() == [True, False, True, True]
    assert out.incentive.tolist() == [0, 0, 65535, 0]
    assert out.dividends.tolist() == [65535, 0, 0, 0]


def test_recently_registered_columns_lose_their_old_bonds() -> None:
    # v1 holds an old bond on m3; m3 registered at 700, after the previous step at 640, so its
    # column is masked and rebuilt from this epoch's weights (only v0 weights m3 now).
    kwargs = dict(bonds={(1, 3): 65535}, last_update=[990] * 4)
    weights = {(0, 3): 65535, (1, 2): 65535}
    masked = both(world([50, 50, 0, 0], weights, [0, 1], registered=[0, 0, 0, 700], **kwargs))
    kept = both(world([50, 50, 0, 0], weights, [0, 1], registered=[0, 0, 0, 600], **kwargs))
    assert masked.bonds[1, 3] == 0
    assert kept.bonds[1, 3] > 0


def test_a_validator_that_loses_its_permit_has_its_bonds_cleared() -> None:
    # uid 1 held a permit and bonds, but its stake fell to zero: new permit False -> row cleared.
    # uid 4 never held a permit and keeps its stored row untouched.
    out = both(
        world(
            [50, 0, 50, 0, 0],
            {(0, 3): 65535, (2, 3): 65535},
            [0, 1, 2],
            bonds={(1, 3): 65535, (4, 3): 777},
        )
    )
    assert out.validator_permit.tolist() == [True, False, True, False, False]
    assert out.bonds[1].abs().sum() == 0
    assert out.bonds[4, 3] == 777


def test_emission_falls_back_to_active_stake_when_nobody_set_weights() -> None:
    out = both(world([20, 30, 50, 0], {}, [0, 1], rao_emission=RAO))
    # S_act covers the permitted, active uids 0 and 1 only: .4 / .6.
    assert out.server_emission.sum() == 0
    assert near(out.validator_emission, [400_000_000, 600_000_000, 0, 0], 2)
    assert near(out.emission, [400_000_000, 600_000_000, 0, 0], 2)


def test_emission_falls_back_to_all_stake_when_no_stake_is_active() -> None:
    # Nobody has a stored permit, so S_act is all zero: the fallback is the normalised stake.
    out = both(world([20, 30, 50, 0], {}, []))
    assert near(out.validator_emission, [200_000_000, 300_000_000, 500_000_000, 0], 2)


def test_a_world_with_no_stake_at_all_emits_nothing_and_makes_no_nan() -> None:
    out = both(world([0, 0, 0], {(0, 1): 65535}, [0]))
    assert out.emission.sum() == 0
    assert not torch.isnan(out.bonds).any()


def test_an_empty_subnet_runs() -> None:
    out = both(world([], {}, []))
    assert out.emission.shape == (0,)
    assert out.bonds.shape == (0, 0)


def test_bad_input_names_the_field() -> None:
    good = world([1, 1], {}, [0])
    with pytest.raises(ValueError, match="weights"):
        dataclasses.replace(good, weights=torch.zeros(3, 3, dtype=F64))
    with pytest.raises(ValueError, match="validator_permit"):
        dataclasses.replace(good, validator_permit=torch.ones(2))
    with pytest.raises(ValueError, match="stake"):
        dataclasses.replace(good, stake=torch.tensor([1.0, -1.0], dtype=F64))
    with pytest.raises(ValueError, match="kappa_u16"):
        dataclasses.replace(good, kappa_u16=70000)
    with pytest.raises(TypeError, match="bonds"):
        dataclasses.replace(good, bonds=[[0, 0], [0, 0]])


def test_inputs_are_not_modified() -> None:
    inputs = world([50, 50, 0, 0], {(0, 2): 65535, (1, 3): 65535}, [0, 1], bonds={(0, 2): 9})
    before = {f.name: getattr(inputs, f.name) for f in dataclasses.fields(inputs)}
    snapshot = {k: v.clone() for k, v in before.items() if isinstance(v, torch.Tensor)}
    run_epoch(inputs)
    for k, v in snapshot.items():
        assert torch.equal(getattr(inputs, k), v), k


# --------------------------------------------------------------------------- random worlds


def random_world(seed: int, n: int, max_validators: int, density: float) -> EpochInputs:
    """Validators with permits and sparse u16 weights, some inactive, some re-registered."""
    rng = random.Random(seed)
    stake, permits, weights = random_votes(rng, n, density, top_stake=1e12)
    bonds = {
        (i, j): rng.randint(0, 65535)
        for i in range(n)
        for j in range(n)
        if rng.random() < density / 2
    }
    last_update = [rng.choice([990, 990, 990, 800, 100, 0]) for _ in range(n)]
    registered = [rng.choice([0, 0, 0, 0, 0, 500, 700, 995]) for _ in range(n)]
    return world(
        stake,
        weights,
        permits,
        bonds=bonds,
        last_update=last_update,
        registered=registered,
        activity_cutoff=rng.choice([300, 5000]),
        max_validators=max_validators,
        owner_uid=rng.choice([None, 0, n - 1]) if n else None,
        bonds_penalty_u16=rng.choice([65535, 65535, 0, 40000]),
        rao_emission=rng.choice([RAO, 123_456_789_012]),
    )


@pytest.mark.parametrize(
    ("n", "max_validators", "density"),
    [
        (1, 64, 0.5),
        (5, 64, 0.0),  # no weights at all
        (8, 64, 0.6),  # n <= max_validators
        (16, 4, 0.4),  # n > max_validators
        (33, 8, 0.2),
        (48, 64, 0.1),
        (96, 16, 0.15),
    ],
)
@pytest.mark.parametrize("seed", range(6))
def test_torch_and_reference_agree_on_random_worlds(
    n: int, max_validators: int, density: float, seed: int
) -> None:
    inputs = random_world(seed * 1000 + n, n, max_validators, density)
    both(inputs)


@pytest.mark.parametrize("seed", range(3))
def test_torch_and_reference_agree_over_chained_epochs(seed: int) -> None:
    # Feed each epoch's permits and stored bonds into the next, as the chain does.
    inputs = random_world(seed, 24, 6, 0.3)
    for step in range(4):
        out = both(inputs)
        inputs = dataclasses.replace(
            inputs,
            block=inputs.block + inputs.tempo,
            last_step_block=inputs.block,
            validator_permit=out.validator_permit,
            bonds=out.bonds,
            last_update=torch.full_like(inputs.last_update, inputs.block + inputs.tempo - 5 - step),
        )


@pytest.mark.parametrize("seed", range(8))
def test_incentive_over_miners_sums_to_one_when_weights_exist(seed: int) -> None:
    inputs = random_world(seed, 30, 10, 0.3)
    out = both(inputs)
    if out.server_emission.sum() > 0:
        total = int(out.incentive.sum())
        assert U16_MAX - inputs.n <= total <= U16_MAX
    else:
        assert out.incentive.sum() == 0


@pytest.mark.parametrize("seed", range(8))
def test_emission_sums_to_rao_emission_within_n_rao(seed: int) -> None:
    inputs = random_world(seed, 30, 10, 0.3)
    out = both(inputs)
    if inputs.stake.sum() == 0:
        return
    n, rao = inputs.n, inputs.rao_emission
    assert rao - n <= int(out.emission.sum()) <= rao
    split = int(out.server_emission.sum() + out.validator_emission.sum())
    assert rao - 2 * n <= split <= rao


@pytest.mark.parametrize("seed", range(6))
def test_more_stake_never_lowers_consensus_on_columns_the_validator_supports(seed: int) -> None:
    # C_j = max{w : S(W_.j >= w) >= kappa}: raising i's stake raises S(W_.j >= w) for every
    # w <= W_ij, so where i's weight exceeds C_j the consensus cannot fall.
    inputs = random_world(seed, 20, 20, 0.4)
    base = run_epoch(inputs)
    permit = inputs.validator_permit.clone()
    if inputs.owner_uid is not None:
        permit[inputs.owner_uid] = True
    voters = [i for i in range(inputs.n) if permit[i] and base.active[i] and inputs.stake[i] > 0]
    assert voters, "the seeded world should have a voting validator"
    i = voters[seed % len(voters)]
    stake = inputs.stake.clone()
    stake[i] = stake[i] + 1e15  # now i alone holds more than kappa of the stake
    after = both(dataclasses.replace(inputs, stake=stake))
    row = inputs.weights[i].clone()
    if inputs.owner_uid != i:
        row[i] = 0
    row[inputs.last_update[i] <= inputs.block_at_registration] = 0
    if row.sum() == 0:
        return
    row_u16 = torch.floor(row / row.sum() * U16_MAX)
    supported = row_u16 > base.consensus
    assert (after.consensus[supported] >= base.consensus[supported]).all()
    # Holding a majority, i's own weights become the consensus floor everywhere.
    assert (after.consensus >= row_u16 - 1).all()
