"""The simulated chain's own rules, driven through the Chain API (no SDK)."""

from __future__ import annotations

import pytest

from simnet import shapes
from simnet.calls import ComposedCall
from simnet.state import (
    RAO_PER_TAO,
    BlockUnavailable,
    Chain,
    ChainFailure,
    Extrinsic,
)
from simnet.subnets import legacy_rules
from simnet.testing import dev_keypair, small_world

TAO = RAO_PER_TAO


def addr(name: str) -> str:
    return dev_keypair(name).ss58_address


def full_subnet(*, max_uids: int = 3, immunity: int = 5) -> Chain:
    chain = Chain(block_time=0.25)
    chain.create_subnet(1, tempo=0, max_uids=max_uids, immunity_period=immunity, **legacy_rules())
    for i in range(max_uids):
        chain.fund(addr(f"c{i}"), 10 * TAO)
        chain.register(1, addr(f"h{i}"), addr(f"c{i}"))
        chain.step()
    return chain


def set_emissions(chain: Chain, values: list[int]) -> None:
    from dataclasses import replace

    sn = chain.subnet(1)
    for uid, value in enumerate(values):
        sn.neurons[uid] = replace(sn.neurons[uid], emission=value)


def test_block_hashes_map_back_to_their_numbers_and_unknown_hashes_are_refused():
    chain = Chain(start_block=100)
    chain.step(3)
    for n in (100, 101, 103):
        assert chain.block_of(chain.block_hash(n)) == n
    assert len(bytes.fromhex(chain.block_hash(5)[2:])) == 32
    forged = chain.block_hash(101)[:-4] + "beef"
    with pytest.raises(BlockUnavailable):
        chain.block_of(forged)


def test_finality_trails_the_head_and_old_blocks_are_pruned():
    chain = Chain(finality_lag=2, history_blocks=5)
    chain.step(10)
    assert (chain.head, chain.finalized) == (11, 9)
    assert chain.record(7).number == 7
    with pytest.raises(BlockUnavailable, match="discarded"):
        chain.record(6)
    with pytest.raises(BlockUnavailable, match="beyond"):
        chain.record(12)


def test_timestamps_advance_by_the_block_time():
    chain = Chain(block_time=12.0)
    first = chain.record().timestamp_ms
    chain.step(2)
    assert chain.record().timestamp_ms - first == 24_000


def test_epochs_run_on_subtensors_schedule():
    chain = Chain()
    chain.create_subnet(3, tempo=4, **legacy_rules())
    chain.fund(addr("c"), 10 * TAO)
    chain.register(3, addr("h"), addr("c"))
    seen = []
    chain.on_block(lambda c, b: seen.append(b) if c.subnet(3).last_epoch_block == b else None)
    chain.step(20)
    assert seen == [b for b in range(2, 22) if (b + 3 + 1) % 5 == 0]
    assert chain.subnet(3).epoch_index == len(seen)


def test_an_epoch_hands_out_the_emission_accrued_since_the_last_one():
    world = small_world()
    chain, sn = world.chain, world.chain.subnet(world.netuid)
    before = sum(sn.stake.values())
    per_block = sn.emission_per_block_rao
    start = sn.last_epoch_block
    while chain.subnet(world.netuid).last_epoch_block == start:
        chain.step()
    blocks = chain.subnet(world.netuid).last_epoch_block - start
    paid = sum(chain.subnet(world.netuid).stake.values()) - before
    assert abs(paid - blocks * per_block) <= sn.n * 2  # floor() per uid loses at most a rao or so
    assert chain.subnet(world.netuid).pending_emission == 0


def test_a_weighted_miner_earns_incentive_and_an_unweighted_one_does_not():
    world = small_world(miners=3)
    sn = world.chain.subnet(world.netuid)
    weighted = [sn.neurons[sn.uids[m.hotkey.ss58_address]] for m in world.miners[:2]]
    ignored = sn.neurons[sn.uids[world.miners[2].hotkey.ss58_address]]
    assert all(n.incentive > 0 and n.emission > 0 for n in weighted)
    assert ignored.incentive == 0 and ignored.emission == 0
    assert abs(sum(n.incentive for n in sn.neurons) - 65535) <= len(sn.neurons)


