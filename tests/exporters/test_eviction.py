"""The eviction ETA's inputs (exporters/eviction.py): registrations until a neuron is pruned,
checked against simnet's own pruning (simnet/registration.py, which follows subtensor's
``get_neuron_to_prune`` in ``pallets/subtensor/src/subnets/registration.rs``)."""

from __future__ import annotations

from exporters.chain import WatchPlan
from exporters.eviction import registrations_until_pruned
from simnet.records import RAO_PER_TAO
from simnet.testing import dev_keypair, small_world
from tests.support.exporters import make_poller


def test_free_uids_fill_first_then_one_registration_per_place():
    assert registrations_until_pruned(0, 0, None, immune=False) == 1
    assert registrations_until_pruned(2, 3, None, immune=False) == 6
    # An immune neuron is counted from its place once immunity ends, unless it is in the
    # pool already (too few non-immune neurons: the chain evicts among the immune).
    assert registrations_until_pruned(1, None, 4, immune=True) == 6
    assert registrations_until_pruned(1, 2, 4, immune=True) == 4
    assert registrations_until_pruned(0, None, None, immune=False) is None


async def test_a_watched_neuron_is_pruned_by_exactly_the_registration_the_count_said():
    world = small_world(validators=2, miners=5, tempo=1000, max_uids=8)
    chain, netuid = world.chain, world.netuid
    # Past immunity, the subnet one uid short of full.
    for _ in range(chain.subnet(netuid).immunity_period + 1):
        chain.step()
    sn = chain.subnet(netuid)
    assert sn.max_uids - len(sn.neurons) == 1
    plan = WatchPlan(export_all=frozenset({netuid}))
    poller, _, reg = make_poller(chain, plan)
    assert await poller.poll()
    counts = {
        n.hotkey: reg.get_sample_value(
            "bittensor_neuron_registrations_until_pruned",
            {"netuid": str(netuid), "hotkey": n.hotkey, "uid": str(n.uid)},
        )
        for n in sn.neurons
    }
    # The one counted furthest but still reachable, and when simnet actually prunes it.
    target, expected = max(
        ((hk, c) for hk, c in counts.items() if c is not None), key=lambda item: item[1]
    )
    assert expected >= 3
    funder = world.miners[0].coldkey.ss58_address
    chain.fund(funder, 10_000 * RAO_PER_TAO)
    registrations = 0
    while target in chain.subnet(netuid).uids:
        registrations += 1
        newcomer = dev_keypair(f"newcomer-{registrations}").ss58_address
        chain.register(netuid, newcomer, funder)
    assert registrations == expected


async def test_an_immune_neuron_outside_the_pool_is_counted_from_its_place_after_immunity():
    # Five neurons past immunity (the pool, above a floor of 2) and a fresh one, immune.
    world = small_world(validators=2, miners=3, tempo=1000, max_uids=8)
    chain, netuid = world.chain, world.netuid
    chain.set_hyperparameter(netuid, "min_non_immune_uids", 2)
    for _ in range(chain.subnet(netuid).immunity_period + 1):
        chain.step()
    funder = world.miners[0].coldkey.ss58_address
    chain.fund(funder, 10_000 * RAO_PER_TAO)
    chain.register(netuid, dev_keypair("fresh").ss58_address, funder)
    chain.step()
    poller, _, reg = make_poller(chain, WatchPlan(export_all=frozenset({netuid})))
    assert await poller.poll()
    checked = 0
    free = chain.subnet(netuid).max_uids - len(chain.subnet(netuid).neurons)
    for n in chain.subnet(netuid).neurons:
        labels = {"netuid": str(netuid), "hotkey": n.hotkey, "uid": str(n.uid)}
        view = poller.snapshot.subnets[netuid].by_hotkey[n.hotkey]
        if not view.immune:
            continue
        checked += 1
        assert view.pruning_position is None
        after = reg.get_sample_value("bittensor_neuron_pruning_position_after_immunity", labels)
        assert after is not None
        assert reg.get_sample_value("bittensor_neuron_registrations_until_pruned", labels) == (
            free + after + 1
        )
    assert checked == 1
