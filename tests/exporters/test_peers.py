"""What the agent exports so that a subnet-wide stall reads as the subnet's, not each
validator's: the subnet's validators and the median age of their weights (alerts/src/peers.yaml
turns them into one subnet alert)."""

from __future__ import annotations

import statistics

from exporters.chain import WatchPlan
from exporters.snapshot import acts_as_validator
from simnet.testing import small_world
from tests.support.exporters import make_poller


async def test_the_subnet_exports_its_validators_and_the_median_age_of_their_weights():
    world = small_world(validators=3, miners=3, tempo=10)
    chain = world.chain
    for _ in range(3 * (chain.subnet(world.netuid).tempo + 1)):
        chain.step()
    poller, _, reg = make_poller(chain, WatchPlan(export_all=frozenset({world.netuid})))
    assert await poller.poll()
    sn = chain.subnet(world.netuid)
    head = poller.snapshot.block
    ages = [
        head - n.last_update
        for n in sn.neurons
        if acts_as_validator(n.validator_permit, n.last_update, n.registered_at)
    ]
    assert len(ages) >= 2  # the world's validators set weights: the median means something
    labels = {"netuid": str(world.netuid)}
    assert reg.get_sample_value("bittensor_subnet_validators", labels) == len(ages)
    assert reg.get_sample_value(
        "bittensor_subnet_validator_weights_age_median_blocks", labels
    ) == statistics.median(ages)