def test_a_full_subnet_evicts_the_lowest_emission_non_immune_neuron():
    chain = full_subnet()
    chain.step(10)
    set_emissions(chain, [50, 10, 30])
    chain.fund(addr("cx"), 10 * TAO)
    uid = chain.register(1, addr("hx"), addr("cx"))
    assert uid == 1
    sn = chain.subnet(1)
    assert addr("h1") not in sn.uids and sn.uids[addr("hx")] == 1
    assert sn.neurons[1].hotkey == addr("hx") and sn.neurons[1].registered_at == chain.head


def test_eviction_ties_go_to_the_older_registration_then_the_lower_uid():
    chain = full_subnet()
    chain.step(10)
    set_emissions(chain, [7, 7, 7])
    chain.fund(addr("cx"), 10 * TAO)
    assert chain.register(1, addr("hx"), addr("cx")) == 0  # uid 0 registered first
    # Same emission and same registration block: the lower uid goes.
    chain2 = Chain()
    chain2.create_subnet(
        1, tempo=0, max_uids=3, immunity_period=1, max_registrations_per_block=9, **legacy_rules()
    )
    for i in range(3):
        chain2.fund(addr(f"c{i}"), 10 * TAO)
        chain2.register(1, addr(f"h{i}"), addr(f"c{i}"))
    chain2.step(3)
    sn = chain2.subnet(1)
    from dataclasses import replace

    sn.neurons[0] = replace(sn.neurons[0], emission=9)
    chain2.fund(addr("cx"), 10 * TAO)
    assert chain2.register(1, addr("hx"), addr("cx")) == 1


def test_when_every_neuron_is_immune_the_lowest_emission_immune_one_is_pruned():
    chain = full_subnet(immunity=100)
    set_emissions(chain, [5, 0, 9])
    chain.fund(addr("cx"), 10 * TAO)
    # subtensor prunes an immune neuron when too few non-immune ones exist (here none).
    assert chain.register(1, addr("hx"), addr("cx")) == 1
    assert addr("h1") not in chain.subnet(1).uids


def test_the_subnet_owner_hotkey_is_never_evicted():
    chain = Chain()
    chain.create_subnet(
        1,
        tempo=0,
        max_uids=2,
        immunity_period=1,
        owner_coldkey=addr("oc"),
        owner_hotkey=addr("oh"),
        **legacy_rules(),
    )
    chain.fund(addr("oc"), 10 * TAO)
    chain.fund(addr("c1"), 10 * TAO)
    chain.register(1, addr("oh"), addr("oc"))
    chain.register(1, addr("h1"), addr("c1"))
    chain.step(5)
    set_emissions(chain, [0, 100])
    assert chain.neuron_to_evict(1) == 1


def test_re_registration_zeroes_weights_on_the_uid_and_keeps_other_rows_bonds_on_it():
    chain = full_subnet()
    chain.step(10)
    chain.subnet(1).weights_rate_limit = 0
    chain.set_weights(1, addr("h0"), [1, 2], [100, 50])
    from dataclasses import replace

    sn = chain.subnet(1)
    sn.neurons[0] = replace(sn.neurons[0], bonds=((1, 500), (2, 600)))
    set_emissions(chain, [9, 0, 9])
    chain.fund(addr("cx"), 10 * TAO)
    chain.register(1, addr("hx"), addr("cx"))
    sn = chain.subnet(1)
    assert sn.neurons[0].weights == ((1, 0), (2, 32768))  # clear_neuron: zeroed, not removed
    assert sn.neurons[0].bonds == ((1, 500), (2, 600))  # only the uid's own row goes
    fresh = sn.neurons[1]
    assert fresh.weights == () and fresh.bonds == () and not fresh.validator_permit
    assert fresh.last_update == fresh.registered_at == chain.head


