"""Registration that moves: the burn price, pruning by subtensor's rule, clear_neuron."""

from __future__ import annotations

import random
from dataclasses import replace

from simnet.state import RAO_PER_TAO, Chain, ChainFailure

TAO = RAO_PER_TAO


def addr(name: str) -> str:
    return f"5{name:_<47}"


def named_rule(neurons, owner_hotkey, block, immunity, min_non_immune):
    """The rule as the issue states it, written independently of simnet's code."""
    candidates = [n for n in neurons if n.hotkey != owner_hotkey]
    non_immune = [n for n in candidates if block - n.registered_at >= immunity]
    immune = [n for n in candidates if block - n.registered_at < immunity]
    order = sorted(
        non_immune if len(non_immune) > min_non_immune else immune,
        key=lambda n: (n.emission, n.registered_at, n.uid),
    )
    return order[0].uid if order else None


def random_full_subnet(rng: random.Random) -> Chain:
    chain = Chain(seed=rng.randrange(1000))
    size = rng.randint(2, 24)
    chain.create_subnet(
        1,
        tempo=0,
        max_uids=size,
        immunity_period=rng.randint(1, 40),
        max_registrations_per_block=size + 1,
        min_non_immune_uids=rng.choice([0, 3, 10]),
        owner_coldkey=addr("oc"),
        owner_hotkey=addr("oh"),
    )
    for i in range(size):
        if i and rng.random() < 0.5:
            chain.step(rng.randint(1, 10))
        hotkey = addr("oh") if i == 0 and rng.random() < 0.5 else addr(f"h{i}")
        coldkey = addr("oc") if hotkey == addr("oh") else addr(f"c{i}")
        chain.fund(coldkey, 1_000 * TAO)
        chain.register(1, hotkey, coldkey)
    sn = chain.subnet(1)
    for uid, nrn in enumerate(sn.neurons):
        sn.neurons[uid] = replace(nrn, emission=rng.choice([0, 0, 5, 7, rng.randint(0, 99)]))
    chain.step(rng.randint(0, 40))
    return chain


def test_the_neuron_the_chain_prunes_is_the_one_the_stated_rule_names_in_many_worlds():
    rng = random.Random(11)
    outcomes = {"non-immune": 0, "immune": 0, "refused": 0}
    for _ in range(300):
        chain = random_full_subnet(rng)
        sn = chain.subnet(1)
        block = chain.building_block  # operator registrations apply at the head
        expected = named_rule(
            sn.neurons, sn.owner_hotkey, block, sn.immunity_period, sn.min_non_immune_uids
        )
        before = {n.uid: n for n in sn.neurons}
        chain.fund(addr("cx"), 1_000 * TAO)
        try:
            uid = chain.register(1, addr("hx"), addr("cx"))
        except ChainFailure as failure:
            assert failure.name == "NoNeuronIdAvailable" and expected is None
            outcomes["refused"] += 1
            continue
        assert uid == expected
        assert before[uid].hotkey not in sn.uids and sn.neurons[uid].hotkey == addr("hx")
        was_immune = block - before[uid].registered_at < sn.immunity_period
        outcomes["immune" if was_immune else "non-immune"] += 1
    assert all(outcomes.values()), outcomes  # the seeded worlds reach every branch


def test_an_immune_neuron_goes_when_ten_or_fewer_non_immune_would_be_left():
    chain = Chain()
    chain.create_subnet(1, tempo=0, max_uids=12, immunity_period=50, max_registrations_per_block=99)
    for i in range(11):  # eleven registered long ago: non-immune
        chain.fund(addr(f"c{i}"), 100 * TAO)
        chain.register(1, addr(f"h{i}"), addr(f"c{i}"))
    chain.step(60)
    chain.fund(addr("cy"), 100 * TAO)
    chain.register(1, addr("hy"), addr("cy"))  # the twelfth, immune, emission 0
    sn = chain.subnet(1)
    for uid in range(11):
        sn.neurons[uid] = replace(sn.neurons[uid], emission=10 + uid)
    chain.fund(addr("cx"), 100 * TAO)
    # Eleven non-immune is more than ten: the lowest of them (uid 0) goes, not the immune one.
    assert chain.register(1, addr("hx"), addr("cx")) == 0
    chain.fund(addr("cz"), 100 * TAO)
    # hx is immune now; ten non-immune remain, so the lowest immune neuron goes instead.
    sn.neurons[11] = replace(sn.neurons[11], emission=3)
    assert chain.register(1, addr("hz"), addr("cz")) == 0  # hx: emission 0, lower than hy's 3


def test_the_burn_climbs_under_a_registration_burst_and_decays_back_to_its_floor():
    chain = Chain()
    chain.create_subnet(
        1,
        tempo=0,
        max_uids=64,
        burn_rao=TAO // 10,
        max_registrations_per_block=99,
        burn_half_life=20,
    )
    sn = chain.subnet(1)
    floor = sn.min_burn_rao
    prices = []
    for i in range(8):
        chain.fund(addr(f"c{i}"), 100 * TAO)
        prices.append(sn.burn_rao)
        chain.register(1, addr(f"h{i}"), addr(f"c{i}"))
    assert prices == sorted(prices) and prices[-1] > 5 * prices[0]
    peak = sn.burn_rao
    chain.step(20)
    assert abs(sn.burn_rao - peak // 2) <= peak // 1000  # one half-life halves it
    chain.step(400)
    assert sn.burn_rao == floor


def test_the_burn_never_leaves_its_bounds():
    chain = Chain()
    chain.create_subnet(
        1, tempo=0, max_uids=64, burn_rao=TAO, max_burn_rao=2 * TAO, max_registrations_per_block=99
    )
    for i in range(6):
        chain.fund(addr(f"c{i}"), 100 * TAO)
        chain.register(1, addr(f"h{i}"), addr(f"c{i}"))
    assert chain.subnet(1).burn_rao == 2 * TAO


def test_re_registration_removes_the_uids_bond_row_and_keeps_other_rows_bonds_on_it():
    chain = Chain()
    chain.create_subnet(
        1, tempo=0, max_uids=3, immunity_period=1, commit_reveal=False, min_non_immune_uids=0
    )
    for i in range(3):
        chain.fund(addr(f"c{i}"), 100 * TAO)
        chain.register(1, addr(f"h{i}"), addr(f"c{i}"))
    chain.step(5)
    sn = chain.subnet(1)
    sn.neurons[0] = replace(sn.neurons[0], weights=((1, 100), (2, 50)), bonds=((1, 7), (2, 9)))
    sn.neurons[1] = replace(sn.neurons[1], weights=((0, 5),), bonds=((0, 11), (2, 13)))
    sn.neurons[2] = replace(sn.neurons[2], emission=9)
    sn.neurons[0] = replace(sn.neurons[0], emission=9)
    chain.fund(addr("cx"), 100 * TAO)
    assert chain.register(1, addr("hx"), addr("cx")) == 1
    fresh, other = sn.neurons[1], sn.neurons[0]
    assert fresh.bonds == () and fresh.weights == ()
    assert other.bonds == ((1, 7), (2, 9))
    assert other.weights == ((1, 0), (2, 50))
