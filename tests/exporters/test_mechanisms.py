"""Per-mechanism incentive: a mechid label where a subnet runs several mechanisms, none else."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from exporters.chain import WatchPlan
from simnet.testing import small_world
from tests.support.exporters import make_poller

U16 = 65535
NAME = "bittensor_neuron_mechanism_incentive"


def val(registry: CollectorRegistry, name: str, **labels: Any) -> float | None:
    return registry.get_sample_value(name, {k: str(v) for k, v in labels.items()})


def run_epoch(chain, netuid: int) -> None:
    before = chain.subnet(netuid).epoch_index
    while chain.subnet(netuid).epoch_index == before:
        chain.step()


@pytest.fixture
def world():
    return small_world(validators=2, miners=3, tempo=10, max_uids=6)


def watch_everyone(world) -> WatchPlan:
    return WatchPlan(export_all=frozenset({world.netuid}))


async def poll_once(chain, plan):
    poller, sub, reg = make_poller(chain, plan)
    try:
        assert await poller.poll(), poller.status.last_error
        sub.calls.clear()
        chain.step()
        assert await poller.poll(), poller.status.last_error
    finally:
        await poller.close()
    return sub, reg


async def test_a_two_mechanism_subnet_exports_each_mechanisms_incentive_by_mechid(world):
    chain, netuid = world.chain, world.netuid
    chain.set_mechanism_count(netuid, 2)
    sn = chain.subnet(netuid)
    mech1_miner = sn.uids[world.miners[2].hotkey.ss58_address]  # no weight in mechanism 0
    for v in world.validators:
        chain.set_weights(netuid, v.hotkey.ss58_address, [mech1_miner], [U16], mechid=1)
    run_epoch(chain, netuid)
    run_epoch(chain, netuid)
    sub, reg = await poll_once(chain, watch_everyone(world))
    sn = chain.subnet(netuid)
    for nrn in sn.neurons:
        lab = {"netuid": netuid, "hotkey": nrn.hotkey, "uid": nrn.uid}
        zero = val(reg, NAME, **lab, mechid=0)
        assert zero == val(reg, "bittensor_neuron_incentive", **lab) == nrn.incentive / U16
        one = nrn.mechanisms[0].incentive if nrn.mechanisms else 0
        assert val(reg, NAME, **lab, mechid=1) == one / U16
        assert val(reg, NAME, **lab, mechid=2) is None
    lab = {"netuid": netuid, "hotkey": sn.neurons[mech1_miner].hotkey, "uid": mech1_miner}
    assert val(reg, NAME, **lab, mechid=1) == 1.0
    assert val(reg, "bittensor_neuron_incentive", **lab) == 0.0
    # The counts once per poll (beside the ten chain-wide maps of exporters/economics.py),
    # and one batch for the subnet's mechanisms.
    assert sub.calls["query_map"] == 1 + 10 and sub.calls["query_batch"] == 1


async def test_a_single_mechanism_subnet_has_no_mechid_series_and_no_extra_reads(world):
    sub, reg = await poll_once(world.chain, watch_everyone(world))
    hk = world.miners[0].hotkey.ss58_address
    uid = world.chain.subnet(world.netuid).uids[hk]
    assert val(reg, "bittensor_neuron_incentive", netuid=world.netuid, hotkey=hk, uid=uid)
    assert val(reg, NAME, netuid=world.netuid, hotkey=hk, uid=uid, mechid=0) is None
    assert not [m for m in reg.collect() if m.name == NAME]
    assert sub.calls["query_batch"] == 0