def test_registration_burns_the_cost_and_sets_the_owner():
    chain = Chain()
    chain.create_subnet(1, **legacy_rules(3 * TAO))
    chain.fund(addr("c"), 5 * TAO)
    chain.register(1, addr("h"), addr("c"))
    assert chain.balance(addr("c")) == 2 * TAO
    assert chain.owner_of(addr("h")) == addr("c")
    with pytest.raises(ChainFailure) as failure:
        chain.register(1, addr("h"), addr("c"))
    assert failure.value.name == "HotKeyAlreadyRegisteredInSubNet"
    chain.create_subnet(2, **legacy_rules(3 * TAO))
    with pytest.raises(ChainFailure) as failure:
        chain.register(2, addr("h"), addr("c"))
    assert failure.value.name == "NotEnoughBalanceToStake"
    chain.fund(addr("other"), 10 * TAO)
    with pytest.raises(ChainFailure) as failure:
        chain.register(2, addr("h"), addr("other"))
    assert failure.value.name == "NonAssociatedColdKey"


def _signed(call: ComposedCall, signer: str, nonce: int) -> Extrinsic:
    # The chain trusts the seam to have verified the signature; a placeholder does here.
    return Extrinsic(call, signer, 1, nonce, 64, b"\0" * 64, f"0x{signer[:8]}{nonce:08x}")


def test_only_one_extrinsic_registration_per_block_is_accepted():
    chain = Chain()
    chain.create_subnet(1, **legacy_rules())
    pendings = []
    for i in range(2):
        chain.fund(addr(f"c{i}"), 10 * TAO)
        call = ComposedCall(
            "SubtensorModule", "burned_register", {"netuid": 1, "hotkey": addr(f"h{i}")}
        )
        pendings.append(chain.submit(_signed(call, addr(f"c{i}"), 0)))
    chain.step()
    first, second = (p.receipt for p in pendings)
    assert first.success and not second.success
    assert second.error.name == "TooManyRegistrationsThisBlock"
    assert chain.nonce(addr("c1")) == 1  # a failed dispatch still consumes the nonce
    events = [(e.module, e.event) for e in chain.record().events if e.extrinsic_idx == 1]
    assert ("SubtensorModule", "NeuronRegistered") in events


def test_set_weights_enforces_the_chains_checks_in_order():
    chain = full_subnet(max_uids=4)
    sn = chain.subnet(1)
    sn.min_allowed_weights = 2
    sn.weights_rate_limit = 5
    hk = addr("h0")
    cases = [
        (dict(uids=[1], weights_u16=[1, 2]), "WeightVecNotEqualSize"),
        (dict(uids=[1, 1], weights_u16=[1, 2]), "SettingWeightsTooFast"),
    ]
    for kwargs, name in cases:
        with pytest.raises(ChainFailure) as failure:
            chain.set_weights(1, hk, **kwargs)
        assert failure.value.name == name
    chain.step(5)
    for kwargs, name in [
        (dict(uids=[1, 1], weights_u16=[1, 2]), "DuplicateUids"),
        (dict(uids=[1, 9], weights_u16=[1, 2]), "UidVecContainInvalidOne"),
        (dict(uids=[1], weights_u16=[1]), "WeightVecLengthIsLow"),
    ]:
        with pytest.raises(ChainFailure) as failure:
            chain.set_weights(1, hk, **kwargs)
        assert failure.value.name == name
    with pytest.raises(ChainFailure) as failure:
        chain.set_weights(1, addr("stranger"), [1, 2], [1, 1])
    assert failure.value.name == "HotKeyNotRegisteredInSubNet"
    chain.set_weights(1, hk, [0], [7])  # a lone self-weight is exempt from the minimum
    chain.step(5)
    chain.set_weights(1, hk, [2, 1], [1, 2])
    assert chain.subnet(1).neurons[0].weights == ((1, 65535), (2, 32768))
    chain.set_hyperparameter(1, "commit_reveal", True)
    chain.step(5)
    with pytest.raises(ChainFailure) as failure:
        chain.set_weights(1, hk, [2, 1], [1, 2])
    assert failure.value.name == "CommitRevealEnabled"


def test_staking_moves_the_constant_product_price():
    chain = Chain()
    chain.create_subnet(1, tao_in_rao=1_000 * TAO, alpha_in_rao=4_000 * TAO, **legacy_rules())
    chain.fund(addr("c"), 100 * TAO)
    chain.register(1, addr("h"), addr("c"), burn=False)
    sn = chain.subnet(1)
    k = sn.tao_in * sn.alpha_in
    assert sn.price_rao == TAO // 4
    alpha = chain.add_stake(addr("c"), addr("h"), 1, 50 * TAO)
    assert sn.price_rao > TAO // 4
    assert sn.tao_in * sn.alpha_in >= k
    assert chain.stake_alpha(1, addr("h"), addr("c")) == alpha
    assert 190 * TAO < alpha < 200 * TAO  # slippage: less than 50 / 0.25
    tao = chain.remove_stake(addr("c"), addr("h"), 1, alpha)
    assert tao <= 50 * TAO and tao > 49 * TAO
    assert chain.stake_alpha(1, addr("h"), addr("c")) == 0
    with pytest.raises(ChainFailure) as failure:
        chain.remove_stake(addr("c"), addr("h"), 1, 1)
    assert failure.value.name == "NotEnoughStakeToWithdraw"
    with pytest.raises(ChainFailure) as failure:
        chain.add_stake(addr("c"), addr("h"), 1, 10 * TAO, limit_price=TAO // 4)
    assert failure.value.name == "SlippageTooHigh"


def test_scaling_a_stake_changes_every_position_on_the_hotkey():
    world = small_world()
    chain, hk = world.chain, world.validators[0].hotkey.ss58_address
    before = chain.stake_alpha(world.netuid, hk)
    chain.scale_stake(world.netuid, hk, 0.5)
    assert abs(chain.stake_alpha(world.netuid, hk) - before // 2) <= 1


def test_hyperparameter_errors_name_the_parameter():
    chain = Chain()
    chain.create_subnet(1)
    with pytest.raises(ValueError, match="unknown hyperparameter 'tempoo'"):
        chain.set_hyperparameter(1, "tempoo", 5)
    with pytest.raises(ValueError, match="tempo must be a non-negative integer"):
        chain.set_hyperparameter(1, "tempo", -1)
    chain.set_hyperparameter(1, "burn", 7)
    assert chain.subnet(1).burn_rao == 7
    with pytest.raises(ChainFailure) as failure:
        chain.set_hyperparameter(9, "tempo", 5)
    assert failure.value.name == "SubnetNotExists"


def test_sealed_blocks_keep_their_values_after_later_changes():
    world = small_world()
    chain = world.chain
    old = chain.record()
    old_meta = shapes.metagraph(old, world.netuid)
    chain.fund(addr("late"), 10 * TAO)
    chain.step()
    chain.register(world.netuid, addr("late-h"), addr("late"))
    chain.step(12)
    assert shapes.metagraph(old, world.netuid) == old_meta
    assert shapes.metagraph(chain.record(), world.netuid)["num_uids"] == old_meta["num_uids"] + 1


def test_the_same_seed_builds_the_same_chain():
    a, b = small_world(seed=3), small_world(seed=3)
    assert a.chain.head == b.chain.head
    assert a.chain.block_hash(a.chain.head) == b.chain.block_hash(b.chain.head)
    assert shapes.metagraph(a.chain.record(), 1) == shapes.metagraph(b.chain.record(), 1)
    assert small_world(seed=4).chain.block_hash(5) != a.chain.block_hash(5)


def test_the_mev_key_is_a_well_formed_ml_kem_768_key():
    import bittensor_core

    key = shapes.mlkem768_public_key(0)
    assert len(key) == 1184
    blob = bittensor_core.encrypt_mlkem768(key, b"inner", include_key_hash=True)
    assert len(blob) > 1088
